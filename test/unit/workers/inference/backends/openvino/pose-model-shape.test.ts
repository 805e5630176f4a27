import { describe, expect, it } from 'vitest';
import { PosestreamError } from '../../../../../../pipeline/errors.js';
import { resolveInputSize, validatePoseModelPorts } from '../../../../../../workers/inference/backends/openvino/pose-model-shape.js';

const poseOutput = { anyName: 'output0', partialShape: [-1, 56, 8400] };

function rejection(run: () => unknown): PosestreamError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(PosestreamError);
    return error as PosestreamError;
  }
  throw new Error('expected a PosestreamError');
}

describe('validatePoseModelPorts', () => {
  it('accepts the Ultralytics ONNX (images, dynamic batch) and OpenVINO export (x, static batch)', () => {
    expect(validatePoseModelPorts('a.onnx', [{ anyName: 'images', partialShape: [-1, 3, 640, 640] }], [poseOutput])).toEqual({
      inputName: 'images',
      batch: -1,
      batchDynamic: true,
      inputSize: 640,
      anchors: 8400,
    });
    expect(
      validatePoseModelPorts('b.xml', [{ anyName: 'x', partialShape: [1, 3, 640, 640] }], [{ anyName: '', partialShape: [1, 56, 8400] }]),
    ).toEqual({ inputName: 'x', batch: 1, batchDynamic: false, inputSize: 640, anchors: 8400 });
  });

  it('accepts a dynamic=True export ([?,3,?,?], anchors unknown until reshaped) and a fixed smaller size', () => {
    expect(validatePoseModelPorts('d.xml', [{ anyName: 'x', partialShape: [-1, 3, -1, -1] }], [{ anyName: '', partialShape: [-1, 56, -1] }])).toMatchObject({
      inputSize: undefined,
      anchors: -1,
    });
    expect(validatePoseModelPorts('s.xml', [{ anyName: 'x', partialShape: [1, 3, 320, 320] }], [{ anyName: '', partialShape: [1, 56, 2100] }]).inputSize).toBe(320);
  });

  it('rejects a detection model output with PS_OV_NOT_POSE_MODEL naming the file and the shape found', () => {
    const error = rejection(() =>
      validatePoseModelPorts('/m/yolov8n.onnx', [{ anyName: 'images', partialShape: [1, 3, 640, 640] }], [
        { anyName: 'output0', partialShape: [1, 84, 8400] },
      ]),
    );
    expect(error.code).toBe('PS_OV_NOT_POSE_MODEL');
    expect(error.message).toContain('/m/yolov8n.onnx');
    expect(error.message).toContain('[1,84,8400]');
  });

  it('rejects extra outputs, unknown input names, wrong input sizes and dynamic ranks', () => {
    const input = [{ anyName: 'images', partialShape: [1, 3, 640, 640] }];
    expect(rejection(() => validatePoseModelPorts('m', input, [poseOutput, poseOutput])).message).toMatch(/found 2 outputs/);
    expect(rejection(() => validatePoseModelPorts('m', [{ anyName: 'data', partialShape: [1, 3, 640, 640] }], [poseOutput])).message).toMatch(
      /named 'data'/,
    );
    expect(rejection(() => validatePoseModelPorts('m', [{ anyName: 'x', partialShape: [1, 3, 320, 640] }], [poseOutput])).message).toMatch(
      /\[1,3,320,640\], expected \[N,3,S,S\]/,
    );
    expect(rejection(() => validatePoseModelPorts('m', [{ anyName: 'x', partialShape: [1, 3, -1, 640] }], [poseOutput])).message).toMatch(/\[1,3,\?,640\]/);
    expect(rejection(() => validatePoseModelPorts('m', input, [{ anyName: 'o', partialShape: null }])).message).toMatch(/\[\?\]/);
    expect(rejection(() => validatePoseModelPorts('m', [], [poseOutput])).message).toMatch(/expected 1 input, found 0/);
  });
});

describe('resolveInputSize', () => {
  it('reshapes a dynamic model to the requested size (640 by default)', () => {
    expect(resolveInputSize('d.xml', { inputSize: undefined }, undefined)).toBe(640);
    expect(resolveInputSize('d.xml', { inputSize: undefined }, 320)).toBe(320);
  });

  it('keeps a fixed model at its size and says what to do when another size is asked for', () => {
    expect(resolveInputSize('s.xml', { inputSize: 320 }, undefined)).toBe(320);
    expect(resolveInputSize('s.xml', { inputSize: 640 }, 640)).toBe(640);
    const error = rejection(() => resolveInputSize('/m/s.xml', { inputSize: 640 }, 320));
    expect(error.code).toBe('PS_OV_INPUT_SIZE_MISMATCH');
    expect(error.message).toBe('/m/s.xml has a fixed 640x640 input but 320x320 was asked for (model.inputSize): set model.inputSize to 640, or export the model with a dynamic input size');
    expect(rejection(() => resolveInputSize('d.xml', { inputSize: undefined }, 300)).message).toMatch(/multiple of 32/);
  });
});
