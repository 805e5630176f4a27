import { describe, expect, it } from 'vitest';
import { retractDiscovery, streamDiscovery, topicSegment, TopicLayout, zoneDiscovery } from '../../../../../workers/notify/mqtt/topics.js';

const layout = new TopicLayout({ topicPrefix: 'posestream', discoveryPrefix: 'homeassistant' });
const context = { layout, version: '0.1.0' };

describe('topicSegment', () => {
  it('keeps safe names and makes unsafe ones one level, distinct from each other', () => {
    expect(topicSegment('door')).toBe('door');
    expect(topicSegment('bed_1-A')).toBe('bed_1-A');
    const spaced = topicSegment('Bed 1');
    expect(spaced).toMatch(/^Bed_1-[0-9a-f]{8}$/);
    expect(spaced).not.toBe(topicSegment('Bed_1'));
    for (const name of ['a/b', 'x+y', 'hash#', '', 'ümlaut']) expect(topicSegment(name)).toMatch(/^[A-Za-z0-9_-]+$/);
  });
});

describe('TopicLayout', () => {
  it('puts every topic under the prefix', () => {
    expect(layout.availability).toBe('posestream/status');
    expect(layout.event('door', 'fall')).toBe('posestream/door/events/fall');
    expect(layout.fallState('door')).toBe('posestream/door/fall');
    expect(layout.fallAttributes('door')).toBe('posestream/door/fall/attributes');
    expect(layout.snapshot('door', 'fall')).toBe('posestream/door/fall/snapshot');
    expect(layout.zoneOccupancy('door', 'bed')).toBe('posestream/door/zones/bed/occupancy');
    expect(layout.fallConfig('door')).toBe('homeassistant/binary_sensor/posestream_door/fall/config');
    expect(layout.zoneConfig('door', 'bed')).toBe('homeassistant/sensor/posestream_door/zone_bed_occupancy/config');
  });

  it('keeps two installations with different prefixes apart in Home Assistant', () => {
    const other = new TopicLayout({ topicPrefix: 'site-b/ps', discoveryPrefix: 'ha' });
    expect(other.node('door')).not.toBe(layout.node('door'));
    expect(other.fallConfig('door')).toMatch(/^ha\/binary_sensor\/[A-Za-z0-9_-]+\/fall\/config$/);
    expect(other.event('door', 'posture')).toBe('site-b/ps/door/events/posture');
  });
});

describe('Home Assistant discovery payloads', () => {
  it('announce a safety binary_sensor and a snapshot image per stream, with availability', () => {
    const [fall, image] = streamDiscovery(context, 'door');
    expect(fall!.topic).toBe('homeassistant/binary_sensor/posestream_door/fall/config');
    expect(JSON.parse(fall!.payload)).toMatchObject({
      unique_id: 'posestream_door_fall',
      state_topic: 'posestream/door/fall',
      payload_on: 'ON',
      payload_off: 'OFF',
      device_class: 'safety',
      json_attributes_topic: 'posestream/door/fall/attributes',
      availability_topic: 'posestream/status',
      payload_available: 'online',
      payload_not_available: 'offline',
      device: { identifiers: ['posestream_door'], manufacturer: 'posestream' },
    });
    expect(image!.topic).toBe('homeassistant/image/posestream_door/fall_snapshot/config');
    expect(JSON.parse(image!.payload)).toMatchObject({ image_topic: 'posestream/door/fall/snapshot', content_type: 'image/jpeg', device: { identifiers: ['posestream_door'] } });
  });

  it('announce a measurement sensor per zone and retract everything of a removed stream', () => {
    const zone = zoneDiscovery(context, 'door', 'Bed 1');
    const payload = JSON.parse(zone.payload);
    expect(payload).toMatchObject({ name: 'Bed 1 occupancy', state_class: 'measurement', availability_topic: 'posestream/status' });
    expect(payload.state_topic).toBe(layout.zoneOccupancy('door', 'Bed 1'));
    expect(zone.topic).toBe(layout.zoneConfig('door', 'Bed 1'));
    const retracted = retractDiscovery(layout, 'door', ['Bed 1']);
    expect(retracted.map((m) => m.topic)).toEqual([layout.fallConfig('door'), layout.fallSnapshotConfig('door'), layout.zoneConfig('door', 'Bed 1')]);
    expect(retracted.every((m) => m.payload === '')).toBe(true);
  });
});
