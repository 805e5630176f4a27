/**
 * One ingest process for tests that need real process death (kill -9): `node --import tsx ingest-process.ts <config
 * JSON> <processId>`. Prints "READY" once started; SIGTERM stops it cleanly (streams released to other processes).
 */
import pino from 'pino';
import { configSchema } from '../../config/schema.js';
import { startIngest } from '../../workers/ingest/main.js';

const [configJson, processId] = process.argv.slice(2);
const config = configSchema.parse(JSON.parse(configJson!));
const logger = pino({ level: process.env.POSESTREAM_TEST_LOG ?? 'warn' }, pino.destination(2));
const ingest = await startIngest(config, { logger, processId });
process.once('SIGTERM', () => {
  void ingest.stop().then(() => process.exit(0));
});
process.stdout.write('READY\n');
