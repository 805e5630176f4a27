import type { ModelBackend, PosestreamConfig } from '../../../config/schema.js';
import type { BackendRequest, EngineProfile, PoseBackend } from './backend.js';
import { openVinoSettings, type OpenVinoSettings } from './openvino/settings.js';

export type { BackendDescription, BackendRequest, EngineProfile, InputFormat, PoseBackend } from './backend.js';

/** Runtime-specific settings, each backend's under its name. */
export interface BackendSettings {
  openvino?: OpenVinoSettings;
}

/**
 * Every backend by its `model.backend` name; loaded on first use, so a runtime that is not used is never loaded.
 * The record is typed by MODEL_BACKENDS, so a name added to the config without a backend here does not compile.
 */
const BACKENDS: Record<ModelBackend, (request: BackendRequest, settings: BackendSettings) => Promise<PoseBackend>> = {
  openvino: async (request, settings) => (await import('./openvino/backend.js')).compileOpenVino(request, settings.openvino ?? {}),
};

export function compileBackend(name: ModelBackend, request: BackendRequest, settings: BackendSettings = {}): Promise<PoseBackend> {
  return BACKENDS[name](request, settings);
}

/**
 * The runtime-specific settings the config holds for the chosen backend; `profile` picks the latency or the
 * throughput compilation when model.hint is ADAPTIVE (ignored otherwise).
 */
export function backendSettings(model: PosestreamConfig['model'], profile: EngineProfile = 'throughput'): BackendSettings {
  return { openvino: openVinoSettings(model, profile) };
}
