"""ONNX (or Ultralytics .pt via ONNX) -> FP32 OpenVINO IR with dynamic batch and metadata.json."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import openvino as ov

from posestream_models.errors import ModelsError, first_line, quiet_native_stderr, require_file
from posestream_models.metadata import io_names, pose_fields, sha256_of, write_metadata
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
        exported = YOLO(str(source)).export(format="onnx", dynamic=True, imgsz=640)
    except Exception as error:
        raise ModelsError(f"checkpoint {source}: Ultralytics export failed ({first_line(error)})") from error
    return Path(str(exported))


def make_batch_dynamic(model: ov.Model) -> None:
    shape = model.input(0).get_partial_shape()
    if shape[0].is_static:
        dims = [ov.Dimension(-1)] + [shape[i] for i in range(1, shape.rank.get_length())]
        model.reshape({model.input(0).get_any_name(): ov.PartialShape(dims)})


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
    make_batch_dynamic(model)
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
