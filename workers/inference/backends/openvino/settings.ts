import type { PosestreamConfig } from '../../../../config/schema.js';
import type { EngineProfile } from '../backend.js';

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

/** model.hint ADAPTIVE compiles one model per profile, each with the hint of that name. */
export function openVinoSettings(model: PosestreamConfig['model'], profile: EngineProfile): OpenVinoSettings {
  const hint = model.hint === 'ADAPTIVE' ? (profile === 'latency' ? 'LATENCY' : 'THROUGHPUT') : model.hint;
  return { hint, cacheDir: model.cacheDir };
}
