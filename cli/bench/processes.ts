import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { repoRoot } from '../../pipeline/assets.js';
import { PosestreamError } from '../../pipeline/errors.js';

/**
 * Child processes for benchmarks: tools run to completion (benchmark_app), posestream roles run beside the benchmark
 * (soak, ws-load), and what /proc says about them. One place, so every benchmark stops its children the same way
 * and none outlives it.
 */

export interface ProcessRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a tool to its end, output captured; a tool that cannot start is PS_BENCH_TOOL_FAILED. */
export function runProcess(command: string, args: string[]): Promise<ProcessRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', (error) => reject(new PosestreamError('PS_BENCH_TOOL_FAILED', `cannot start ${command}: ${error.message}`, { cause: error })));
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export type RoleProcess = ChildProcess & { tail(): string };

/**
 * `posestream <role> --config <file>` as a child process (log level warn unless given, JSON lines). Its output is
 * appended to `logFile` when given, else the last 4 KB of stderr are kept for error messages (tail()).
 */
export function spawnRole(role: string, configFile: string, options: { logFile?: string; logLevel?: string } = {}): RoleProcess {
  const log = options.logFile ? openSync(options.logFile, 'a') : undefined;
  const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'posestream.cjs'), role, '--config', configFile], {
    cwd: repoRoot,
    env: { ...process.env, POSESTREAM_LOG_LEVEL: options.logLevel ?? 'warn', POSESTREAM_LOG_FORMAT: 'json' },
    stdio: log === undefined ? ['ignore', 'ignore', 'pipe'] : ['ignore', log, log],
  });
  let tail = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (tail = (tail + chunk).slice(-4000)));
  return Object.assign(child, { tail: () => tail });
}

/** SIGTERM (which drains), then SIGKILL after graceMs; resolves with the exit code, the signal, or 'killed'. */
export function stopChild(child: ChildProcess, graceMs: number): Promise<number | string> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  if (child.signalCode !== null) return Promise.resolve(child.signalCode);
  return new Promise((resolve) => {
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      child.kill('SIGKILL');
    }, graceMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve(killed ? `no exit within ${graceMs / 1000} s of SIGTERM (killed)` : (code ?? signal ?? -1));
    });
    child.kill('SIGTERM');
  });
}

let clockTicks: number | undefined;

/** Linux clock ticks per second (getconf CLK_TCK; 100 when it cannot say). */
function ticksPerSecond(): number {
  clockTicks ??= Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
  return clockTicks;
}

/** utime + stime of a running process, in seconds (fields 14 and 15 of /proc/<pid>/stat, after "(comm)"). */
export function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond();
}

/** CPU seconds (user + system) and resident memory of a process, from /proc; NaN when it is gone. */
export function processSample(pid: number | undefined): { cpuSeconds: number; rssMb: number } {
  try {
    const cpuSeconds = processCpuSeconds(pid!);
    const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return { cpuSeconds, rssMb: Number(rss?.[1] ?? Number.NaN) / 1024 };
  } catch {
    return { cpuSeconds: Number.NaN, rssMb: Number.NaN };
  }
}

/** A TCP port free right now on 127.0.0.1 (for a gateway a benchmark or test starts). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
