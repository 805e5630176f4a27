import { defineConfig } from 'vitest/config';

// Test workers inherit this: every GStreamer stream keeps ~2 libuv threads busy (pull + bus watch) and the OpenVINO
// addon needs more, so the default pool of 4 would stall multi-stream tests. Same value as bin/posestream.cjs.
process.env.UV_THREADPOOL_SIZE ??= '64';

// Integration and e2e tests share one Redis, GStreamer and two CPU cores: files run one at a time so
// that a heavy OpenVINO test never starves a GStreamer test into a false stall.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/bench/**', 'node_modules/**'],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});
