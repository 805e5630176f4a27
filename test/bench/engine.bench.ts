/**
 * PoseEngine vs benchmark_app in one run (same model, shape, hint, precision); prints the result JSON and the ratio
 * (target >= 0.95). Same code as `posestream bench engine`.
 * Run: `flock /tmp/ps/bench.lock node --import tsx test/bench/engine.bench.ts` with env POSESTREAM_BENCH_MODEL
 * (default: the INT8 IR), POSESTREAM_BENCH_SECONDS (15), POSESTREAM_BENCH_BATCH (1), POSESTREAM_BENCH_PRECISION ('default').
 */
import { defaultModelPaths } from '../../pipeline/assets.js';
import { formatEngineBench, runEngineBench } from '../../cli/bench/engine.js';

const result = await runEngineBench({
  model: process.env.POSESTREAM_BENCH_MODEL ?? defaultModelPaths.int8,
  seconds: Number(process.env.POSESTREAM_BENCH_SECONDS ?? 15),
  batch: Number(process.env.POSESTREAM_BENCH_BATCH ?? 1),
  device: 'CPU',
  precision: process.env.POSESTREAM_BENCH_PRECISION ?? 'default',
  log: (line) => console.error(line),
});
console.log(JSON.stringify(result));
console.log(formatEngineBench(result));
