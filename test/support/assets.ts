import { existsSync } from 'node:fs';
import { assetPath, assetsDir, type SharedAssetName } from '../../pipeline/assets.js';

/**
 * Tests that need a shared asset skip with the asset's name when it is missing; with POSESTREAM_REQUIRE_ASSETS=1
 * (set by CI) a missing asset fails instead, so a CI run can never go green by skipping.
 */
export const requireAssets = process.env.POSESTREAM_REQUIRE_ASSETS === '1';

export function missingAssets(...names: SharedAssetName[]): string[] {
  return names.filter((name) => !existsSync(assetPath(name))).map((name) => assetPath(name));
}

/**
 * Use as `describe.skipIf(skipWithout('fp32Onnx'))(...)`: returns true (skip) when an asset is missing, or throws
 * when assets are required.
 */
export function skipWithout(...names: SharedAssetName[]): boolean {
  const missing = missingAssets(...names);
  if (missing.length === 0) return false;
  const message = `missing shared asset(s) under ${assetsDir()}: ${missing.join(', ')}`;
  if (requireAssets) throw new Error(`${message} (POSESTREAM_REQUIRE_ASSETS=1)`);
  console.warn(`skipping: ${message}`);
  return true;
}

export { assetPath };
