import { InvalidArgumentError, type Command } from 'commander';
import { PosestreamError } from '../../pipeline/errors.js';
import { serverMessageSchema, WIRE_VERSION, type PoseEvent, type PoseResult, type ServerMessage, type StreamResult } from '../../pipeline/wire/v1.js';

interface WatchOptions {
  count?: number;
  fromStart?: boolean;
  json?: boolean;
  events?: boolean;
  gateway?: string;
  token?: string;
  config?: string;
}

/**
 * `posestream watch STREAM`: a WebSocket client of the gateway that prints one line per result (with --json the
 * PoseResult JSON, so `| jq` works) and exits 0 after the stream's end-of-stream or --count results. With --events it
 * prints the stream's pose events instead (PoseEvent JSON with --json). Only this command's own lines go to stdout;
 * notices and errors go to stderr.
 */
export function registerWatchCommand(program: Command): void {
  program
    .command('watch')
    .description("print a stream's pose results (or with --events its pose events) from the gateway, one line each")
    .argument('<stream>', 'stream id')
    .option('--events', 'print pose events (falls, postures, zones, line crossings, ...) instead of results')
    .option('-n, --count <n>', 'exit after this many results (events with --events)', parsePositiveInt)
    .option('--from-start', 'first replay what is retained in Redis, then follow live')
    .option('--json', 'print each PoseResult (PoseEvent with --events) as one JSON line')
    .option('--gateway <url>', 'gateway URL (ws://host:port or http://host:port; default from the config)')
    .option('--token <token>', 'gateway token (default gateway.token from the config)')
    .option('-c, --config <file>', 'config file, for the gateway address and token')
    .action(async (stream: string, options: WatchOptions) => {
      const target = await resolveGateway(options);
      process.exitCode = await watchStream(stream, { ...options, ...target });
    });
}

function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

/** ws://host:port/ws from --gateway (http(s) or ws(s), path optional) or from the config's gateway section. */
export function gatewayWsUrl(base: string): string {
  let url: URL;
  try {
    url = new URL(/^[a-z]+:\/\//i.test(base) ? base : `ws://${base}`);
  } catch {
    throw new PosestreamError('PS_WATCH_BAD_URL', `--gateway: not a URL: "${base}"`);
  }
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  else if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
    throw new PosestreamError('PS_WATCH_BAD_URL', `--gateway: unsupported scheme "${url.protocol}" (use ws://, wss://, http:// or https://)`);
  }
  if (url.pathname === '/' || url.pathname === '') url.pathname = '/ws';
  return url.toString();
}

async function resolveGateway(options: WatchOptions): Promise<{ gateway: string; token?: string }> {
  if (options.gateway && options.token !== undefined) return { gateway: gatewayWsUrl(options.gateway), token: options.token };
  const { loadConfig } = await import('../../config/load.js');
  let config;
  try {
    config = loadConfig(options.config).config;
  } catch (error) {
    if (options.gateway) return { gateway: gatewayWsUrl(options.gateway) }; // no usable config: no token from it
    throw error;
  }
  const host = ['0.0.0.0', '::'].includes(config.gateway.host) ? '127.0.0.1' : config.gateway.host;
  const gateway = gatewayWsUrl(options.gateway ?? `ws://${host.includes(':') ? `[${host}]` : host}:${config.gateway.port}`);
  const token = options.token ?? config.gateway.token;
  return token === undefined ? { gateway } : { gateway, token };
}

/**
 * A short human line: "walking #12  2 persons (#3 0.91, #5 0.85)  latency 48 ms = decode 3 + queue 12 + infer 28 + post 2"
 * (`#id` for tracked persons, `new` for one waiting for its id; just the score on untracked streams).
 */
export function formatResultLine(result: PoseResult): string {
  const t = result.timings;
  const latency = Math.round(result.publishedTs - result.captureTs);
  const label = (p: PoseResult['persons'][number]) => (p.trackId !== undefined ? `#${p.trackId} ` : p.trackState === 'tentative' ? 'new ' : '');
  const tracked = result.persons.some((p) => p.trackState !== undefined);
  const scores = result.persons.map((p) => `${label(p)}${p.score.toFixed(2)}`).join(tracked ? ', ' : ' ');
  const persons = `${result.persons.length} person${result.persons.length === 1 ? '' : 's'}${scores ? ` (${scores})` : ''}`;
  const stages = `decode ${t.decodeMs.toFixed(0)} + queue ${t.queueMs.toFixed(0)} + infer ${t.inferMs.toFixed(0)} + post ${t.postMs.toFixed(0)}`;
  return `${result.streamId} #${result.seq}  ${persons}  latency ${latency} ms = ${stages}`;
}

/** A short human line: "hall fall track 3 at #812 (onset #790, 1.5 s) conf 0.83 drop=0.65 ...". */
export function formatEventLine(event: PoseEvent): string {
  const who = event.trackId === undefined ? '' : ` track ${event.trackId}`;
  const where = event.zone ? ` zone ${event.zone}` : event.line ? ` line ${event.line}${event.direction ? ` ${event.direction}` : ''}` : '';
  const since = event.atSeq === event.seq ? '' : ` (from #${event.seq}, ${((event.atCaptureTs - event.captureTs) / 1000).toFixed(1)} s)`;
  const details = Object.entries(event.attributes).map(([key, value]) => `${key}=${value}`).join(' ');
  return `${event.streamId} ${event.type}${who}${where} at #${event.atSeq}${since} conf ${event.confidence.toFixed(2)}${details ? `  ${details}` : ''}${event.snapshot ? '  [snapshot]' : ''}`;
}

function describeEnd(result: Extract<StreamResult, { kind: 'eos' }>): string {
  return `end of stream ${result.streamId}: ${result.reason}${result.message ? ` (${result.message})` : ''}, last frame #${result.lastSeq}`;
}

async function watchStream(streamId: string, options: WatchOptions & { gateway: string; token?: string }): Promise<number> {
  const { default: WebSocket } = await import('ws');
  const headers = options.token ? { Authorization: `Bearer ${options.token}` } : undefined;
  const socket = new WebSocket(options.gateway, headers ? { headers } : {});
  let printed = 0;
  const write = (line: string) => process.stdout.write(`${line}\n`);
  const fail = (code: string, message: string) => new PosestreamError(code, message);

  return await new Promise<number>((resolve, reject) => {
    let finished = false;
    const finish = (outcome: number | PosestreamError) => {
      if (finished) return;
      finished = true;
      socket.removeAllListeners('close');
      socket.close();
      if (typeof outcome === 'number') resolve(outcome);
      else reject(outcome);
    };
    socket.on('unexpected-response', (_request, response) => {
      const status = response.statusCode ?? 0;
      const why = status === 401 ? 'the token was refused (use --token or gateway.token)' : status === 403 ? 'this origin is not allowed' : `HTTP ${status}`;
      finish(fail('PS_WATCH_REFUSED', `the gateway at ${options.gateway} refused the connection: ${why}`));
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      const reason = error.code ?? error.message;
      finish(fail('PS_WATCH_UNREACHABLE', `cannot reach the gateway at ${options.gateway}: ${reason} (is \`posestream gateway\` or \`posestream run\` running?)`));
    });
    socket.on('close', (code, reason) => {
      finish(fail('PS_WATCH_CLOSED', `the gateway closed the connection (${code}${reason.length ? ` ${reason.toString()}` : ''}) after ${printed} ${options.events ? 'event' : 'result'}(s)`));
    });
    socket.on('message', (data, isBinary) => {
      // Messages already in flight when we finished (the close handshake takes a moment) are not ours to print.
      if (isBinary || finished) return;
      let message: ServerMessage;
      try {
        message = serverMessageSchema.parse(JSON.parse(data.toString()));
      } catch (error) {
        process.stderr.write(`posestream: ignoring a message the gateway sent that does not match wire v1: ${(error as Error).message.split('\n')[0]}\n`);
        return;
      }
      switch (message.type) {
        case 'hello':
          socket.send(JSON.stringify({ v: WIRE_VERSION, type: 'subscribe', id: 'watch', streams: [streamId], channels: [options.events ? 'events' : 'results'], fromStart: options.fromStart === true }));
          return;
        case 'error':
          if (message.code === 'PS_WS_UNKNOWN_STREAM') finish(fail('PS_STREAM_NOT_FOUND', `unknown stream "${streamId}": ${message.message}`));
          else finish(fail(message.code, `the gateway answered: ${message.message}`));
          return;
        case 'dropped':
          process.stderr.write(`posestream: the gateway dropped ${message.count} ${message.channel} message(s) for this slow client\n`);
          return;
        case 'result': {
          const { result } = message;
          if (result.streamId !== streamId) return;
          if (result.kind === 'eos') {
            process.stderr.write(`${describeEnd(result)}\n`);
            finish(0);
            return;
          }
          if (options.events) return;
          write(options.json ? JSON.stringify(result) : formatResultLine(result));
          printed += 1;
          if (options.count !== undefined && printed >= options.count) finish(0);
          return;
        }
        case 'event': {
          const { event } = message;
          if (event.streamId !== streamId || !options.events) return;
          write(options.json ? JSON.stringify(event) : formatEventLine(event));
          printed += 1;
          if (options.count !== undefined && printed >= options.count) finish(0);
          return;
        }
        default:
          return;
      }
    });
  });
}
