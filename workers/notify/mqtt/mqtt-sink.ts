import { hostname } from 'node:os';
import mqtt, { type IClientPublishOptions, type MqttClient } from 'mqtt';
import type { MqttSinkConfig } from '../../../config/notify.js';
import { describeError } from '../../../pipeline/errors.js';
import type { Logger } from '../../../pipeline/obs/logger.js';
import type { Metrics } from '../../../pipeline/obs/metrics.js';
import { urlOrigin } from '../../../pipeline/obs/redact.js';
import type { PoseEvent } from '../../../pipeline/wire/v1.js';
import { BurstLog } from '../burst-log.js';
import type { EventDelivery, Sink } from '../sink.js';
import { HaStateTracker, type StateUpdate } from './ha-state.js';
import {
  AVAILABLE,
  FALL_OFF,
  FALL_ON,
  retractDiscovery,
  streamDiscovery,
  TopicLayout,
  UNAVAILABLE,
  zoneDiscovery,
  type DiscoveryContext,
  type DiscoveryMessage,
} from './topics.js';

/**
 * Delivers events to an MQTT broker (mqtt.js) and keeps Home Assistant's view current: discovery configs and the
 * availability topic (retained, with `offline` as last will), fall and occupancy state topics.
 *
 * A dead or restarting broker blocks nothing: mqtt.js reconnects every `reconnectMs`, the sink reports not-ready
 * meanwhile so new events stay in Redis, and QoS 1/2 publishes already handed to mqtt.js are re-sent after the
 * reconnect. An event is settled 'delivered' (and acknowledged in Redis) only when the broker acknowledged its
 * event and state messages (QoS >= 1); a failed publish settles 'retry'.
 */

/** Deliveries handed to mqtt.js and not yet acknowledged by the broker. */
const MAX_IN_FLIGHT = 256;
/** A clean stop waits this long for `offline` to reach the broker. */
const CLOSE_TIMEOUT_MS = 2_000;

export interface MqttSinkOptions {
  logger: Logger;
  metrics?: Metrics;
  version: string;
  /** The stored JPEG of an event, when there is one (`event.snapshot`). */
  snapshot: (streamId: string, eventId: string) => Promise<Buffer | undefined>;
  /** Called when the broker connection is (re-)established, so the reading loop wakes up. */
  onReady: () => void;
}

export class MqttSink implements Sink {
  readonly kind = 'mqtt';
  readonly maxInFlight = MAX_IN_FLIGHT;
  private readonly layout: TopicLayout;
  private readonly discovery: DiscoveryContext;
  private readonly state = new HaStateTracker();
  /** Streams announced to Home Assistant, and the zones announced per stream. */
  private readonly streams = new Set<string>();
  private readonly announcedZones = new Map<string, Set<string>>();
  private readonly client: MqttClient;
  private readonly log: Logger;
  private readonly outage: BurstLog;
  private closing = false;

  constructor(
    private readonly config: MqttSinkConfig,
    private readonly options: MqttSinkOptions,
  ) {
    this.layout = new TopicLayout(config);
    this.discovery = { layout: this.layout, version: options.version };
    const broker = urlOrigin(config.url);
    this.log = options.logger.child({ sink: 'mqtt', broker });
    this.outage = new BurstLog(this.log, { first: `mqtt broker ${broker} unreachable; events wait in redis, reconnecting`, ended: 'mqtt broker reachable again' });
    this.client = mqtt.connect(config.url, {
      clientId: config.clientId ?? `posestream-${hostname()}-${process.pid}`,
      ...(config.username === undefined ? {} : { username: config.username }),
      ...(config.password === undefined ? {} : { password: config.password }),
      reconnectPeriod: config.reconnectMs,
      connectTimeout: 10_000,
      will: { topic: this.layout.availability, payload: Buffer.from(UNAVAILABLE), qos: 1, retain: true },
    });
    this.client.on('connect', () => this.connected());
    this.client.on('close', () => {
      options.metrics?.notifyConnected.set({ sink: 'mqtt' }, 0);
      if (!this.closing) this.outage.hit({ reason: 'connection closed' });
    });
    this.client.on('error', (error) => {
      if (!this.closing) this.outage.hit({ reason: describeError(error) });
    });
    this.log.info('connecting to mqtt broker');
  }

  ready(): boolean {
    return this.client.connected && !this.closing;
  }

  streamsChanged(added: string[], removed: string[]): void {
    for (const streamId of added) {
      this.streams.add(streamId);
      if (this.client.connected) this.announce(streamDiscovery(this.discovery, streamId));
    }
    for (const streamId of removed) {
      this.streams.delete(streamId);
      const zones = this.announcedZones.get(streamId) ?? new Set<string>();
      if (this.config.discovery) this.announce(retractDiscovery(this.layout, streamId, zones));
      this.announcedZones.delete(streamId);
      this.state.forget(streamId);
    }
  }

  deliver(delivery: EventDelivery): void {
    const { event } = delivery;
    const publishes = [this.publish(this.layout.event(event.streamId, event.type), JSON.stringify(event), false)];
    const update = this.state.apply(event);
    if (update) publishes.push(...this.publishState(update));
    Promise.all(publishes).then(
      () => {
        this.options.metrics?.notifyDelivered.inc({ sink: 'mqtt' });
        delivery.settle('delivered');
        if (event.snapshot) void this.publishSnapshot(event);
      },
      (error: unknown) => {
        this.options.metrics?.notifyFailed.inc({ sink: 'mqtt' });
        this.log.debug({ eventId: event.id, err: describeError(error) }, 'mqtt publish failed; the event stays pending');
        delivery.settle('retry');
      },
    );
  }

  async close(): Promise<void> {
    this.closing = true;
    if (this.client.connected) {
      await withTimeout(this.client.publishAsync(this.layout.availability, UNAVAILABLE, { qos: 1, retain: true }), CLOSE_TIMEOUT_MS).catch(() => undefined);
    }
    await withTimeout(this.client.endAsync(), CLOSE_TIMEOUT_MS).catch(() => this.client.end(true));
    this.options.metrics?.notifyConnected.set({ sink: 'mqtt' }, 0);
  }

  private connected(): void {
    this.options.metrics?.notifyConnected.set({ sink: 'mqtt' }, 1);
    if (this.outage.active) this.outage.end();
    else this.log.info('connected to mqtt broker');
    void this.publish(this.layout.availability, AVAILABLE, true).catch(() => undefined);
    // Retained configs survive on the broker, but one restarted without persistence has lost them: announce again.
    for (const streamId of this.streams) {
      this.announce(streamDiscovery(this.discovery, streamId));
      for (const zone of this.announcedZones.get(streamId) ?? []) this.announce([zoneDiscovery(this.discovery, streamId, zone)]);
    }
    this.options.onReady();
  }

  private publishState(update: StateUpdate): Promise<unknown>[] {
    const retain = this.config.retainState;
    if (update.kind === 'fall') {
      const attributes = {
        event_id: update.event.id,
        event_type: update.event.type,
        track_id: update.event.trackId ?? null,
        confidence: update.event.confidence,
        captured_at: new Date(update.event.atCaptureTs).toISOString(),
        tracks_down: update.tracksDown,
      };
      return [
        this.publish(this.layout.fallAttributes(update.streamId), JSON.stringify(attributes), retain),
        this.publish(this.layout.fallState(update.streamId), update.on ? FALL_ON : FALL_OFF, retain),
      ];
    }
    const zones = this.announcedZones.get(update.streamId) ?? new Set<string>();
    this.announcedZones.set(update.streamId, zones);
    const publishes: Promise<unknown>[] = [];
    if (!zones.has(update.zone)) {
      zones.add(update.zone);
      if (this.config.discovery) {
        const config = zoneDiscovery(this.discovery, update.streamId, update.zone);
        publishes.push(this.publish(config.topic, config.payload, true));
      }
    }
    publishes.push(this.publish(this.layout.zoneOccupancy(update.streamId, update.zone), String(update.count), retain));
    return publishes;
  }

  /** Best effort, after the event itself went out: a missing snapshot does not hold the event back. */
  private async publishSnapshot(event: PoseEvent): Promise<void> {
    try {
      const jpeg = await this.options.snapshot(event.streamId, event.id);
      if (jpeg) await this.publish(this.layout.snapshot(event.streamId, event.type), jpeg, true);
    } catch (error) {
      this.log.debug({ eventId: event.id, err: describeError(error) }, 'event snapshot not published');
    }
  }

  private announce(messages: DiscoveryMessage[]): void {
    if (!this.config.discovery) return;
    for (const message of messages) void this.publish(message.topic, message.payload, true).catch(() => undefined);
  }

  private publish(topic: string, payload: string | Buffer, retain: boolean): Promise<unknown> {
    const options: IClientPublishOptions = { qos: this.config.qos, retain };
    return this.client.publishAsync(topic, payload, options);
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timed out')), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
