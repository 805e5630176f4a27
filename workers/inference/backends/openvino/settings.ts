import type { PosestreamConfig } from '../../../../config/schema.js';

/**
 * The options only OpenVINO has, in one place. In the config they are `model.hint` and `model.cacheDir` (kept where
 * they always were); everything else reaches the backend as a BackendRequest.
 */
export interface OpenVinoSettings {
  /** PERFORMANCE_HINT: THROUGHPUT for workers, LATENCY for one image at a time (`posestream infer`). */
  hint?: 'THROUGHPUT' | 'LATENCY' | 'CUMULATIVE_THROUGHPUT';
  /** CACHE_DIR: compiled models are cached here, which makes restarts (and GPU starts) fast. */
  cacheDir?: string;
}

export function openVinoSettings(model: PosestreamConfig['model']): OpenVinoSettings {
  return { hint: model.hint, cacheDir: model.cacheDir };
}
