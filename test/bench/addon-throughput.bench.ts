/**
 * Is the AsyncInferQueue the bottleneck? Runs OpenVINO's benchmark_app and then the queue on the same model,
 * hint and input shape in one script run, and prints queue fps / benchmark_app fps (target >= 0.95).
 * Run: `nice -n 10 npx tsx test/bench/addon-throughput.bench.ts` (env POSESTREAM_BENCH_SECONDS, default 15).
 */
import { runBenchmarkApp } from '../../cli/bench/benchmark-app.js';
import { assetPath } from '../../pipeline/assets.js';
import { AsyncInferQueue, Core } from '../../workers/inference/backends/openvino/index.js';

const seconds = Number(process.env.POSESTREAM_BENCH_SECONDS ?? 15);
const modelPath = process.env.POSESTREAM_BENCH_MODEL ?? assetPath('fp32Onnx');

async function queueFps(): Promise<{ fps: number; size: number; precision: string }> {
  const core = new Core();
  const model = await core.readModel(modelPath);
  model.reshape([1, 3, 640, 640]);
  const compiled = await core.compileModel(model, 'CPU', { PERFORMANCE_HINT: 'THROUGHPUT' });
  const queue = new AsyncInferQueue(compiled);
  const input = { data: new Float32Array(3 * 640 * 640).fill(0.5), shape: [1, 3, 640, 640] };
  // Keep every request busy plus one waiting job each, like a worker with frames backed up.
  const depth = 2 * queue.size;
  const runFor = async (ms: number): Promise<number> => {
    const deadline = performance.now() + ms;
    let done = 0;
    const lane = async () => {
      while (performance.now() < deadline) {
        await queue.startAsync(input);
        done++;
      }
    };
    const t0 = performance.now();
    await Promise.all(Array.from({ length: depth }, lane));
    return (done * 1000) / (performance.now() - t0);
  };
  await runFor(2000);
  const fps = await runFor(seconds * 1000);
  const precision = compiled.getProperty('INFERENCE_PRECISION_HINT');
  const size = queue.size;
  await queue.release();
  return { fps, size, precision };
}

const reference = await runBenchmarkApp({ model: modelPath, device: 'CPU', shape: [1, 3, 640, 640], seconds });
console.log(`benchmark_app: ${reference.fps.toFixed(2)} fps with ${reference.requests} requests`);
const ours = await queueFps();
console.log(`AsyncInferQueue: ${ours.fps.toFixed(2)} fps with ${ours.size} requests (precision ${ours.precision})`);
console.log(`ratio queue/benchmark_app = ${(ours.fps / reference.fps).toFixed(3)} (target >= 0.95)`);
