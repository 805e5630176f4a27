/**
 * Checks that a model's ports look like YOLOv8-pose: one image input ('images' from Ultralytics ONNX, 'x' from
 * its OpenVINO export) [N,3,S,S] (or [N,3,?,?] from a `dynamic=True` export) and one output [N,56,anchors]
 * (4 box + 1 score + 17 x 3 keypoints), and settles the input size the model runs at. Pure, so it is unit-tested
 * without OpenVINO.
 */
import { PosestreamError } from '../../../../pipeline/errors.js';
import { MODEL_INPUT_SIZE } from '../../../../pipeline/pose/letterbox.js';

export const POSE_INPUT_NAMES = ['images', 'x'] as const;
export const POSE_OUTPUT_ROWS = 56;

export interface PortShape {
  anyName: string;
  partialShape: number[] | null;
}

export interface PoseModelLayout {
  inputName: string;
  /** The batch dimension of the file (-1: dynamic). */
  batch: number;
  /** Batch dimension of the model input is dynamic (-1). */
  batchDynamic: boolean;
  /** Side of the square input, undefined when height and width are dynamic (a `dynamic=True` export). */
  inputSize: number | undefined;
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
  const square = inShape !== null && inShape.length === 4 && inShape[1] === 3 && inShape[2] === inShape[3];
  if (!square || (inShape[2]! < 0) !== (inShape[3]! < 0)) {
    throw notPose(file, `input '${input.anyName}' has shape ${describe(inShape)}, expected [N,3,S,S] (square) or [N,3,?,?]`);
  }
  const outShape = output.partialShape;
  if (outShape === null || outShape.length !== 3 || outShape[1] !== POSE_OUTPUT_ROWS) {
    throw notPose(file, `output has shape ${describe(outShape)}, expected [N,${POSE_OUTPUT_ROWS},anchors]`);
  }
  const side = inShape[2]!;
  return { inputName: input.anyName, batch: inShape[0]!, batchDynamic: inShape[0] === -1, inputSize: side > 0 ? side : undefined, anchors: outShape[2]! };
}

/**
 * The input size to run a model at: a dynamic model takes the requested size (default MODEL_INPUT_SIZE) and is
 * reshaped to it; a model with a fixed size keeps it, and a different requested size is an error saying what to do.
 */
export function resolveInputSize(file: string, layout: Pick<PoseModelLayout, 'inputSize'>, requested: number | undefined): number {
  if (requested !== undefined && (!Number.isInteger(requested) || requested < 32 || requested % 32 !== 0)) {
    throw new PosestreamError('PS_OV_BAD_ARGUMENT', `input size must be a positive multiple of 32, got ${requested}`);
  }
  if (layout.inputSize === undefined) return requested ?? MODEL_INPUT_SIZE;
  if (requested !== undefined && requested !== layout.inputSize) {
    throw new PosestreamError(
      'PS_OV_INPUT_SIZE_MISMATCH',
      `${file} has a fixed ${layout.inputSize}x${layout.inputSize} input but ${requested}x${requested} was asked for (model.inputSize): ` +
        `set model.inputSize to ${layout.inputSize}, or export the model with a dynamic input size`,
    );
  }
  return layout.inputSize;
}
