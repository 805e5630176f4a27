import { describe, expect, it } from 'vitest';
import { PosestreamError } from '../../../../../../pipeline/errors.js';
import { validatePoseModelPorts } from '../../../../../../workers/inference/backends/openvino/pose-model-shape.js';

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
      batchDynamic: true,
      anchors: 8400,
    });
    expect(
      validatePoseModelPorts('b.xml', [{ anyName: 'x', partialShape: [1, 3, 640, 640] }], [{ anyName: '', partialShape: [1, 56, 8400] }]),
    ).toEqual({ inputName: 'x', batchDynamic: false, anchors: 8400 });
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
    expect(rejection(() => validatePoseModelPorts('m', [{ anyName: 'x', partialShape: [1, 3, 320, 320] }], [poseOutput])).message).toMatch(
      /\[1,3,320,320\]/,
    );
    expect(rejection(() => validatePoseModelPorts('m', input, [{ anyName: 'o', partialShape: null }])).message).toMatch(/\[\?\]/);
    expect(rejection(() => validatePoseModelPorts('m', [], [poseOutput])).message).toMatch(/expected 1 input, found 0/);
  });
});
