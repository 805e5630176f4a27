import { spawn } from 'node:child_process';
import { PosestreamError } from '../../pipeline/errors.js';
import { processCpuSeconds } from './processes.js';
import { DECODER_PATH } from '../../workers/ingest/decoder-source.js';
import { DecoderMessageParser } from '../../workers/ingest/decoder-protocol.js';
import { decoderArgs, describeSource, type DecoderOptions } from '../../workers/ingest/launch-string.js';

/**
 * What decoding costs: the real decoder process (posestream-decode) alone on a source, its CPU time (user + sys, all
 * its threads) over a window of delivered frames. `bench pipeline` uses it for its decode-inclusive limit;
 * test/bench/decode-skip.bench.ts for the cost of a capped live camera with and without skipping.
 *
 * Why /proc/<pid>/stat rather than `times` in a bash wrapper or getrusage(RUSAGE_CHILDREN): it is read while the
 * process runs, twice, so the window excludes GStreamer's start-up (plugin registry, pipeline set-up, first key
 * frame), which is not a per-frame cost; and it is this one process's time, not every child's. Its resolution is a
 * clock tick (10 ms), hence windows of hundreds of frames. In lossless mode the decoder is at most one frame ahead of
 * what it delivered at both reads, so the window's frames are the frames it decoded.
 */

export interface DecoderCpu {
  /** Frames delivered in the window. */
  frames: number;
  /** CPU seconds (user + sys) the decoder process used in the window. */
  cpu_s: number;
  /** Wall-clock seconds of the window. */
  wall_s: number;
  /** Frames dropped in the window: by the fps cap after decoding, and left undecoded (skipped non-reference frames). */
  cap_drops: number;
  skip_drops: number;
}

export interface DecoderCpuOptions {
  url: string;
  decoder: Omit<DecoderOptions, 'startAfterNs'>;
  /** Frames delivered before the window opens (start-up excluded). */
  warmupFrames: number;
  /** The window: this many delivered frames, or (live sources) this many seconds, whichever comes first. */
  frames: number;
  seconds?: number;
  /** Extra arguments for the decoder, or a filter over the usual ones (e.g. without skipping, to compare). */
  args?: (args: string[]) => string[];
  decoderPath?: string;
}

/** Runs the decoder as ingest would (live: one request byte per frame) and measures the window. */
export function measureDecoderCpu(options: DecoderCpuOptions): Promise<DecoderCpu> {
  const base = decoderArgs(describeSource(options.url), options.decoder);
  const args = options.args ? options.args(base) : base;
  const child = spawn(options.decoderPath ?? DECODER_PATH, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const parser = new DecoderMessageParser();
  const live = options.decoder.mode === 'live';
  let stderr = '';
  return new Promise<DecoderCpu>((resolve, reject) => {
    let delivered = 0;
    let start: { cpu: number; at: number } | undefined;
    const window = { frames: 0, cap: 0, skip: 0 };
    let settled = false;
    const finish = (error?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (!error && start) {
        resolve({ frames: window.frames, cpu_s: processCpuSeconds(child.pid!) - start.cpu, wall_s: (Date.now() - start.at) / 1000, cap_drops: window.cap, skip_drops: window.skip });
      }
      child.kill('SIGKILL');
      if (error) reject(error);
    };
    const limitMs = ((options.seconds ?? 120) + 60) * 1000;
    const timer = setTimeout(() => finish(new PosestreamError('PS_BENCH_TOOL_FAILED', `the decoder delivered ${delivered} frames in ${limitMs / 1000} s`)), limitMs);
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-2_000);
    });
    child.stdout!.on('data', (chunk: Buffer) => {
      for (const message of parser.push(chunk)) {
        if (message.type === 'error') return finish(new PosestreamError('PS_BENCH_TOOL_FAILED', `decoder: ${message.text}`));
        if (message.type === 'eos') return finish(new PosestreamError('PS_BENCH_TOOL_FAILED', `the source ended after ${delivered} frames`));
        if (message.type !== 'frame') continue;
        delivered += 1;
        if (start) {
          window.frames += 1;
          window.cap += message.frame.capDrops;
          window.skip += message.frame.skipDrops;
        } else if (delivered >= options.warmupFrames) {
          start = { cpu: processCpuSeconds(child.pid!), at: Date.now() };
        }
        const elapsed = start ? (Date.now() - start.at) / 1000 : 0;
        if (start && (window.frames >= options.frames || (options.seconds !== undefined && elapsed >= options.seconds))) return finish();
        if (live) child.stdin!.write(Buffer.from([1]));
      }
    });
    child.once('error', (error) => finish(new PosestreamError('PS_BENCH_TOOL_FAILED', `cannot run the decoder: ${error.message}`)));
    child.once('exit', (code, signal) => finish(new PosestreamError('PS_BENCH_TOOL_FAILED', `decoder exited (${signal ?? code}): ${stderr.trim().split('\n').at(-1) ?? ''}`)));
    child.stdin!.on('error', () => undefined);
    if (live) child.stdin!.write(Buffer.from([1]));
  });
}

/** `bench pipeline`'s decode-inclusive limit (issue 14): results/s one box can reach when the decoders share its cores with inference. */
export function decodeInclusiveLimit(engineFps: number, decodeCpuSPerFrame: number, cores: number): number {
  return 1 / (1 / engineFps + decodeCpuSPerFrame / cores);
}

/** `bench pipeline`'s additive JSON fields (issue 14): the decoders' share of the cores and the limit it leaves. */
export interface DecodeLimit {
  /** CPU ms the decoder alone spends per delivered frame (decode + convert + scale), lossless, the pipeline's clip. */
  decode_cpu_ms_per_frame: number;
  cores: number;
  /** 1 / (1/engine_fps + decode_cpu_s_per_frame / cores): results/s if inference and decoding share the cores. */
  decode_inclusive_limit: number;
  /** results_per_s / decode_inclusive_limit (target >= 0.9). */
  limit_ratio: number;
}

/**
 * The decoder alone on the pipeline's source, as its streams run it (lossless, looping, same input size and pixel
 * format), then the limit. 30 warm-up frames, then 600 measured (a clock tick is 10 ms: < 0.2 % of the window).
 */
export async function measureDecodeLimit(options: { url: string; inputSize: number; format: DecoderOptions['format']; engineFps: number; resultsPerS: number; log: (line: string) => void }): Promise<DecodeLimit> {
  const { availableParallelism } = await import('node:os');
  const cpu = await measureDecoderCpu({
    url: options.url,
    decoder: { inputSize: options.inputSize, ...(options.format ? { format: options.format } : {}), mode: 'lossless', loop: true },
    warmupFrames: 30,
    frames: 600,
  });
  const perFrame = cpu.cpu_s / cpu.frames;
  const cores = availableParallelism();
  const limit = decodeInclusiveLimit(options.engineFps, perFrame, cores);
  options.log(`decode: ${(perFrame * 1000).toFixed(2)} ms CPU per frame (decoder alone, ${cpu.frames} frames in ${cpu.wall_s.toFixed(1)} s); limit on ${cores} cores ${limit.toFixed(2)} results/s`);
  return { decode_cpu_ms_per_frame: perFrame * 1000, cores, decode_inclusive_limit: limit, limit_ratio: options.resultsPerS / limit };
}

export function formatDecodeLimit(r: DecodeLimit): string {
  return [
    `decode:   ${r.decode_cpu_ms_per_frame.toFixed(2)} ms CPU per frame (decoder alone, lossless) on ${r.cores} cores -> decode-inclusive limit ${r.decode_inclusive_limit.toFixed(2)} results/s`,
    `ratio pipeline/limit = ${r.limit_ratio.toFixed(3)} (target >= 0.9)`,
  ].join('\n');
}
