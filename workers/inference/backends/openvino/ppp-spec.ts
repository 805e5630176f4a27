/**
 * The PrePostProcessor builder (openvino-node's chained shape, plus scale/mean/convert* steps it lacks). It only
 * records steps into a plain spec; index.ts hands the spec to the addon, which applies it through
 * ov_prepostprocess.h in one call. Kept free of the native addon so it can be unit-tested.
 */

export type ColorFormat =
  | 'RGB'
  | 'BGR'
  | 'GRAY'
  | 'RGBX'
  | 'BGRX'
  | 'NV12_SINGLE_PLANE'
  | 'NV12_TWO_PLANES'
  | 'I420_SINGLE_PLANE'
  | 'I420_THREE_PLANES';
export type ResizeAlgorithm = 'linear' | 'cubic' | 'nearest';

export type PreprocessStep =
  | { op: 'convertElementType'; elementType: string }
  | { op: 'convertLayout'; layout: string }
  | { op: 'convertColor'; colorFormat: ColorFormat }
  | { op: 'scale'; value: number | number[] }
  | { op: 'mean'; value: number | number[] }
  | { op: 'resize'; algorithm: ResizeAlgorithm }
  | { op: 'reverseChannels' };

export interface InputSpec {
  selector?: number | string;
  tensor: { elementType?: string; layout?: string; colorFormat?: ColorFormat; spatialStaticShape?: [number, number] };
  steps: PreprocessStep[];
  modelLayout?: string;
}

export interface OutputSpec {
  selector: number;
  elementType?: string;
}

export interface PrePostProcessSpec {
  inputs: InputSpec[];
  outputs: OutputSpec[];
}

export class InputTensorInfo {
  constructor(private readonly spec: InputSpec) {}
  setElementType(elementType: string): this {
    this.spec.tensor.elementType = elementType;
    return this;
  }
  setLayout(layout: string): this {
    this.spec.tensor.layout = layout;
    return this;
  }
  setColorFormat(colorFormat: ColorFormat): this {
    this.spec.tensor.colorFormat = colorFormat;
    return this;
  }
  setSpatialStaticShape(height: number, width: number): this {
    this.spec.tensor.spatialStaticShape = [height, width];
    return this;
  }
}

export class PreProcessSteps {
  constructor(private readonly spec: InputSpec) {}
  convertElementType(elementType: string): this {
    this.spec.steps.push({ op: 'convertElementType', elementType });
    return this;
  }
  convertLayout(layout: string): this {
    this.spec.steps.push({ op: 'convertLayout', layout });
    return this;
  }
  convertColor(colorFormat: ColorFormat): this {
    this.spec.steps.push({ op: 'convertColor', colorFormat });
    return this;
  }
  /** Divides by `value` (per channel when an array). */
  scale(value: number | number[]): this {
    this.spec.steps.push({ op: 'scale', value });
    return this;
  }
  /** Subtracts `value` (per channel when an array). */
  mean(value: number | number[]): this {
    this.spec.steps.push({ op: 'mean', value });
    return this;
  }
  resize(algorithm: ResizeAlgorithm): this {
    this.spec.steps.push({ op: 'resize', algorithm });
    return this;
  }
  reverseChannels(): this {
    this.spec.steps.push({ op: 'reverseChannels' });
    return this;
  }
}

export class InputModelInfo {
  constructor(private readonly spec: InputSpec) {}
  setLayout(layout: string): this {
    this.spec.modelLayout = layout;
    return this;
  }
}

export class InputInfo {
  constructor(private readonly spec: InputSpec) {}
  tensor(): InputTensorInfo {
    return new InputTensorInfo(this.spec);
  }
  preprocess(): PreProcessSteps {
    return new PreProcessSteps(this.spec);
  }
  model(): InputModelInfo {
    return new InputModelInfo(this.spec);
  }
}

export class OutputInfo {
  constructor(private readonly spec: OutputSpec) {}
  tensor(): { setElementType(elementType: string): OutputInfo } {
    return {
      setElementType: (elementType: string) => {
        this.spec.elementType = elementType;
        return this;
      },
    };
  }
}

export class PrePostProcessSpecBuilder {
  private readonly inputs = new Map<number | string, InputSpec>();
  private readonly outputs = new Map<number, OutputSpec>();

  /** The input by index (default 0) or tensor name; repeated calls for the same input add to one spec. */
  input(selector: number | string = 0): InputInfo {
    let spec = this.inputs.get(selector);
    if (!spec) {
      spec = { selector, tensor: {}, steps: [] };
      this.inputs.set(selector, spec);
    }
    return new InputInfo(spec);
  }

  output(index = 0): OutputInfo {
    let spec = this.outputs.get(index);
    if (!spec) {
      spec = { selector: index };
      this.outputs.set(index, spec);
    }
    return new OutputInfo(spec);
  }

  spec(): PrePostProcessSpec {
    return { inputs: [...this.inputs.values()], outputs: [...this.outputs.values()] };
  }
}
