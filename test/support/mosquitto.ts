import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { userInfo } from 'node:os';
import path from 'node:path';
import { freePort, testArtifactsDir } from './env.js';

/**
 * A private mosquitto (Debian's, /usr/sbin) for tests that stop and restart the broker, on its own port so the
 * suite's shared broker (scripts/mosquitto.sh test) is never disturbed. Persistence is on: like a production
 * broker, a restart keeps retained messages and persistent sessions (it saves them on SIGTERM).
 */
export interface TestBroker {
  readonly url: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export const mosquittoBinary = process.env.MOSQUITTO ?? '/usr/sbin/mosquitto';

export async function startTestBroker(name: string): Promise<TestBroker> {
  const port = await freePort();
  const dir = path.join(testArtifactsDir, `mosquitto-${name}-${port}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const conf = path.join(dir, 'mosquitto.conf');
  writeFileSync(
    conf,
    [`listener ${port} 127.0.0.1`, 'allow_anonymous true', `user ${userInfo().username}`, 'persistence true', `persistence_location ${dir}/`, `log_dest file ${dir}/mosquitto.log`, ''].join('\n'),
  );
  let child: ChildProcess | undefined;
  const broker: TestBroker = {
    url: `mqtt://127.0.0.1:${port}`,
    async start() {
      child = spawn(mosquittoBinary, ['-c', conf], { stdio: 'ignore' });
      await waitForPort(port, 10_000);
    },
    async stop() {
      const running = child;
      child = undefined;
      if (!running || running.exitCode !== null) return;
      await new Promise<void>((resolve) => {
        running.once('exit', () => resolve());
        running.kill('SIGTERM');
      });
    },
  };
  await broker.start();
  return broker;
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`mosquitto did not listen on ${port} within ${timeoutMs} ms`);
}
