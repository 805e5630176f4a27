import type { PosestreamConfig } from '../../config/schema.js';
import type { ResultStage } from '../../pipeline/stages/result-stage.js';

/**
 * The result stages a worker runs, in order, from the config. This is where a stage plugs in: a tracker first
 * (pipeline/tracking/, adds track ids to persons), then an event engine (pipeline/events/, reads tracked results),
 * each enabled by its own config section. None is configured yet, so results pass through unchanged.
 */
export function configuredStages(_config: PosestreamConfig): ResultStage[] {
  return [];
}
