import { CommanderError } from 'commander';
import { ConfigError } from '../config/load.js';
import { isPosestreamError } from '../pipeline/errors.js';

/** Bad input exits with 2 and one clear message; an unexpected failure keeps its stack for the bug report. */
export function reportCliError(error: unknown): number {
  if (error instanceof CommanderError) {
    return error.exitCode === 0 ? 0 : 2;
  }
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
    return 2;
  }
  if (isPosestreamError(error)) {
    process.stderr.write(`posestream: ${error.message} [${error.code}]\n`);
    return 2;
  }
  process.stderr.write(`posestream: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  return 1;
}
