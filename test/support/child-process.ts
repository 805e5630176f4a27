import type { ChildProcess } from 'node:child_process';

/** SIGTERM (the roles drain), then SIGKILL after `graceMs` if the child is still there. */
export async function stopChild(child: ChildProcess | undefined, graceMs = 15_000): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  await new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve(undefined);
    }, graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(undefined);
    });
  });
}
