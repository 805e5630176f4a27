import type { Command } from 'commander';
import { PosestreamError } from '../../pipeline/errors.js';
import { positiveInt, positiveNumber } from '../bench/options.js';

/** `posestream bench transport`: see cli/bench/transport.ts. */
export function registerBench(bench: Command): void {
  bench
    .command('transport')
    .description('frames/s and MB/s through the Redis frame path (publish -> read -> ack): one Redis vs a 3-shard cluster, with the CPU each used')
    .option('--cluster <urls>', 'measure this Redis Cluster (comma-separated node URLs; it is FLUSHED) instead of starting one')
    .option('--replicas', 'also run the started cluster with one replica per shard, without and with WAIT (the cost of redis.losslessReplicas)')
    .option('--streams <n>', 'frame streams', '8')
    .option('--clients <n>', 'client processes (each publishes and consumes its share of the streams)', '2')
    .option('--frame-bytes <n>', 'bytes per synthetic frame (640x480 RGB = 921600)', '921600')
    .option('--queue <n>', 'lossless queue bound per stream (ingest.losslessQueueLength)', '32')
    .option('--seconds <n>', 'measured seconds per run', '10')
    .option('--warmup <n>', 'seconds before measuring', '2')
    .option('--follow-streams <n>', 'streams one reader follows in the follow phase (the read path on idle streams)', '100')
    .option('--follow-seconds <n>', 'seconds of the follow phase per run', '5')
    .option('--json', 'print one JSON object')
    .option('--client <spec>', 'internal: run one client process with this JSON spec')
    .action(async (options: Record<string, string | boolean | undefined>) => {
      if (typeof options.client === 'string') {
        const { runTransportClient } = await import('../bench/transport-client.js');
        const result = await runTransportClient(JSON.parse(options.client));
        // The numbers are out; a handle left by a closed cluster client must not keep the process (seen once).
        process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(0));
        return;
      }
      const frameBytes = positiveInt(options.frameBytes, '--frame-bytes');
      if (frameBytes % 3 !== 0) throw new PosestreamError('PS_CLI_BAD_OPTION', `--frame-bytes must be a multiple of 3 (RGB pixels), got ${frameBytes}`);
      const { runTransportBench, formatTransportBench } = await import('../bench/transport.js');
      const cluster = typeof options.cluster === 'string' ? options.cluster.split(',').map((url) => url.trim()).filter(Boolean) : undefined;
      const result = await runTransportBench({
        seconds: positiveNumber(options.seconds, '--seconds'),
        warmup: Number(options.warmup ?? 2),
        followStreams: positiveInt(options.followStreams, '--follow-streams'),
        followSeconds: positiveNumber(options.followSeconds, '--follow-seconds'),
        streams: positiveInt(options.streams, '--streams'),
        clients: positiveInt(options.clients, '--clients'),
        frameBytes,
        queueLength: positiveInt(options.queue, '--queue'),
        replicas: options.replicas === true,
        ...(cluster ? { cluster } : {}),
      });
      process.stdout.write(options.json ? `${JSON.stringify(result)}\n` : `${formatTransportBench(result)}\n`, () => process.exit(0));
    });
}
