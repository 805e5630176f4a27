import { defineConfig } from 'vitest/config';

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
