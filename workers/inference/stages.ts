import type { PosestreamConfig } from '../../config/schema.js';
import type { Logger } from '../../pipeline/obs/logger.js';
import type { ResultStage } from '../../pipeline/stages/result-stage.js';
import type { StreamDefinitions } from '../../pipeline/streams/definition.js';
import { TrackingStage } from '../../pipeline/tracking/tracking-stage.js';

export interface StageContext {
  /** Current stream definitions: stages read their per-stream settings here (e.g. `tracking:`). */
  definitions: StreamDefinitions;
  logger: Logger;
}

/**
 * The result stages a worker runs, in order. This is where a stage plugs in: the tracker first (pipeline/tracking/,
 * adds track ids to persons; on or off per stream by its `tracking:` setting), then an event engine
 * (pipeline/events/, reads tracked results).
 */
export function configuredStages(_config: PosestreamConfig, context: StageContext): ResultStage[] {
  return [new TrackingStage(context.definitions, context.logger)];
}
