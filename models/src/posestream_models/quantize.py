"""NNCF post-training INT8 quantization of a YOLOv8-pose FP32 IR, with the pose head kept in float."""

from __future__ import annotations

import logging
import re
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import nncf
import openvino as ov

from posestream_models.calibration import frame_to_tensor, load_calibration_frames
from posestream_models.dataset import DatasetImage, load_keypoint_dataset
from posestream_models.decode import decode_pose
from posestream_models.errors import ModelsError
from posestream_models.evaluate import EVAL_CONF, EVAL_IOU, EVAL_MAX_DETECTIONS, load_ground_truth, person_to_coco, score_detections
from posestream_models.metadata import io_names, read_metadata, sha256_of, write_metadata
from posestream_models.preprocess import preprocess_image
from posestream_models.runtime import read_pose_model

# Post-processing arithmetic in the head (box decode from the DFL, keypoint x*2+anchor, strides) mixes values of
# very different ranges (pixels vs. offsets); 8-bit activations there cost keypoint accuracy for no speed.
HEAD_TAIL_TYPES = {"Add", "Subtract", "Multiply", "Divide", "Sigmoid", "Softmax"}
HEAD_MODULE = re.compile(r"__module\.model\.(\d+)[./]")


def head_module_index(model: ov.Model) -> int:
    indices = [int(m.group(1)) for op in model.get_ops() if (m := HEAD_MODULE.search(op.get_friendly_name()))]
    if not indices:
        raise ModelsError("cannot find the Ultralytics head (no '__module.model.N' node names) in the model")
    return max(indices)


def nodes_after_last_convolution(model: ov.Model) -> list[str]:
    """Arithmetic nodes with no Convolution downstream: the decode tail, whatever the exporter named it."""
    feeds_conv: dict[str, bool] = {}
    for op in reversed(model.get_ordered_ops()):
        consumers = [target.get_node() for output in op.outputs() for target in output.get_target_inputs()]
        feeds_conv[op.get_friendly_name()] = any(
            c.get_type_name() == "Convolution" or feeds_conv.get(c.get_friendly_name(), False) for c in consumers
        )
    return [
        op.get_friendly_name()
        for op in model.get_ordered_ops()
        if op.get_type_name() in HEAD_TAIL_TYPES and not feeds_conv[op.get_friendly_name()] and not is_conv_bias(op)
    ]


def is_conv_bias(op: ov.Node) -> bool:
    """Conv + bias Add is one fused unit for NNCF and OpenVINO; the last convs stay quantized."""
    return op.get_type_name() == "Add" and any(
        source.get_node().get_type_name() == "Convolution" for source in op.input_values()
    )


def pose_head_ignored_scope(model: ov.Model) -> nncf.IgnoredScope:
    """Ultralytics' exporter patterns (head Add/Sub/Mul/Div, the DFL, every Sigmoid), written for the node names
    OpenVINO gives an Ultralytics ONNX (`n___module.model.22/aten::mul/Multiply_2`), plus the structural tail for
    nodes the ONNX round trip renamed (`n_Multiply_340696`)."""
    head = head_module_index(model)
    patterns = [
        rf".*__module\.model\.{head}/aten::[^/]+/(Add|Sub|Mul|Div).*",
        rf".*__module\.model\.{head}\.dfl.*",
    ]
    return nncf.IgnoredScope(
        names=nodes_after_last_convolution(model), patterns=patterns, types=["Sigmoid"], validate=False
    )


def ignored_node_names(model: ov.Model, scope: nncf.IgnoredScope) -> list[str]:
    compiled = [re.compile(p) for p in scope.patterns]
    return [
        op.get_friendly_name()
        for op in model.get_ordered_ops()
        if op.get_type_name() != "Constant"
        and (
            op.get_friendly_name() in scope.names
            or op.get_type_name() in scope.types
            or any(p.match(op.get_friendly_name()) for p in compiled)
        )
    ]


def make_validation_fn(annotation_file: Path) -> Any:
    ground_truth = load_ground_truth(annotation_file)

    def validate(compiled: ov.CompiledModel, images: Iterable[DatasetImage]) -> float:
        image_list = list(images)
        output = compiled.output(0)
        detections = []
        for image in image_list:
            tensor, letterbox = preprocess_image(image.path)
            raw = compiled(tensor)[output][0]
            persons = decode_pose(raw, letterbox, EVAL_CONF, EVAL_IOU, EVAL_MAX_DETECTIONS)
            detections.extend(person_to_coco(image.image_id, p) for p in persons)
        pose_map = score_detections(ground_truth, detections, [i.image_id for i in image_list])["pose"]["map"]
        return max(pose_map, 0.0)  # pycocotools reports -1 for images without ground truth people

    return validate


def quantize(
    model_path: Path,
    calibration: list[Path],
    out_dir: Path,
    subset: int = 300,
    max_drop: float | None = None,
    validation_data: Path | None = None,
    fast_bias_correction: bool = True,
    smooth_quant_alpha: float | None = None,
    verbose: bool = False,
) -> dict[str, Any]:
    # NNCF logs one INFO line per node it leaves unquantized (hundreds for the pose head); its progress bars and
    # our summary say what an operator needs. --verbose brings the INFO lines back.
    nncf.set_log_level(logging.INFO if verbose else logging.WARNING)
    started = time.monotonic()
    if max_drop is not None and validation_data is None:
        raise ModelsError("--max-drop needs --data DATASET to measure the accuracy drop on")
    model = read_pose_model(model_path)
    frames, sources = load_calibration_frames(calibration, subset)
    print(f"calibration: {len(frames)} frames from {len(sources)} sources", file=sys.stderr, flush=True)
    calibration_dataset = nncf.Dataset(frames, frame_to_tensor)
    scope = pose_head_ignored_scope(model)
    ignored = ignored_node_names(model, scope)
    advanced = nncf.AdvancedQuantizationParameters()
    if smooth_quant_alpha is not None:
        advanced.smooth_quant_alphas.convolution = smooth_quant_alpha
    common: dict[str, Any] = {
        "preset": nncf.QuantizationPreset.MIXED,
        "subset_size": len(frames),
        "ignored_scope": scope,
    }
    if max_drop is None:
        quantized = nncf.quantize(
            model, calibration_dataset, fast_bias_correction=fast_bias_correction, advanced_parameters=advanced, **common
        )
    else:
        assert validation_data is not None
        data = load_keypoint_dataset(validation_data)
        quantized = nncf.quantize_with_accuracy_control(
            model,
            calibration_dataset,
            nncf.Dataset(data.images),
            validation_fn=make_validation_fn(data.annotation_file),
            max_drop=max_drop,
            drop_type=nncf.DropType.ABSOLUTE,
            advanced_quantization_parameters=advanced,
            **common,
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    xml_path = out_dir / f"{int8_stem(model_path.stem)}.xml"
    ov.save_model(quantized, str(xml_path), compress_to_fp16=False)
    base = read_metadata(model_path.parent) or {}
    metadata = {
        **base,
        "precision": "INT8",
        "model": xml_path.name,
        **io_names(quantized),
        "fp32_model": {"path": str(model_path.resolve()), "sha256": sha256_of(model_path)},
        "calibration": {"sources": sources, "subset_size": len(frames)},
        "quantization": {
            "preset": "mixed",
            "fast_bias_correction": fast_bias_correction,
            "smooth_quant_alpha": smooth_quant_alpha,
            "max_drop": max_drop,
            "validation_data": str(validation_data) if validation_data else None,
            "ignored_nodes": len(ignored),
        },
        "nncf_version": nncf.__version__,
        "openvino_version": ov.get_version(),
    }
    write_metadata(out_dir, metadata)
    summary = {
        "seconds": round(time.monotonic() - started, 1),
        "fake_quantize_nodes": sum(1 for op in quantized.get_ops() if op.get_type_name() == "FakeQuantize"),
        "ignored_nodes": len(ignored),
        "weights_mb": round(xml_path.with_suffix(".bin").stat().st_size / 1e6, 2),
        "fp32_weights_mb": round(model_path.with_suffix(".bin").stat().st_size / 1e6, 2),
    }
    return {"xml": str(xml_path), "metadata": metadata, "summary": summary}


def format_summary(result: dict[str, Any]) -> str:
    """What an operator reads after a quantization run: where the model went and what changed."""
    summary, metadata = result["summary"], result["metadata"]
    calibration = metadata["calibration"]
    return "\n".join(
        [
            f"wrote {result['xml']} (INT8)",
            f"  calibration   {calibration['subset_size']} frames from {len(calibration['sources'])} sources",
            f"  quantized     {summary['fake_quantize_nodes']} activation quantizers; pose head kept in float "
            f"({summary['ignored_nodes']} nodes)",
            f"  weights       {summary['fp32_weights_mb']} MB FP32 -> {summary['weights_mb']} MB INT8",
            f"  took          {summary['seconds']} s",
        ]
    )


def int8_stem(fp32_stem: str) -> str:
    """`yolov8n-pose-fp32` -> `yolov8n-pose-int8`, otherwise `<stem>-int8`: the file name says what it holds."""
    return re.sub(r"fp32", "int8", fp32_stem, flags=re.IGNORECASE) if re.search(r"fp32", fp32_stem, re.IGNORECASE) else f"{fp32_stem}-int8"
