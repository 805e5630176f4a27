import type { PosestreamConfig } from '../../config/schema.js';
import { EventStage } from '../../pipeline/events/event-stage.js';
import type { Logger } from '../../pipeline/obs/logger.js';
import type { ResultStage } from '../../pipeline/stages/result-stage.js';
import type { StreamDefinitions } from '../../pipeline/streams/definition.js';
import { TrackingStage } from '../../pipeline/tracking/tracking-stage.js';

export interface StageContext {
  /** Current stream definitions: stages read their per-stream settings here (`tracking:`, `events:`). */
  definitions: StreamDefinitions;
  logger: Logger;
}

/**
 * The result stages a worker runs, in order: the tracker first (pipeline/tracking/, adds track ids to persons; on or
 * off per stream by its `tracking:` setting), then the event engine (pipeline/events/, turns tracked results into
 * events by the stream's `events:` rules, written with the results; without tracking it has no one to follow).
 */
export function configuredStages(config: PosestreamConfig, context: StageContext): ResultStage[] {
  return [
    new TrackingStage(context.definitions, context.logger),
    new EventStage({
      rules: context.definitions,
      retentionMs: config.events.retentionSec * 1000,
      snapshotQuality: config.events.snapshotQuality,
      logger: context.logger,
    }),
  ];
}
