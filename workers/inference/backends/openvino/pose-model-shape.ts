/**
 * Checks that a model's ports look like YOLOv8-pose: one image input ('images' from Ultralytics ONNX, 'x' from
 * its OpenVINO export) [N,3,640,640] and one output [N,56,anchors] (4 box + 1 score + 17 x 3 keypoints).
 * Pure, so it is unit-tested without OpenVINO.
 */
import { PosestreamError } from '../../../../pipeline/errors.js';

export const POSE_INPUT_NAMES = ['images', 'x'] as const;
export const POSE_OUTPUT_ROWS = 56;
export const POSE_INPUT_SIZE = 640;

export interface PortShape {
  anyName: string;
  partialShape: number[] | null;
}

export interface PoseModelLayout {
  inputName: string;
  /** Batch dimension of the model input is dynamic (-1). */
  batchDynamic: boolean;
  /** Number of anchors (8400 for 640x640), -1 if dynamic. */
  anchors: number;
}

function describe(shape: number[] | null): string {
  return shape === null ? '[?]' : `[${shape.map((d) => (d < 0 ? '?' : String(d))).join(',')}]`;
}

function notPose(file: string, problem: string): PosestreamError {
  return new PosestreamError('PS_OV_NOT_POSE_MODEL', `${file} is not a YOLOv8-pose model: ${problem}`);
}

export function validatePoseModelPorts(file: string, inputs: PortShape[], outputs: PortShape[]): PoseModelLayout {
  if (inputs.length !== 1) throw notPose(file, `expected 1 input, found ${inputs.length}`);
  if (outputs.length !== 1) {
    throw notPose(file, `expected 1 output [N,${POSE_OUTPUT_ROWS},anchors], found ${outputs.length} outputs`);
  }
  const input = inputs[0]!;
  const output = outputs[0]!;
  if (!(POSE_INPUT_NAMES as readonly string[]).includes(input.anyName)) {
    throw notPose(file, `input is named '${input.anyName}', expected one of ${POSE_INPUT_NAMES.join(', ')}`);
  }
  const inShape = input.partialShape;
  if (inShape === null || inShape.length !== 4 || inShape[1] !== 3 || inShape[2] !== POSE_INPUT_SIZE || inShape[3] !== POSE_INPUT_SIZE) {
    throw notPose(file, `input '${input.anyName}' has shape ${describe(inShape)}, expected [N,3,640,640]`);
  }
  const outShape = output.partialShape;
  if (outShape === null || outShape.length !== 3 || outShape[1] !== POSE_OUTPUT_ROWS) {
    throw notPose(file, `output has shape ${describe(outShape)}, expected [N,${POSE_OUTPUT_ROWS},anchors]`);
  }
  return { inputName: input.anyName, batchDynamic: inShape[0] === -1, anchors: outShape[2]! };
}
