import type { ChildProcess } from 'node:child_process';
import { stopChild as stopProcess } from '../../cli/bench/processes.js';

/** SIGTERM (the roles drain), then SIGKILL after `graceMs` if the child is still there (cli/bench/processes.ts). */
export async function stopChild(child: ChildProcess | undefined, graceMs = 15_000): Promise<void> {
  if (child) await stopProcess(child, graceMs);
}
