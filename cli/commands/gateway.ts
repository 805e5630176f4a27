import type { Command } from 'commander';
import { runRoles } from './roles.js';

/** `posestream gateway`: the WebSocket/REST/dashboard role alone (the role machinery lives in roles.ts). */
export function registerGatewayCommand(program: Command): void {
  program
    .command('gateway')
    .description('run the gateway role: WebSocket results and frames, REST for streams, dashboard, /metrics')
    .option('-c, --config <file>', 'config file')
    .action((options: { config?: string }) => runRoles(['gateway'], options.config));
}
