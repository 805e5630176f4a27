import type { Command } from 'commander';
import { loadConfig } from '../../config/load.js';

export function registerCheckConfigCommand(program: Command): void {
  program
    .command('check-config')
    .description('validate the config file and print the effective configuration')
    .option('-c, --config <file>', 'config file (default config/posestream.yaml or $POSESTREAM_CONFIG)')
    .option('--json', 'print the effective configuration as JSON')
    .action((options: { config?: string; json?: boolean }) => {
      const { config, file } = loadConfig(options.config);
      if (options.json) {
        process.stdout.write(`${JSON.stringify({ ...config, gateway: { ...config.gateway, token: config.gateway.token ? '***' : undefined } }, null, 2)}\n`);
      } else {
        process.stdout.write(`${file}: OK (${config.streams.length} stream(s), model ${config.model.path} on ${config.model.device})\n`);
      }
    });
}
