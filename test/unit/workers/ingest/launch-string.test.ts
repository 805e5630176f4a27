import { describe, expect, it } from 'vitest';
import { fitInside } from '../../../../pipeline/pose/letterbox.js';
import { decoderArgs, decoderLaunch, describeSource, launchString, RTSP_LATENCY_MS, skipNonReferenceFromFps } from '../../../../workers/ingest/launch-string.js';

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
    expect(launchString(describeSource('test://ball').tokens)).toBe('videotestsrc pattern=ball is-live=true ! video/x-raw,format=I420,width=1280,height=720,framerate=30/1');
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

describe('decoder pipeline and arguments', () => {
  const file = describeSource('/a.mp4');
  const camera = describeSource('rtsp://cam/x');

  it('decodes into the appsink the decoder pulls from; conversion and scaling are the decoder\'s own', () => {
    const launch = decoderLaunch(file, { mode: 'lossless' });
    expect(launch).toBe('uridecodebin uri="file:///a.mp4" caps="video/x-raw(ANY)" expose-all-streams=false ! appsink name=sink sync=false max-buffers=1 drop=false enable-last-sample=false caps="video/x-raw"');
    expect(launch).not.toContain('videorate');
    expect(launch).not.toContain('videoconvert');
  });

  it('caps the frame rate by dropping only, rounded up to whole fps, before the appsink', () => {
    expect(decoderLaunch(camera, { fps: 7.5, mode: 'live' })).toContain('decodebin caps="video/x-raw(ANY)" ! videorate name=ratecap drop-only=true max-rate=8 ! appsink');
  });

  it('plays live files at their own rate; lossless and live cameras run unsynced', () => {
    expect(decoderLaunch(file, { mode: 'lossless' })).toContain('sync=false');
    expect(decoderLaunch(file, { mode: 'live' })).toContain('sync=true');
    expect(decoderLaunch(camera, { mode: 'live' })).toContain('sync=false');
  });

  it('passes size, mode and format; loops only finite sources', () => {
    const args = decoderArgs(file, { inputSize: 640, mode: 'lossless', loop: true });
    expect(args).toEqual(['--pipeline', decoderLaunch(file, { mode: 'lossless' }), '--size', '640', '--mode', 'lossless', '--format', 'rgb', '--loop']);
    expect(decoderArgs(camera, { inputSize: 320, mode: 'live', loop: true })).not.toContain('--loop');
    const i420 = decoderArgs(camera, { inputSize: 640, mode: 'live', loop: false, format: 'i420' });
    expect(i420.slice(i420.indexOf('--format'), i420.indexOf('--format') + 2)).toEqual(['--format', 'i420']);
    expect(decoderArgs(file, { inputSize: 640, mode: 'live', loop: false })).not.toContain('--loop');
  });

  it('skips non-reference frames only for live streams under an fps cap, from twice the (rounded up) cap', () => {
    expect(skipNonReferenceFromFps({ mode: 'live', fps: 5 })).toBe(10);
    expect(skipNonReferenceFromFps({ mode: 'live', fps: 7.5 })).toBe(16);
    expect(skipNonReferenceFromFps({ mode: 'live', fps: 0.2 })).toBe(2);
    expect(skipNonReferenceFromFps({ mode: 'live' })).toBeUndefined();
    expect(skipNonReferenceFromFps({ mode: 'lossless', fps: 5 })).toBeUndefined();
    const capped = decoderArgs(camera, { inputSize: 640, mode: 'live', loop: false, fps: 5 });
    expect(capped.slice(capped.indexOf('--skip-nonref-from-fps'))).toEqual(['--skip-nonref-from-fps', '10']);
    expect(decoderArgs(file, { inputSize: 640, mode: 'live', loop: false, fps: 5 })).toContain('--skip-nonref-from-fps');
    expect(decoderArgs(camera, { inputSize: 640, mode: 'live', loop: false })).not.toContain('--skip-nonref-from-fps');
    expect(decoderArgs(file, { inputSize: 640, mode: 'lossless', loop: false, fps: 5 })).not.toContain('--skip-nonref-from-fps');
  });
});
