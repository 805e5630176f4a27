import { existsSync, statSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Option, type Command } from 'commander';
import { defaultModelPaths } from '../../pipeline/assets.js';
import { PosestreamError } from '../../pipeline/errors.js';
import { MODEL_INPUT_FORMATS, frameFormatOf, rgbToI420, type ModelInputFormat } from '../../pipeline/image/i420.js';
import type { Person } from '../../pipeline/wire/v1.js';
import { registerFallEvalCommand } from './eval-falls.js';
import { registerEvalTrackCommand } from './eval-track.js';
import { runModelsJson } from './models.js';

/**
 * `posestream eval`: COCO box and pose mAP of a model run through the TypeScript path (sharp decode, OpenCV-exact
 * fit, padInto, addon, decodePoses with the COCO protocol conf 0.001 / IoU 0.7 / 300), scored by the same
 * pycocotools code as `posestream models eval` (`python -m posestream_models score`), so the two are comparable
 * number for number. Dataset layout rules are those of models/src/posestream_models/dataset.py.
 */
interface EvalOptions {
  model: string;
  data: string;
  device: string;
  precision: string;
  /** rgb, or i420: each fitted image goes RGB -> I420 (the decoder's matrix) into a model compiled for I420. */
  inputFormat: ModelInputFormat;
  json?: boolean;
}

export interface EvalMetrics {
  images: number;
  box: { map50: number; map: number };
  pose: { map50: number; map: number };
  precision: string;
  device: string;
  inputFormat: ModelInputFormat;
}

export interface DatasetImage {
  id: number;
  file: string;
}

export function registerEvalCommand(program: Command): void {
  const evalCommand = program
    .command('eval')
    .description('Box and pose mAP on a COCO keypoint dataset through the TypeScript inference path (pycocotools scoring); `eval track`: tracking on MOT ground truth; `eval falls`: fall detection on labelled clips')
    .option('--model <path>', 'YOLOv8-pose OpenVINO IR or ONNX', defaultModelPaths.fp32)
    // Not requiredOption: commander would demand it of `eval track` and `eval falls` too.
    .option('--data <path>', 'dataset folder (annotations/*keypoints*.json + images) or the annotation json (required)')
    .option('--device <name>', 'OpenVINO device', 'CPU')
    .option('--precision <hint>', "INFERENCE_PRECISION_HINT: f32 (default, as models eval), bf16, f16 or 'default'", 'f32')
    .addOption(new Option('--input-format <format>', 'frames as the pipeline carries them: i420 (RGB -> I420 with the BT.601 video-range matrix the model graph reads back) or rgb').choices([...MODEL_INPUT_FORMATS]).default('rgb'))
    .option('--json', 'print one JSON object {images, box, pose, precision, device, inputFormat}')
    // `eval --model X track --model Y`: each command's options are its own (eval's before `track`/`falls`, theirs after).
    .enablePositionalOptions()
    .action(async (options: Partial<EvalOptions>) => {
      if (!options.data) throw new PosestreamError('PS_CLI_BAD_OPTION', "eval: --data <path> is required (a COCO keypoint dataset; for fall detection: posestream eval falls --data DIR)");
      const metrics = await runEval(options as EvalOptions);
      process.stdout.write(options.json ? `${JSON.stringify(metrics)}\n` : `${formatMetrics(metrics)}\n`);
    });
  registerEvalTrackCommand(evalCommand);
  registerFallEvalCommand(evalCommand);
}

function datasetError(message: string): PosestreamError {
  return new PosestreamError('PS_EVAL_BAD_DATASET', message);
}

/** A dataset is the annotation json itself or a folder with one keypoint json under annotations/. */
async function findAnnotationFile(dataset: string): Promise<string> {
  if (!existsSync(dataset)) throw datasetError(`dataset not found: ${dataset}`);
  if (statSync(dataset).isFile()) return dataset;
  const folder = path.join(dataset, 'annotations');
  const candidates = existsSync(folder) ? (await readdir(folder)).filter((name) => name.endsWith('.json')).sort() : [];
  const keypointFiles = candidates.filter((name) => name.includes('keypoint'));
  const files = keypointFiles.length > 0 ? keypointFiles : candidates;
  if (files.length === 0) throw datasetError(`dataset ${dataset}: no annotation json under ${folder}`);
  if (files.length > 1) throw datasetError(`dataset ${dataset}: several annotation files (${files.join(', ')}); pass the json path instead`);
  return path.join(folder, files[0]!);
}

/** coco8-pose stores 'images/train/x.jpg' (root-relative), COCO stores 'x.jpg' beside the split folder. */
async function resolveImage(root: string, annotationFile: string, fileName: string): Promise<string | undefined> {
  for (const candidate of [path.join(root, fileName), path.join(path.dirname(annotationFile), fileName)]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  const folders = (await readdir(root, { withFileTypes: true })).filter((e) => e.isDirectory() && e.name !== 'annotations').map((e) => e.name).sort();
  for (const folder of folders) {
    const candidate = path.join(root, folder, fileName);
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  return undefined;
}

export async function loadKeypointDataset(dataset: string): Promise<{ annotationFile: string; images: DatasetImage[] }> {
  const annotationFile = await findAnnotationFile(dataset);
  const root = statSync(dataset).isDirectory() ? dataset : path.dirname(path.dirname(annotationFile));
  let content: { images?: unknown };
  try {
    content = JSON.parse(await readFile(annotationFile, 'utf8')) as { images?: unknown };
  } catch (error) {
    throw datasetError(`annotation file ${annotationFile}: ${(error as Error).message}`);
  }
  if (!Array.isArray(content.images)) throw datasetError(`annotation file ${annotationFile}: not a COCO annotation file (no 'images' list)`);
  const images: DatasetImage[] = [];
  for (const entry of content.images as Array<{ id?: unknown; file_name?: unknown }>) {
    if (typeof entry?.id !== 'number' || typeof entry.file_name !== 'string') {
      throw datasetError(`annotation file ${annotationFile}: image entry ${JSON.stringify(entry)} lacks id/file_name`);
    }
    const file = await resolveImage(root, annotationFile, entry.file_name);
    if (!file) throw datasetError(`dataset ${root}: image '${entry.file_name}' listed in ${path.basename(annotationFile)} does not exist`);
    images.push({ id: entry.id, file });
  }
  if (images.length === 0) throw datasetError(`annotation file ${annotationFile}: lists no images`);
  return { annotationFile, images };
}

/** Same fields and rounding as person_to_coco in models/src/posestream_models/evaluate.py. */
export function personToCoco(imageId: number, person: Person): Record<string, unknown> {
  const round = (value: number, digits: number): number => Number(value.toFixed(digits));
  const [x1, y1, x2, y2] = person.box;
  return {
    image_id: imageId,
    category_id: 1,
    bbox: [round(x1, 3), round(y1, 3), round(x2 - x1, 3), round(y2 - y1, 3)],
    score: round(person.score, 5),
    keypoints: person.keypoints.flatMap((point) => point.map((value) => round(value, 3))),
  };
}

async function detect(options: EvalOptions, images: DatasetImage[]): Promise<{ detections: Record<string, unknown>[]; precision: string; device: string }> {
  const [{ PoseEngine }, { readFittedImage }, { EVAL_DECODE_OPTIONS }] = await Promise.all([
    import('../../workers/inference/pose-engine.js'),
    import('../../pipeline/image/read-image.js'),
    import('../../pipeline/pose/decode-yolov8.js'),
  ]);
  const inputFormat = frameFormatOf(options.inputFormat);
  const engine = await PoseEngine.create({ modelPath: options.model, device: options.device, settings: { openvino: { hint: 'THROUGHPUT' } }, precision: options.precision, decode: EVAL_DECODE_OPTIONS, inputFormat });
  process.stderr.write(`evaluating ${options.model} on ${images.length} images (${engine.device}, inference precision ${engine.precision}, input ${options.inputFormat})\n`);
  const perImage: Record<string, unknown>[][] = new Array(images.length);
  try {
    // Up to `requests` images decoding/inferring at once keeps every infer request busy while sharp decodes the next.
    let next = 0;
    const lane = async (): Promise<void> => {
      for (let index = next++; index < images.length; index = next++) {
        const image = images[index]!;
        const fitted = await readFittedImage(image.file, engine.inputSize);
        // I420 is made from the fitted RGB, as the decoder scales first and converts in the same pass.
        const frame = inputFormat === 'i420' ? { ...fitted, pixels: rgbToI420(fitted.pixels, fitted.width, fitted.height), format: inputFormat } : fitted;
        const { persons } = await engine.infer([frame]);
        perImage[index] = persons[0]!.map((person) => personToCoco(image.id, person));
      }
    };
    await Promise.all(Array.from({ length: engine.requests }, lane));
  } finally {
    await engine.dispose();
  }
  return { detections: perImage.flat(), precision: engine.precision, device: engine.device };
}

/** pycocotools through the models/ package; stdout carries exactly one JSON object. */
async function score(annotationFile: string, detectionsFile: string): Promise<Omit<EvalMetrics, 'precision' | 'device'>> {
  return (await runModelsJson(['score', '--gt', annotationFile, '--dt', detectionsFile, '--json'], 'PS_EVAL_SCORE_FAILED')) as Omit<EvalMetrics, 'precision' | 'device'>;
}

export async function runEval(options: EvalOptions): Promise<EvalMetrics> {
  const { annotationFile, images } = await loadKeypointDataset(options.data);
  const { detections, precision, device } = await detect(options, images);
  const folder = await mkdtemp(path.join(tmpdir(), 'posestream-eval-'));
  try {
    const detectionsFile = path.join(folder, 'detections.json');
    await writeFile(detectionsFile, JSON.stringify(detections));
    const metrics = await score(annotationFile, detectionsFile);
    return { images: metrics.images, box: metrics.box, pose: metrics.pose, precision, device, inputFormat: options.inputFormat };
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

export function formatMetrics(metrics: EvalMetrics): string {
  return [
    `images: ${metrics.images}`,
    `box  mAP50 ${metrics.box.map50.toFixed(4)}  mAP50-95 ${metrics.box.map.toFixed(4)}`,
    `pose mAP50 ${metrics.pose.map50.toFixed(4)}  mAP50-95 ${metrics.pose.map.toFixed(4)}`,
    `device ${metrics.device}, inference precision ${metrics.precision}, input ${metrics.inputFormat}`,
  ].join('\n');
}
