import type { Command } from 'commander';
import { loadConfig } from '../../config/load.js';
import type { PosestreamConfig } from '../../config/schema.js';
import { redactSecrets, urlOrigin } from '../../pipeline/obs/redact.js';
import { describeRedisTarget } from '../../pipeline/redis/client.js';
import { estimateRedisMemory, formatBytes, type MemoryEstimate, type MemorySettings } from '../../pipeline/redis/memory.js';

/** The effective configuration as printed: secrets masked, and every URL password gone (the one redaction point). */
export function printableConfig(config: PosestreamConfig): string {
  return redactSecrets(JSON.stringify(withSecretsMasked(config), null, 2));
}

export function registerCheckConfigCommand(program: Command): void {
  program
    .command('check-config')
    .description('validate the config file, print the effective configuration and the Redis memory it needs (estimate)')
    .option('-c, --config <file>', 'config file (default config/posestream.yaml or $POSESTREAM_CONFIG)')
    .option('--json', 'print the effective configuration as JSON (secrets masked)')
    .action((options: { config?: string; json?: boolean }) => {
      const { config, file } = loadConfig(options.config);
      if (options.json) {
        process.stdout.write(`${printableConfig(config)}\n`);
      } else {
        const { host, port, token } = config.gateway;
        const access = token ? 'token required' : config.gateway.allowUnauthenticated ? 'NO token (allowUnauthenticated)' : 'no token';
        process.stdout.write(
          `${redactSecrets(file)}: OK (${config.streams.length} stream(s), model ${config.model.path} on ${config.model.device}; gateway ${host}:${port}, ${access}; redis ${describeRedisTarget(config.redis)})\n`,
        );
        process.stdout.write(formatMemoryEstimate(configMemoryEstimate(config)));
      }
    });
}

const MASK = '***';

/** The gateway token, MQTT password, webhook secrets and URL credentials/paths (often tokens) are never printed. */
export function withSecretsMasked(config: PosestreamConfig): unknown {
  const { mqtt, webhooks } = config.notify;
  return {
    ...config,
    gateway: { ...config.gateway, token: config.gateway.token ? MASK : undefined },
    notify: {
      ...config.notify,
      mqtt: mqtt && { ...mqtt, url: urlOrigin(mqtt.url), password: mqtt.password ? MASK : undefined },
      webhooks: webhooks.map((hook) => ({ ...hook, url: `${urlOrigin(hook.url)}/${MASK}`, secret: MASK })),
    },
  };
}

/** The Redis memory a configuration needs with every bound reached (pipeline/redis/memory.ts). */
export function configMemoryEstimate(config: PosestreamConfig): MemoryEstimate {
  return estimateRedisMemory(config.streams, memorySettingsOf(config));
}

/** The settings of a configuration that bound what Redis holds. */
export function memorySettingsOf(config: PosestreamConfig): MemorySettings {
  return {
    inputSize: config.model.inputSize,
    inputFormat: config.model.inputFormat,
    liveQueueLength: config.ingest.liveQueueLength,
    losslessQueueLength: config.ingest.losslessQueueLength,
    resultsRetention: config.results.retention,
    resultsMaxAgeSec: config.results.maxAgeSec,
    eventsRetentionSec: config.events.retentionSec,
  };
}

export function formatMemoryEstimate(estimate: MemoryEstimate): string {
  const row = (cells: string[]) => `  ${cells[0]!.padEnd(20)}${cells.slice(1).map((c) => c.padStart(10)).join('')}\n`;
  const mb = formatBytes;
  let text = `estimated redis memory with every bound reached (frame ${mb(estimate.frameBytes)}, result ${(estimate.resultBytes / 1024).toFixed(1)} KB with 2 persons):\n`;
  text += row(['stream', 'mode', 'frames', 'results', 'events', 'preview', 'total']);
  for (const s of estimate.streams) text += row([s.id, s.mode, mb(s.frames), mb(s.results), mb(s.events), mb(s.preview), mb(s.total)]);
  text += row(['(redis, global keys)', '', '', '', '', '', mb(estimate.base)]);
  text += `  total ${mb(estimate.total)}: set maxmemory above it (maxmemory-policy noeviction)\n`;
  return text;
}
