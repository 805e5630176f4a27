import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * One root logger per process, tagged with its role. Messages are static strings; data goes in fields.
 * Logs go to stderr so that commands printing JSON on stdout (watch, eval --json) stay machine-readable.
 */
export function createLogger(role: string, level: string = process.env.POSESTREAM_LOG_LEVEL ?? 'info'): Logger {
  return pino({ name: 'posestream', level, base: { role, pid: process.pid } }, pino.destination(2));
}
