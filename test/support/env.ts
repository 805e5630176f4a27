import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { repoRoot } from '../../pipeline/assets.js';

/** The Redis that scripts/test.sh starts for the suite; each test file takes its own database index. */
export const testRedisBaseUrl = process.env.POSESTREAM_TEST_REDIS_URL ?? 'redis://127.0.0.1:6390';

/** The MQTT broker that scripts/test.sh starts (scripts/mosquitto.sh test). */
export const testMqttUrl = process.env.POSESTREAM_TEST_MQTT_URL ?? 'mqtt://127.0.0.1:1890';

export function testRedisUrl(db: number): string {
  return `${testRedisBaseUrl.replace(/\/\d*$/, '')}/${db}`;
}

export const venvPython = process.env.POSESTREAM_PYTHON ?? path.join(repoRoot, '.venv', 'bin', 'python');

export const addonBuilt = existsSync(path.join(repoRoot, 'workers', 'inference', 'native', 'build', 'Release'));

export const testArtifactsDir = path.join(repoRoot, 'build', 'test-artifacts');

/** A TCP port free right now on 127.0.0.1, for gateways started by tests and bench scripts. */
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
