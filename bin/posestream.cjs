#!/usr/bin/env node
'use strict';
// The real entry point, in CommonJS on purpose: libuv sizes its thread pool once, at first use, from
// UV_THREADPOOL_SIZE. An ES module entry is read by the ESM loader through that pool before its first line runs,
// so setting the variable there comes too late (measured: the pool stayed at 4). A CommonJS entry is read
// synchronously, so this line runs first. Each GStreamer stream holds 2 pool threads (a pending pull and a bus
// poll) and OpenVINO completions need more; with 4, four streams starve each other into "no frame" stalls.
// An explicit setting wins.
process.env.UV_THREADPOOL_SIZE = process.env.UV_THREADPOOL_SIZE || '64';

// The CLI is TypeScript run through tsx's loader: one source of truth, no build step to drift.
(async () => {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../cli/main.ts');
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
