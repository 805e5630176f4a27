import { existsSync } from 'node:fs';
import path from 'node:path';
import { assetsDir, repoRoot } from '../config/paths.js';

/** Where the repository and the shared assets are is decided once, in config/paths.ts (config files use it too). */
export { assetsDir, repoRoot };

export const sharedAssets = {
  fp32Onnx: 'models/yolov8n-pose-fp32.onnx',
  int8ReferenceIr: 'models/yolov8n-pose-int8-reference/yolov8n-pose.xml',
  cocoMini: 'datasets/coco-mini-val2017-person-kpts',
  coco8Pose: 'datasets/coco8-pose',
  fallsDev: 'datasets/falls-gmdcsa24-dev',
  walkingVideo: 'media/walking_person_720p.mp4',
  /** MOT15 TUD-Stadtmitte: 179 frames, 10 people, MOT ground truth (video frame n = gt frame n + 1). */
  tudVideo: 'datasets/mot15-tud-stadtmitte/TUD-Stadtmitte_640x480_25fps.mp4',
  tudGroundTruth: 'datasets/mot15-tud-stadtmitte/gt/gt.txt',
  streetVideo: 'media/street_pedestrians_1080p.mp4',
  squatVideo: 'media/squat_single_person_960x544.mp4',
  busImage: 'media/bus.jpg',
  zidaneImage: 'media/zidane.jpg',
} as const;

export type SharedAssetName = keyof typeof sharedAssets;

export function assetPath(name: SharedAssetName, env: NodeJS.ProcessEnv = process.env): string {
  return path.join(assetsDir(env), sharedAssets[name]);
}

export function assetExists(name: SharedAssetName, env: NodeJS.ProcessEnv = process.env): boolean {
  return existsSync(assetPath(name, env));
}

/** Where generated, git-ignored artefacts go (converted models, reports, test artefacts). */
export const buildDir = path.join(repoRoot, 'build');

export const defaultModelPaths = {
  fp32: path.join(buildDir, 'models', 'yolov8n-pose', 'fp32', 'yolov8n-pose-fp32.xml'),
  int8: path.join(buildDir, 'models', 'yolov8n-pose', 'int8', 'yolov8n-pose-int8.xml'),
} as const;
