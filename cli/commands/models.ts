import { spawn } from 'node:child_process';
import path from 'node:path';
import type { Command } from 'commander';
import { repoRoot } from '../../pipeline/assets.js';
import { PosestreamError } from '../../pipeline/errors.js';

/**
 * `posestream models <subcommand> ...` forwards everything to the Python toolchain in models/
 * (`python -m posestream_models`), which owns conversion, NNCF quantization, COCO scoring and benchmark_app.
 * Options are not re-declared here so the two CLIs cannot drift; `--help` is answered by Python too.
 */
const modelsSubcommands: ReadonlyArray<readonly [name: string, summary: string]> = [
  ['convert', 'ONNX or Ultralytics .pt -> FP32 OpenVINO IR + metadata.json'],
  ['quantize', 'NNCF post-training INT8 quantization (video/image/COCO calibration)'],
  ['eval', 'box + pose mAP of an IR/ONNX model on a COCO keypoint dataset'],
  ['score', 'box + pose mAP of a COCO results file (the reference scoring)'],
  ['track-score', 'IDF1 / MOTA / ID switches of MOT predictions (py-motmetrics, IoU 0.5)'],
  ['track-peers', "Ultralytics' trackers (ByteTrack, BoT-SORT, OC-SORT) on the same IR, scored alike ([ultralytics] extra)"],
  ['peer-predict', 'Ultralytics predict(stream=True) on the same IR, one loop per file/stream: frames/s, latency, CPU ([ultralytics] extra)'],
  ['predict', 'golden YOLOv8-pose decode of images as JSON'],
  ['bench', 'benchmark_app throughput and latency'],
  ['report', 'FP32 vs INT8 accuracy/speed report with chart'],
  ['golden', 'dump letterboxed inputs, raw outputs and reference decodes (TS golden test)'],
  ['fall-score', 'precision/recall/F1 and delay of fall alerts against labelled fall onsets (scikit-learn)'],
];

export function modelsPython(env: NodeJS.ProcessEnv = process.env): string {
  return env.POSESTREAM_PYTHON ?? path.join(repoRoot, '.venv', 'bin', 'python');
}

/** Runs the toolchain with inherited stdio; resolves to the exit code (128 + n when killed by signal n). */
export function runModelsToolchain(args: readonly string[], python: string = modelsPython()): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, ['-m', 'posestream_models', ...args], { stdio: 'inherit' });
    child.once('error', (error: NodeJS.ErrnoException) => {
      const hint = error.code === 'ENOENT' ? ' (set POSESTREAM_PYTHON or create .venv and `pip install -e models`)' : '';
      reject(new PosestreamError('PS_MODELS_PYTHON_FAILED', `cannot start ${python}: ${error.message}${hint}`, { cause: error }));
    });
    child.once('exit', (code, signal) => {
      resolve(code ?? 128 + (signal === null ? 0 : signalNumber(signal)));
    });
  });
}

/**
 * Runs a toolchain verb that prints exactly one JSON value on stdout (`--json`) and returns it parsed; a failure
 * becomes `errorCode` with the last lines of the toolchain's stderr.
 */
export async function runModelsJson(args: readonly string[], errorCode: string, python: string = modelsPython()): Promise<unknown> {
  const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(python, ['-m', 'posestream_models', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.once('error', (error) => reject(new PosestreamError('PS_MODELS_PYTHON_FAILED', `cannot start ${python}: ${error.message}`, { cause: error })));
    child.once('close', (exit) => resolve({ code: exit, stdout: out, stderr: err }));
  });
  if (code !== 0) throw new PosestreamError(errorCode, `${args[0]} failed (exit ${code}): ${stderr.trim().split('\n').slice(-2).join('; ')}`);
  try {
    return JSON.parse(stdout) as unknown;
  } catch {
    throw new PosestreamError(errorCode, `${args[0]} printed no JSON result (stdout starts: ${JSON.stringify(stdout.slice(0, 80))})`);
  }
}

function signalNumber(signal: NodeJS.Signals): number {
  const numbers: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };
  return numbers[signal] ?? 1;
}

export function registerModelsCommand(program: Command): void {
  const models = program
    .command('models')
    .description('YOLOv8-pose model toolchain (Python, in models/): convert, quantize, eval, score, predict, bench, report');
  for (const [name, summary] of modelsSubcommands) {
    models
      .command(name)
      .description(`${summary} (options: posestream models ${name} --help)`)
      .helpOption(false)
      .allowUnknownOption()
      .allowExcessArguments()
      .action(async (_options: unknown, command: Command) => {
        process.exitCode = await runModelsToolchain([name, ...command.args]);
      });
  }
}
