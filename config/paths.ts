import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root, whatever the working directory of the process. */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * The shared test and benchmark assets (models, datasets, media) are third-party files that never enter the
 * repository. They are found through one setting: POSESTREAM_ASSETS, default `<repo>/../shared`; config files may
 * say `${POSESTREAM_ASSETS}`.
 */
export function assetsDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(env.POSESTREAM_ASSETS ?? path.join(repoRoot, '..', 'shared'));
}
