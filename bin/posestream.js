#!/usr/bin/env node
// libuv sizes its thread pool once, at first use, from this variable: set it before anything is imported.
// Each GStreamer stream holds ~2 pool threads (a pending pull and a bus poll) and OpenVINO completions need one,
// so the default of 4 stalls a process with a few streams. An explicit setting wins.
process.env.UV_THREADPOOL_SIZE ??= '64';

// The CLI is TypeScript run through tsx's loader: one source of truth, no build step to drift.
const { register } = await import('tsx/esm/api');
register();
await import('../cli/main.ts');
