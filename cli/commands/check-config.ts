import type { Command } from 'commander';
import { loadConfig } from '../../config/load.js';
import type { PosestreamConfig } from '../../config/schema.js';
import { redactSecrets } from '../../pipeline/obs/redact.js';

/** The effective configuration as printed: the token masked, and every URL password gone (the one redaction point). */
export function printableConfig(config: PosestreamConfig): string {
  const masked = { ...config, gateway: { ...config.gateway, token: config.gateway.token ? '***' : undefined } };
  return redactSecrets(JSON.stringify(masked, null, 2));
}

export function registerCheckConfigCommand(program: Command): void {
  program
    .command('check-config')
    .description('validate the config file and print the effective configuration')
    .option('-c, --config <file>', 'config file (default config/posestream.yaml or $POSESTREAM_CONFIG)')
    .option('--json', 'print the effective configuration as JSON')
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
