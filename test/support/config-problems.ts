import { ConfigError, parseConfig } from '../../config/load.js';

/** The problems a config text has (each naming its field), [] when it is valid. Any other error is thrown. */
export function configProblems(text: string, env: NodeJS.ProcessEnv = {}, file = '/etc/posestream/test.yaml'): string[] {
  try {
    parseConfig(text, file, env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    if (!error.message.includes(file)) throw new Error(`the config error does not name the file: ${error.message}`);
    return error.problems;
  }
  return [];
}
