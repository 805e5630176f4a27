import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { defaultModelPaths } from '../../pipeline/assets.js';
import { PosestreamError, isPosestreamError } from '../../pipeline/errors.js';
import type { Person } from '../../pipeline/wire/v1.js';

/**
 * `posestream infer <image...>`: pose estimation on image files through the same path the workers use
 * (fitted RGB -> PoseEngine -> decodePoses), optionally writing annotated copies. One bad file is reported by
 * name and the rest still run; exit 1 then. Model, device and option errors stop everything with exit 2.
 */
export interface InferImageResult {
  image: string;
  width: number;
  height: number;
  persons: Person[];
}

interface InferOptions {
  model: string;
  out?: string;
  conf: string;
  iou: string;
  json?: boolean;
  device: string;
  precision: string;
}

export function registerInferCommand(program: Command): void {
  program
    .command('infer')
    .description('Detect poses in image files (annotated copies with --out, one JSON array with --json)')
    .argument('<image...>', 'image files (JPEG, PNG, WebP, ...)')
    .option('--model <path>', 'YOLOv8-pose OpenVINO IR or ONNX', defaultModelPaths.fp32)
    .option('--out <dir>', 'write annotated images into this folder (same file names)')
    .option('--conf <n>', 'person score threshold', '0.25')
    .option('--iou <n>', 'NMS IoU threshold', '0.7')
    .option('--device <name>', 'OpenVINO device', 'CPU')
    .option('--precision <hint>', "INFERENCE_PRECISION_HINT: f32 (default, as models predict), bf16, f16 or 'default'", 'f32')
    .option('--json', 'print one JSON array [{image, width, height, persons}] on stdout')
    .action(async (images: string[], options: InferOptions) => {
      process.exitCode = await runInfer(images, options);
    });
}

const PER_IMAGE_ERRORS = new Set(['PS_IMAGE_UNREADABLE', 'PS_IMAGE_WRITE_FAILED', 'PS_ENGINE_BAD_FRAME']);

function threshold(value: string, name: string): number {
  const number = Number(value);
  if (!(number >= 0 && number <= 1)) throw new PosestreamError('PS_CLI_BAD_OPTION', `${name} must be a number in [0, 1], got ${value}`);
  return number;
}

/** Output names stay the input's base name; a second input with the same name gets -2, -3, ... */
function outputNames(images: string[], dir: string): string[] {
  const used = new Map<string, number>();
  return images.map((image) => {
    const ext = path.extname(image).toLowerCase();
    const stem = path.basename(image, path.extname(image));
    const suffix = ['.jpg', '.jpeg', '.png', '.webp'].includes(ext) ? ext : '.jpg';
    const count = (used.get(stem + suffix) ?? 0) + 1;
    used.set(stem + suffix, count);
    return path.join(dir, count === 1 ? `${stem}${suffix}` : `${stem}-${count}${suffix}`);
  });
}

async function runInfer(images: string[], options: InferOptions): Promise<number> {
  const decode = { confidence: threshold(options.conf, '--conf'), iou: threshold(options.iou, '--iou'), maxDetections: 300 };
  const [{ PoseEngine }, { fitImage, readRgbImage, writeRgbImage }, { drawPoses }] = await Promise.all([
    import('../../workers/inference/pose-engine.js'),
    import('../../pipeline/image/read-image.js'),
    import('../../pipeline/pose/draw.js'),
  ]);
  if (options.out) await mkdir(options.out, { recursive: true });
  const outputs = options.out ? outputNames(images, options.out) : [];
  const engine = await PoseEngine.create({
    modelPath: options.model,
    device: options.device,
    settings: { openvino: { hint: 'LATENCY' } },
    precision: options.precision,
    decode,
  });
  const results: Array<InferImageResult | undefined> = new Array(images.length);
  let failed = 0;
  try {
    // Files one after another: a CLI run is a handful of images, and order of messages then follows the input.
    for (const [index, image] of images.entries()) {
      try {
        const rgb = await readRgbImage(image);
        const { persons } = await engine.infer([fitImage(rgb, engine.inputSize)]);
        const found = persons[0]!;
        results[index] = { image, width: rgb.width, height: rgb.height, persons: found };
        const out = outputs[index];
        if (out) {
          drawPoses(rgb.pixels, rgb.width, rgb.height, found, rgb.width, rgb.height);
          await writeRgbImage(out, rgb);
        }
        if (!options.json) process.stdout.write(`${image}: ${found.length} person(s)${out ? ` -> ${out}` : ''}\n`);
      } catch (error) {
        // This file's problem: report it and go on. Anything else (model, device, addon) ends the run.
        if (!isPosestreamError(error) || !PER_IMAGE_ERRORS.has(error.code)) throw error;
        failed++;
        process.stderr.write(`posestream infer: ${error.message} [${error.code}]\n`);
      }
    }
  } finally {
    await engine.dispose();
  }
  if (options.json) {
    process.stdout.write(`${JSON.stringify(results.filter((r): r is InferImageResult => r !== undefined))}\n`);
  } else {
    process.stderr.write(`model ${options.model} on ${engine.device}, inference precision ${engine.precision}\n`);
  }
  if (failed > 0) process.stderr.write(`posestream infer: ${failed} of ${images.length} image(s) failed\n`);
  return failed > 0 ? 1 : 0;
}
