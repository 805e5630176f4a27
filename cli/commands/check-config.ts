import type { Command } from 'commander';
import { loadConfig } from '../../config/load.js';
import type { PosestreamConfig } from '../../config/schema.js';
import { redactSecrets, urlOrigin } from '../../pipeline/obs/redact.js';

/** The effective configuration as printed: secrets masked, and every URL password gone (the one redaction point). */
export function printableConfig(config: PosestreamConfig): string {
  return redactSecrets(JSON.stringify(withSecretsMasked(config), null, 2));
}

export function registerCheckConfigCommand(program: Command): void {
  program
    .command('check-config')
    .description('validate the config file and print the effective configuration')
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
          `${redactSecrets(file)}: OK (${config.streams.length} stream(s), model ${config.model.path} on ${config.model.device}; gateway ${host}:${port}, ${access})\n`,
        );
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
