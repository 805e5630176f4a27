import type { PoseEvent } from '../../pipeline/wire/v1.js';

/**
 * What a notifier sink is to the loop that feeds it. The loop reads events from Redis and hands each to the sink
 * once; the sink settles it exactly once:
 *  - delivered: acknowledged in Redis;
 *  - dropped: acknowledged in Redis too (the sink gave up on it and counted why);
 *  - retry: left pending in Redis and re-read from this consumer's pending history a little later.
 */
export type DeliveryOutcome = 'delivered' | 'dropped' | 'retry';

export interface EventDelivery {
  readonly streamId: string;
  readonly entryId: string;
  readonly event: PoseEvent;
  settle(outcome: DeliveryOutcome): void;
}

export type SinkKind = 'mqtt' | 'webhook';

export interface Sink {
  readonly kind: SinkKind;
  /** False while the sink cannot take events (MQTT broker unreachable): new events then wait in Redis. */
  ready(): boolean;
  /** Deliveries handed over and not yet settled, beyond which the loop stops reading. */
  readonly maxInFlight: number;
  /** The followed streams changed (MQTT announces and retracts Home Assistant entities per stream). */
  streamsChanged?(added: string[], removed: string[]): void;
  deliver(delivery: EventDelivery): void;
  /** Stops delivering; deliveries still open are settled 'retry' or left to settle on their own. */
  close(): Promise<void>;
}
