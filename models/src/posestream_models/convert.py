"""ONNX (or Ultralytics .pt via ONNX) -> FP32 OpenVINO IR with dynamic batch and metadata.json."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import openvino as ov

from posestream_models.errors import ModelsError, first_line, quiet_native_stderr, require_file
from posestream_models.metadata import io_names, pose_fields, sha256_of, write_metadata
from posestream_models.preprocess import INPUT_SIZE
from posestream_models.runtime import check_pose_model

INSTALL_ULTRALYTICS_HINT = (
    "converting a .pt checkpoint needs Ultralytics, which is not installed: "
    "run `.venv/bin/pip install -e 'models[ultralytics]'` (pulls in torch), or pass the exported .onnx instead"
)


def export_pt_to_onnx(source: Path) -> Path:
    """Ultralytics owns the .pt format; let its exporter write the ONNX (dynamic batch) next to the checkpoint."""
    if importlib.util.find_spec("ultralytics") is None:
        raise ModelsError(INSTALL_ULTRALYTICS_HINT)
    from ultralytics import YOLO  # type: ignore[import-not-found]  # optional extra

    try:
        exported = YOLO(str(source)).export(format="onnx", dynamic=True, imgsz=INPUT_SIZE)
    except Exception as error:
        raise ModelsError(f"checkpoint {source}: Ultralytics export failed ({first_line(error)})") from error
    return Path(str(exported))


def fix_input_shape(model: ov.Model) -> None:
    """[?,3,640,640]: dynamic batch, fixed 640 input (what the pipeline letterboxes to).

    Ultralytics' `export(dynamic=True)` makes height and width dynamic too ([?,3,?,?]), which leaves the anchor count
    of the output unknown; the pipeline needs a static [?,56,8400]. Dynamic or static spatial dims become 640 x 640.
    """
    shape = model.input(0).get_partial_shape()
    if shape.rank.is_dynamic or shape.rank.get_length() != 4:
        return  # check_pose_model names the problem
    wanted = ov.PartialShape([-1, shape[1], INPUT_SIZE, INPUT_SIZE])
    if not shape.same_scheme(wanted):
        model.reshape({model.input(0).get_any_name(): wanted})


def convert(source: Path, out_dir: Path) -> dict[str, Any]:
    require_file(source, "source model")
    suffix = source.suffix.lower()
    if suffix == ".pt":
        onnx_path = export_pt_to_onnx(source)
    elif suffix == ".onnx":
        onnx_path = source
    else:
        raise ModelsError(f"source model {source}: unsupported type '{source.suffix}', expected .pt or .onnx")
    try:
        with quiet_native_stderr():
            model = ov.convert_model(str(onnx_path))
    except Exception as error:
        raise ModelsError(f"source model {onnx_path}: OpenVINO cannot convert it ({first_line(error)})") from error
    check_pose_model(model, onnx_path)
    try:
        fix_input_shape(model)
    except Exception as error:
        raise ModelsError(f"source model {onnx_path}: cannot reshape its input to [?,3,{INPUT_SIZE},{INPUT_SIZE}] ({first_line(error)})") from error
    check_pose_model(model, onnx_path, static_anchors=True)
    fields = pose_fields(model)
    out_dir.mkdir(parents=True, exist_ok=True)
    xml_path = out_dir / f"{source.stem}.xml"
    # FP16 weight compression would cost accuracy and is a bad starting point for NNCF.
    ov.save_model(model, str(xml_path), compress_to_fp16=False)
    metadata: dict[str, Any] = {
        **fields,
        "precision": "FP32",
        "model": xml_path.name,
        **io_names(model),
        "input_shape": str(model.input(0).get_partial_shape()),
        "output_shape": str(model.output(0).get_partial_shape()),
        "source": {"path": str(source.resolve()), "sha256": sha256_of(source)},
        "openvino_version": ov.get_version(),
    }
    write_metadata(out_dir, metadata)
    return {"xml": str(xml_path), "metadata": metadata}
