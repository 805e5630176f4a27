import { Command } from 'commander';
import { registerBenchCommand } from './commands/bench.js';
import { registerCheckConfigCommand } from './commands/check-config.js';
import { registerEvalCommand } from './commands/eval.js';
import { registerGatewayCommand } from './commands/gateway.js';
import { registerInferCommand } from './commands/infer.js';
import { registerModelsCommand } from './commands/models.js';
import { registerRoleCommands } from './commands/roles.js';
import { registerWatchCommand } from './commands/watch.js';
import { reportCliError } from './report-error.js';

/**
 * The one composition root. Each command module only declares its options here; heavy modules (the OpenVINO
 * addon, GStreamer, the gateway) are imported lazily inside the action, so `posestream watch` never loads them.
 */
const program = new Command('posestream')
  .description('Pose analytics for camera streams: YOLOv8-pose on OpenVINO, GStreamer ingest, Redis, WebSocket')
  .showHelpAfterError()
  // Lets a command with subcommands keep its options apart from theirs (`eval --model` vs `eval track --model`).
  .enablePositionalOptions()
  .exitOverride();

registerCheckConfigCommand(program);
registerRoleCommands(program);
registerGatewayCommand(program);
registerWatchCommand(program);
registerInferCommand(program);
registerEvalCommand(program);
registerBenchCommand(program);
registerModelsCommand(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  process.exitCode = reportCliError(error);
}
