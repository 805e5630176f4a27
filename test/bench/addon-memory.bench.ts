/**
 * Memory soak for the OpenVINO addon: N inferences through one AsyncInferQueue in one process, RSS printed after
 * warm-up and at the end (target: growth < 30 MB). Run: `nice -n 10 npx tsx test/bench/addon-memory.bench.ts`
 * Env: POSESTREAM_BENCH_INFERENCES (default 20000), POSESTREAM_BENCH_MODEL (default: the shared INT8 reference IR).
 * POSESTREAM_BENCH_OUTPUTS: 'alternate' (default: every other job lends the request a pooled output array, as
 * PoseEngine does, the others get copied outputs, so both paths and the switching between them run throughout),
 * 'lent' or 'copy'.
 */
import { assetPath } from '../../pipeline/assets.js';
import { AsyncInferQueue } from '../../workers/inference/backends/openvino/index.js';
import { compilePoseModel } from '../../workers/inference/backends/openvino/pose-model.js';

const total = Number(process.env.POSESTREAM_BENCH_INFERENCES ?? 20_000);
const warmup = 200;
const modelPath = process.env.POSESTREAM_BENCH_MODEL ?? assetPath('int8ReferenceIr');
const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);

function memory(label: string): number {
  const usage = process.memoryUsage();
  console.log(`${label}: rss ${mb(usage.rss)} MB, heapUsed ${mb(usage.heapUsed)} MB, external ${mb(usage.external)} MB`);
  return usage.rss;
}

const OUTPUT_SIZE = 56 * 8400;
const freeOutputs: Float32Array[] = [];
const outputMode = process.env.POSESTREAM_BENCH_OUTPUTS ?? 'alternate';
if (!['alternate', 'lent', 'copy'].includes(outputMode)) throw new Error(`POSESTREAM_BENCH_OUTPUTS must be alternate, lent or copy, got ${outputMode}`);
const lends = (job: number) => outputMode === 'lent' || (outputMode === 'alternate' && job % 2 === 0);

async function run(queue: AsyncInferQueue, count: number, onProgress?: (done: number) => void): Promise<void> {
  // A fresh frame per job, as the pipeline does, so input buffers are allocated and freed throughout.
  let started = 0;
  let done = 0;
  await new Promise<void>((resolve, reject) => {
    const pump = () => {
      while (started < count && queue.pending < queue.size + queue.maxQueued) {
        const frame = new Uint8Array(640 * 640 * 3).fill(started % 255);
        started++;
        const lent = lends(started) ? (freeOutputs.pop() ?? new Float32Array(OUTPUT_SIZE)) : undefined;
        const outputs = lent ? [{ data: lent, shape: [1, 56, 8400] }] : undefined;
        queue.startAsync({ data: frame, shape: [1, 640, 640, 3] }, started, outputs).then((result) => {
          if (result.outputs[0]!.length !== OUTPUT_SIZE) reject(new Error('bad output length'));
          if (lent) {
            if (result.outputs[0] !== lent) reject(new Error('lent output array not used'));
            freeOutputs.push(lent);
          }
          done++;
          if (done % 2000 === 0) onProgress?.(done);
          if (done === count) resolve();
          else pump();
        }, reject);
      }
    };
    pump();
  });
}

const pose = await compilePoseModel({ path: modelPath, hint: 'THROUGHPUT' });
const queue = new AsyncInferQueue(pose.compiled);
console.log(`model ${modelPath}, precision ${pose.precision}, queue size ${queue.size}, maxQueued ${queue.maxQueued}, outputs ${outputMode}`);
await run(queue, warmup);
const startRss = memory(`after warm-up (${warmup})`);
const t0 = performance.now();
await run(queue, total, (done) => memory(`  ${done}/${total}`));
const seconds = (performance.now() - t0) / 1000;
const endRss = memory(`after ${total}`);
console.log(`throughput ${(total / seconds).toFixed(1)} inferences/s over ${seconds.toFixed(0)} s`);
console.log(`RSS growth ${mb(endRss - startRss)} MB (target < 30 MB): ${endRss - startRss < 30 * 1024 * 1024 ? 'PASS' : 'FAIL'}`);
await queue.release();
