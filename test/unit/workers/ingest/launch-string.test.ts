import { describe, expect, it } from 'vitest';
import { parseProbeError, parseProbeSize } from '../../../../workers/ingest/gst-source.js';
import { fitInside } from '../../../../pipeline/pose/letterbox.js';
import { describeSource, frameLaunchString, launchString, probeArgs, RTSP_LATENCY_MS } from '../../../../workers/ingest/launch-string.js';

describe('describeSource', () => {
  it('turns plain paths and file:// URLs into file:// URIs, video stream only', () => {
    const plain = describeSource('/media/my clip "1".mp4');
    expect(plain).toMatchObject({ kind: 'file', live: false, filePath: '/media/my clip "1".mp4' });
    expect(plain.tokens).toEqual(['uridecodebin', 'uri=file:///media/my%20clip%20%221%22.mp4', 'caps=video/x-raw(ANY)', 'expose-all-streams=false']);
    expect(describeSource('file:///media/a%20b.mp4').filePath).toBe('/media/a b.mp4');
  });

  it('configures RTSP over TCP with a bounded jitter buffer, video stream only', () => {
    const rtsp = describeSource('rtsp://cam.local:8554/live?x=1');
    expect(rtsp).toMatchObject({ kind: 'rtsp', live: true });
    expect(launchString(rtsp.tokens)).toBe(
      `rtspsrc location="rtsp://cam.local:8554/live?x=1" latency=${RTSP_LATENCY_MS} protocols=tcp ! application/x-rtp,media=video ! decodebin caps="video/x-raw(ANY)"`,
    );
  });

  it('maps v4l2 devices, test patterns and http', () => {
    expect(launchString(describeSource('v4l2:///dev/video2').tokens)).toBe('v4l2src device="/dev/video2"');
    expect(describeSource('/dev/video0')).toMatchObject({ kind: 'v4l2', tokens: ['v4l2src', 'device=/dev/video0'] });
    expect(launchString(describeSource('test://ball').tokens)).toBe('videotestsrc pattern=ball is-live=true ! video/x-raw,width=1280,height=720,framerate=30/1');
    expect(describeSource('https://example.com/v.mp4')).toMatchObject({ kind: 'http', live: false });
  });
});

describe('launchString', () => {
  it('quotes property values so a URL cannot break out of its property', () => {
    expect(launchString(['filesrc', 'location=/a b/"x" ! fakesink \\'])).toBe('filesrc location="/a b/\\"x\\" ! fakesink \\\\"');
    expect(launchString(['x', 'name=sink', 'max-buffers=2', '!', 'video/x-raw,format=RGB'])).toBe('x name=sink max-buffers=2 ! video/x-raw,format=RGB');
  });
});

describe('fitInside (pipeline/pose/letterbox.ts), the size ingest asks GStreamer for', () => {
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
    expect(frameLaunchString(camera, { width: 640, height: 360, fps: 7.5, mode: 'live' })).toContain('! videorate name=ratecap drop-only=true max-rate=8 !');
  });

  it('lossless blocks upstream, live drops; live files play at their own rate', () => {
    expect(frameLaunchString(file, { width: 640, height: 360, mode: 'lossless' })).toContain('sync=false max-buffers=2 drop=false');
    expect(frameLaunchString(file, { width: 640, height: 360, mode: 'live' })).toContain('sync=true max-buffers=2 drop=true');
    expect(frameLaunchString(camera, { width: 640, height: 360, mode: 'live' })).toContain('sync=false max-buffers=2 drop=true');
  });
});

describe('size probe', () => {
  it('runs gst-launch verbosely into a named fakesink, unscaled', () => {
    expect(probeArgs(describeSource('test://ball'))).toEqual(['-v', 'videotestsrc', 'pattern=ball', 'is-live=true', '!', 'video/x-raw,width=1280,height=720,framerate=30/1', '!', 'videoconvert', '!', 'video/x-raw', '!', 'fakesink', 'name=probe']);
  });

  it('reads the size from the sink caps line and errors from gst-launch output', () => {
    const caps = '/GstPipeline:pipeline0/GstVideoConvert:videoconvert0.GstPad:src: caps = video/x-raw, width=(int)9, height=(int)9\n/GstPipeline:pipeline0/GstFakeSink:probe.GstPad:sink: caps = video/x-raw, format=(string)I420, width=(int)1280, height=(int)720, framerate=(fraction)30/1\n';
    expect(parseProbeSize(caps)).toEqual({ width: 1280, height: 720 });
    expect(parseProbeSize('Setting pipeline to PAUSED ...\n')).toBeUndefined();
    expect(parseProbeError('ERROR: from element /GstPipeline:pipeline0/GstURIDecodeBin:uridecodebin0/GstFileSrc:source: Resource not found.\nAdditional debug info:\n')).toBe('Resource not found (source)');
    expect(parseProbeError('ERROR: from element /GstPipeline:pipeline0/GstRTSPSrc:rtspsrc0: Could not open resource for reading and writing.\n')).toBe('Could not open resource for reading and writing (rtspsrc0)');
    expect(parseProbeError('WARNING: erroneous pipeline: no element "foo"\n')).toBe('invalid pipeline: no element "foo"');
  });
});
