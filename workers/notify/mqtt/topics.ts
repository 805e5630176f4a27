import { createHash } from 'node:crypto';
import type { PoseEventType } from '../../../pipeline/wire/v1.js';

/**
 * The MQTT topic layout and the Home Assistant discovery payloads, pure so they can be tested and documented:
 *
 *   <prefix>/status                              online | offline (retained; offline is the last will)
 *   <prefix>/<stream>/events/<type>              every event as wire-v1 JSON (not retained)
 *   <prefix>/<stream>/fall                       ON | OFF (retained when retainState): someone is down
 *   <prefix>/<stream>/fall/attributes            JSON about the last fall/recovered event
 *   <prefix>/<stream>/<type>/snapshot            annotated JPEG of the last event of that type that has one (retained)
 *   <prefix>/<stream>/zones/<zone>/occupancy     persons in the zone (retained when retainState)
 *
 *   <discovery>/binary_sensor/<node>/fall/config                    one per stream (device_class safety)
 *   <discovery>/image/<node>/fall_snapshot/config                   one per stream
 *   <discovery>/sensor/<node>/zone_<zone>_occupancy/config          one per zone, announced with its first count
 *
 * <node> = <prefix as one segment>_<stream>, so two installations with different prefixes on one broker do not
 * collide in Home Assistant. Zone names are free text; topicSegment() makes them one safe topic level.
 */

export interface TopicLayoutOptions {
  topicPrefix: string;
  discoveryPrefix: string;
}

export const AVAILABLE = 'online';
export const UNAVAILABLE = 'offline';
export const FALL_ON = 'ON';
export const FALL_OFF = 'OFF';

/**
 * One MQTT topic level made of [A-Za-z0-9_-] (also valid in Home Assistant object ids). A name that had to be
 * changed gets a short hash of the original, so "Bed 1" and "Bed_1" stay two different levels.
 */
export function topicSegment(name: string): string {
  const safe = name.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 48);
  if (safe === name && safe.length > 0) return safe;
  return `${safe}-${createHash('sha256').update(name).digest('hex').slice(0, 8)}`;
}

export class TopicLayout {
  readonly availability: string;

  constructor(private readonly options: TopicLayoutOptions) {
    this.availability = `${options.topicPrefix}/status`;
  }

  event(streamId: string, type: PoseEventType): string {
    return `${this.stream(streamId)}/events/${type}`;
  }

  fallState(streamId: string): string {
    return `${this.stream(streamId)}/fall`;
  }

  fallAttributes(streamId: string): string {
    return `${this.stream(streamId)}/fall/attributes`;
  }

  snapshot(streamId: string, type: PoseEventType): string {
    return `${this.stream(streamId)}/${type}/snapshot`;
  }

  zoneOccupancy(streamId: string, zone: string): string {
    return `${this.stream(streamId)}/zones/${topicSegment(zone)}/occupancy`;
  }

  /** Home Assistant node id (and unique-id stem) of a stream. */
  node(streamId: string): string {
    return `${topicSegment(this.options.topicPrefix)}_${topicSegment(streamId)}`;
  }

  fallConfig(streamId: string): string {
    return `${this.options.discoveryPrefix}/binary_sensor/${this.node(streamId)}/fall/config`;
  }

  fallSnapshotConfig(streamId: string): string {
    return `${this.options.discoveryPrefix}/image/${this.node(streamId)}/fall_snapshot/config`;
  }

  zoneConfig(streamId: string, zone: string): string {
    return `${this.options.discoveryPrefix}/sensor/${this.node(streamId)}/zone_${topicSegment(zone)}_occupancy/config`;
  }

  private stream(streamId: string): string {
    return `${this.options.topicPrefix}/${topicSegment(streamId)}`;
  }
}

/** A retained discovery message: topic and JSON payload ('' retracts the entity). */
export interface DiscoveryMessage {
  topic: string;
  payload: string;
}

export interface DiscoveryContext {
  layout: TopicLayout;
  /** posestream's version, shown by Home Assistant as the device's software. */
  version: string;
}

function device(context: DiscoveryContext, streamId: string) {
  const node = context.layout.node(streamId);
  return {
    identifiers: [node],
    name: `posestream ${streamId}`,
    manufacturer: 'posestream',
    model: 'pose camera stream',
    sw_version: context.version,
  };
}

function common(context: DiscoveryContext, streamId: string) {
  return {
    availability_topic: context.layout.availability,
    payload_available: AVAILABLE,
    payload_not_available: UNAVAILABLE,
    device: device(context, streamId),
    origin: { name: 'posestream', sw_version: context.version },
  };
}

/** The entities every stream has: the fall binary sensor and the fall snapshot image. */
export function streamDiscovery(context: DiscoveryContext, streamId: string): DiscoveryMessage[] {
  const { layout } = context;
  const node = layout.node(streamId);
  const fall = {
    name: 'Fall',
    unique_id: `${node}_fall`,
    state_topic: layout.fallState(streamId),
    payload_on: FALL_ON,
    payload_off: FALL_OFF,
    device_class: 'safety',
    json_attributes_topic: layout.fallAttributes(streamId),
    ...common(context, streamId),
  };
  const snapshot = {
    name: 'Fall snapshot',
    unique_id: `${node}_fall_snapshot`,
    image_topic: layout.snapshot(streamId, 'fall'),
    content_type: 'image/jpeg',
    ...common(context, streamId),
  };
  return [
    { topic: layout.fallConfig(streamId), payload: JSON.stringify(fall) },
    { topic: layout.fallSnapshotConfig(streamId), payload: JSON.stringify(snapshot) },
  ];
}

export function zoneDiscovery(context: DiscoveryContext, streamId: string, zone: string): DiscoveryMessage {
  const { layout } = context;
  const sensor = {
    name: `${zone} occupancy`,
    unique_id: `${layout.node(streamId)}_zone_${topicSegment(zone)}_occupancy`,
    state_topic: layout.zoneOccupancy(streamId, zone),
    unit_of_measurement: 'persons',
    state_class: 'measurement',
    icon: 'mdi:account-group',
    ...common(context, streamId),
  };
  return { topic: layout.zoneConfig(streamId, zone), payload: JSON.stringify(sensor) };
}

/** Empty retained payloads: Home Assistant removes the entities of a stream that left the registry. */
export function retractDiscovery(layout: TopicLayout, streamId: string, zones: Iterable<string>): DiscoveryMessage[] {
  return [layout.fallConfig(streamId), layout.fallSnapshotConfig(streamId), ...[...zones].map((zone) => layout.zoneConfig(streamId, zone))].map((topic) => ({ topic, payload: '' }));
}
