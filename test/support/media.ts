/**
 * Media made at test time with ffmpeg into build/test-artifacts (never committed), and a look at the decoder
 * processes a test started.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import { assetPath } from '../../pipeline/assets.js';
import { testArtifactsDir } from './env.js';

function ffmpeg(target: string, args: string[]): string {
  mkdirSync(testArtifactsDir, { recursive: true });
  const file = path.join(testArtifactsDir, target);
  if (existsSync(file)) return file;
  const partial = `${file}.partial${path.extname(file)}`;
  const result = spawnSync('ffmpeg', ['-loglevel', 'error', '-y', ...args, partial], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`ffmpeg failed for ${target}: ${result.stderr}`);
  renameSync(partial, file);
  return file;
}

/** 1 s of the walking clip at 640x360, then 1 s at 320x240, in one MPEG-TS file (H.264 with a new SPS mid-stream). */
export function resolutionChangeClip(): string {
  const first = ffmpeg('walking-640x360.ts', ['-i', assetPath('walkingVideo'), '-t', '1', '-an', '-vf', 'scale=640:360', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-f', 'mpegts']);
  const second = ffmpeg('walking-320x240.ts', ['-ss', '1', '-i', assetPath('walkingVideo'), '-t', '1', '-an', '-vf', 'scale=320:240', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-f', 'mpegts']);
  const joined = path.join(testArtifactsDir, 'walking-640x360-then-320x240.ts');
  if (!existsSync(joined)) spawnSync('sh', ['-c', `cat "${first}" "${second}" > "${joined}"`]);
  return joined;
}

/**
 * The walking clip as an H.264 Annex-B stream with B-frames (x264 -bf 2: with its default B-pyramid, one in three
 * frames is a non-reference B-frame), for an RTSP camera that has them. cli/bench/rtsp-server.ts's annexB() makes
 * the usual camera stream, without B-frames.
 */
export function bFramesAnnexBClip(): string {
  return ffmpeg('walking_720p_bf2.h264', ['-i', assetPath('walkingVideo'), '-an', '-c:v', 'libx264', '-preset', 'veryfast', '-bf', '2', '-g', '30', '-pix_fmt', 'yuv420p', '-bsf:v', 'h264_mp4toannexb', '-f', 'h264']);
}

/** Two seconds of a sine tone in AAC, no video at all. */
export function audioOnlyFile(): string {
  return ffmpeg('sine-audio-only.m4a', ['-f', 'lavfi', '-i', 'sine=duration=2', '-c:a', 'aac', '-f', 'mp4']);
}

/** Process ids of the posestream-decode children of `parentPid` (from /proc: no ps output format to depend on). */
export function decoderChildren(parentPid: number = process.pid): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid ...: comm may contain spaces, so split after its closing parenthesis.
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (comm.startsWith('posestream-deco') && state !== 'Z' && Number(ppid) === parentPid) pids.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}

/** True while a process with this id exists and is not a zombie. */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] !== 'Z';
  } catch {
    return false;
  }
}
