#!/usr/bin/env node
'use strict';
// The real entry point, in CommonJS so that the lines below run before anything else is loaded. (libuv's default
// thread pool of 4 is enough: GStreamer runs in one decoder process per stream, OpenVINO completes on its own
// threads; UV_THREADPOOL_SIZE still applies if set.)

// Frames move through Node as Buffers (~0.7 MB each, several copies per frame: decoder pipe, ioredis, socket reads).
// V8 counts that external memory against the old generation's headroom, which on a ~20 MB heap is ~24 MB: at
// 70 frames/s that forced ~8 full GCs a second, a fifth of a core on a 2-core box. Letting the heap grow 4x its
// live size instead of V8's default ~2x cut them 4x and raised `bench pipeline` from 70 to 78 results/s
// (measured 2026-11-29). Read by V8 at every limit computation, so setting it here still applies. An explicit
// --heap-growing-percent on the command line wins.
if (!process.execArgv.some((arg) => arg.startsWith('--heap-growing-percent'))) {
  require('node:v8').setFlagsFromString('--heap-growing-percent=300');
}

// The CLI is TypeScript run through tsx's loader: one source of truth, no build step to drift.
(async () => {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../cli/main.ts');
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
