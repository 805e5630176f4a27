import { describe, expect, it } from 'vitest';
import { describeSource, fitInside, frameLaunchString, probeLaunchString, RTSP_LATENCY_MS } from '../../workers/ingest/launch-string.js';

describe('describeSource', () => {
  it('turns plain paths and file:// URLs into quoted file:// URIs that survive spaces and quotes', () => {
    const plain = describeSource('/media/my clip "1".mp4');
    expect(plain.kind).toBe('file');
    expect(plain.filePath).toBe('/media/my clip "1".mp4');
    expect(plain.element).toContain('uri="file:///media/my%20clip%20%221%22.mp4"');
    expect(plain.live).toBe(false);
    expect(describeSource('file:///media/a%20b.mp4').filePath).toBe('/media/a b.mp4');
  });

  it('only exposes the video stream of a file', () => {
    expect(describeSource('/a.mp4').element).toContain('caps="video/x-raw(ANY)" expose-all-streams=false');
  });

  it('configures RTSP over TCP with a bounded jitter buffer', () => {
    const rtsp = describeSource('rtsp://cam.local:8554/live?x=1');
    expect(rtsp).toMatchObject({ kind: 'rtsp', live: true });
    expect(rtsp.element).toContain('uri="rtsp://cam.local:8554/live?x=1"');
    expect(rtsp.element).toContain(`source::latency=${RTSP_LATENCY_MS} source::protocols=tcp`);
  });

  it('maps v4l2 devices, test patterns and http', () => {
    expect(describeSource('v4l2:///dev/video2').element).toBe('v4l2src device="/dev/video2"');
    expect(describeSource('/dev/video0')).toMatchObject({ kind: 'v4l2', element: 'v4l2src device="/dev/video0"' });
    expect(describeSource('test://ball').element).toBe('videotestsrc pattern=ball is-live=true ! video/x-raw,width=1280,height=720,framerate=30/1');
    expect(describeSource('https://example.com/v.mp4')).toMatchObject({ kind: 'http', live: false });
  });
});

describe('fitInside', () => {
  it('fits inside the square keeping aspect, Ultralytics rounding', () => {
    expect(fitInside(1280, 720)).toEqual({ width: 640, height: 360 });
    expect(fitInside(1920, 1080)).toEqual({ width: 640, height: 360 });
    expect(fitInside(960, 544)).toEqual({ width: 640, height: 363 });
    expect(fitInside(810, 1080)).toEqual({ width: 480, height: 640 });
    expect(fitInside(320, 240)).toEqual({ width: 640, height: 480 });
    expect(fitInside(5000, 10, 640)).toEqual({ width: 640, height: 1 });
  });
});

describe('frameLaunchString', () => {
  const file = describeSource('/a.mp4');
  const camera = describeSource('rtsp://cam/x');

  it('scales to the fitted RGB size without borders and ends in the appsink', () => {
    const launch = frameLaunchString(file, { width: 640, height: 360, mode: 'lossless' });
    expect(launch).toContain('videoscale add-borders=false ! video/x-raw,format=RGB,width=640,height=360 ! appsink name=sink');
    expect(launch).not.toContain('videorate');
  });

  it('caps the frame rate by dropping only, rounded up to whole fps', () => {
    expect(frameLaunchString(camera, { width: 640, height: 360, fps: 7.5, mode: 'live' })).toContain('videorate drop-only=true max-rate=8');
  });

  it('lossless blocks upstream, live drops; live files play at their own rate', () => {
    expect(frameLaunchString(file, { width: 640, height: 360, mode: 'lossless' })).toContain('sync=false max-buffers=2 drop=false');
    expect(frameLaunchString(file, { width: 640, height: 360, mode: 'live' })).toContain('sync=true max-buffers=2 drop=true');
    expect(frameLaunchString(camera, { width: 640, height: 360, mode: 'live' })).toContain('sync=false max-buffers=2 drop=true');
  });

  it('probes unscaled', () => {
    expect(probeLaunchString(file)).toMatch(/videoconvert ! video\/x-raw ! appsink name=sink/);
  });
});
