import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { assetPath, buildDir } from '../../pipeline/assets.js';
import { venvPython } from './env.js';

/**
 * A YOLOv8-pose model with a dynamic input [?,3,?,?], as Ultralytics' `export(format="openvino", dynamic=True)` writes
 * it: the shared ONNX reshaped by OpenVINO's own Python API (already in the venv) and saved as FP32 IR. Generated
 * into build/test-models/ on first use, never committed.
 */
export function dynamicPoseModel(): string {
  const out = path.join(buildDir, 'test-models', 'yolov8n-pose-dynamic', 'yolov8n-pose-dynamic.xml');
  if (existsSync(out)) return out;
  mkdirSync(path.dirname(out), { recursive: true });
  const script = [
    'import sys, openvino as ov',
    'model = ov.Core().read_model(sys.argv[1])',
    'model.reshape({model.input(0).get_any_name(): ov.PartialShape([-1, 3, -1, -1])})',
    'ov.save_model(model, sys.argv[2], compress_to_fp16=False)',
  ].join('\n');
  execFileSync(venvPython, ['-c', script, assetPath('fp32Onnx'), out], { stdio: ['ignore', 'ignore', 'pipe'] });
  return out;
}
