"""Load a YOLOv8-pose model (IR or ONNX), check it really is one, compile it with a pinned precision."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import openvino as ov

from posestream_models.decode import POSE_ROWS
from posestream_models.errors import ModelsError, first_line, quiet_native_stderr, require_file

MODEL_SUFFIXES = (".xml", ".onnx")
# "default" leaves the choice to OpenVINO (bf16 on CPUs with AVX512_BF16/AMX), anything else is pinned.
DEFAULT_PRECISION = "f32"


def read_pose_model(path: Path, core: ov.Core | None = None) -> ov.Model:
    require_file(path, "model file")
    if path.suffix.lower() not in MODEL_SUFFIXES:
        raise ModelsError(f"model {path}: unsupported file type '{path.suffix}', expected .xml (OpenVINO IR) or .onnx")
    if path.suffix.lower() == ".xml":
        require_file(path.with_suffix(".bin"), "model weights (.bin next to the .xml)")
    try:
        with quiet_native_stderr():
            model = (core or ov.Core()).read_model(str(path))
    except Exception as error:  # OpenVINO raises RuntimeError subclasses with multi-line dumps
        raise ModelsError(f"model {path}: cannot read it ({first_line(error)})") from error
    check_pose_model(model, path)
    return model


def check_pose_model(model: ov.Model, path: Path, static_anchors: bool = False) -> None:
    """The rest of the toolchain assumes one image input and one [N,56,anchors] output (anchors static once converted)."""
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise ModelsError(
            f"model {path}: expected 1 input and 1 output, got {len(model.inputs)} inputs and {len(model.outputs)} outputs"
        )
    input_shape = model.input(0).get_partial_shape()
    if input_shape.rank.is_dynamic or input_shape.rank.get_length() != 4 or str(input_shape[1]) != "3":
        raise ModelsError(f"model {path}: input shape {input_shape} is not [N,3,H,W]")
    output_shape = model.output(0).get_partial_shape()
    if (
        output_shape.rank.is_dynamic
        or output_shape.rank.get_length() != 3
        or str(output_shape[1]) != str(POSE_ROWS)
    ):
        raise ModelsError(
            f"model {path}: output shape {output_shape} is not [N,{POSE_ROWS},anchors]; not a YOLOv8-pose (17 keypoint) model"
        )
    if static_anchors and (input_shape[2].is_dynamic or input_shape[3].is_dynamic or output_shape[2].is_dynamic):
        raise ModelsError(f"model {path}: input {input_shape} / output {output_shape} still have dynamic sizes besides the batch")


@dataclass
class PoseRunner:
    """A compiled model plus what actually runs (device, precision read back from the compiled model)."""

    compiled: ov.CompiledModel
    device: str
    precision: str

    def infer(self, tensor: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """[1,3,640,640] -> [56, anchors] for that one image."""
        result = self.compiled(tensor)[self.compiled.output(0)]
        return np.asarray(result[0], dtype=np.float32)


def inference_precision(compiled: ov.CompiledModel) -> str:
    value = compiled.get_property("INFERENCE_PRECISION_HINT")
    return value.to_string() if hasattr(value, "to_string") else str(value)


def compile_pose_model(path: Path, device: str = "CPU", precision: str = DEFAULT_PRECISION) -> PoseRunner:
    core = ov.Core()
    model = read_pose_model(path, core)
    if model.input(0).get_partial_shape().is_dynamic:
        model.reshape({model.input(0).get_any_name(): [1, 3, 640, 640]})
    config: dict[str, str] = {"PERFORMANCE_HINT": "LATENCY"}
    if precision != "default":
        config["INFERENCE_PRECISION_HINT"] = precision
    try:
        compiled = core.compile_model(model, device, config)
    except Exception as error:
        raise ModelsError(f"model {path}: cannot compile on {device} with precision {precision} ({first_line(error)})") from error
    return PoseRunner(compiled=compiled, device=device, precision=inference_precision(compiled))
