import pino, { type DestinationStream, type Logger } from 'pino';
import pretty from 'pino-pretty';
import { redactingDestination } from './redact.js';

export type { Logger };

export interface LoggerOptions {
  level?: string;
  /** Human-readable lines instead of JSON. Default: when stderr is a terminal (an operator reading it). */
  pretty?: boolean;
  /** Where lines go (tests capture them); default stderr. */
  destination?: NodeJS.WritableStream;
}

/**
 * One root logger per process, tagged with its role. Messages are static strings; data goes in fields.
 * Logs go to stderr so that commands printing JSON on stdout (watch, eval --json) stay machine-readable: JSON lines
 * for log collectors, coloured single lines when a person watches the terminal. Every line passes through
 * redactSecrets first (see redact.ts), so a camera password in a URL, an error text or a bound field never reaches
 * a log.
 */
export function createLogger(role: string, levelOrOptions: string | LoggerOptions = {}): Logger {
  const options = typeof levelOrOptions === 'string' ? { level: levelOrOptions } : levelOrOptions;
  const level = options.level ?? process.env.POSESTREAM_LOG_LEVEL ?? 'info';
  const human = options.pretty ?? (process.env.POSESTREAM_LOG_FORMAT ? process.env.POSESTREAM_LOG_FORMAT === 'pretty' : process.stderr.isTTY === true);
  const out = options.destination ?? pino.destination(2);
  const sink = human ? pretty({ destination: out, sync: true, colorize: options.destination === undefined && process.stderr.isTTY === true, ignore: 'pid,hostname', translateTime: 'HH:MM:ss.l' }) : out;
  return pino({ name: 'posestream', level, base: { role, pid: process.pid } }, redactingDestination(sink) as DestinationStream);
}
