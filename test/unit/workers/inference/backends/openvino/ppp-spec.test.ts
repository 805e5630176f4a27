import { describe, expect, it } from 'vitest';
import { PrePostProcessSpecBuilder } from '../../../../../../workers/inference/backends/openvino/ppp-spec.js';

describe('PrePostProcessSpecBuilder', () => {
  it('records the chained openvino-node style calls as one spec per input, steps in call order', () => {
    const ppp = new PrePostProcessSpecBuilder();
    ppp.input('images').tensor().setElementType('u8').setLayout('NHWC').setColorFormat('BGR').setSpatialStaticShape(480, 640);
    ppp.input('images').preprocess().convertElementType('f32').convertColor('RGB').resize('linear').mean([1, 2, 3]).scale(255);
    ppp.input('images').model().setLayout('NCHW');
    ppp.output().tensor().setElementType('f32');
    expect(ppp.spec()).toEqual({
      inputs: [
        {
          selector: 'images',
          tensor: { elementType: 'u8', layout: 'NHWC', colorFormat: 'BGR', spatialStaticShape: [480, 640] },
          steps: [
            { op: 'convertElementType', elementType: 'f32' },
            { op: 'convertColor', colorFormat: 'RGB' },
            { op: 'resize', algorithm: 'linear' },
            { op: 'mean', value: [1, 2, 3] },
            { op: 'scale', value: 255 },
          ],
          modelLayout: 'NCHW',
        },
      ],
      outputs: [{ selector: 0, elementType: 'f32' }],
    });
  });

  it('keeps inputs selected by index and by name apart', () => {
    const ppp = new PrePostProcessSpecBuilder();
    ppp.input().preprocess().reverseChannels();
    ppp.input(1).preprocess().convertLayout('NCHW');
    expect(ppp.spec().inputs.map((input) => [input.selector, input.steps.length])).toEqual([
      [0, 1],
      [1, 1],
    ]);
  });
});
