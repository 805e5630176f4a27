import { existsSync } from 'node:fs';
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

export const addonBuilt = existsSync(path.join(repoRoot, 'workers', 'inference', 'backends', 'openvino', 'build', 'Release'));

export const testArtifactsDir = path.join(repoRoot, 'build', 'test-artifacts');

export { freePort } from '../../cli/bench/processes.js';
