"""metadata.json written next to every IR: what the model is, where it came from, how it was made."""

from __future__ import annotations

import ast
import hashlib
import json
from pathlib import Path
from typing import Any

import openvino as ov

from posestream_models.errors import ModelsError

METADATA_FILE = "metadata.json"
POSE_DEFAULTS: dict[str, Any] = {
    "task": "pose",
    "kpt_shape": [17, 3],
    "names": {"0": "person"},
    "stride": 32,
    "imgsz": [640, 640],
}


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _parse_literal(text: str) -> Any:
    """Ultralytics writes ONNX metadata_props as Python reprs ("{0: 'person'}", "[17, 3]", "32")."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def ultralytics_metadata(model: ov.Model) -> dict[str, Any]:
    """The ONNX frontend keeps metadata_props in rt_info['framework']; take the keys we care about when present."""
    found: dict[str, Any] = {}
    if not model.has_rt_info(["framework"]):
        return found
    for key in ("task", "kpt_shape", "names", "stride", "imgsz", "version", "description"):
        if model.has_rt_info(["framework", key]):
            found[key] = _parse_literal(model.get_rt_info(["framework", key]).astype(str))
    if isinstance(found.get("names"), dict):
        found["names"] = {str(k): v for k, v in found["names"].items()}
    return found


def pose_fields(model: ov.Model) -> dict[str, Any]:
    fields = {**POSE_DEFAULTS, **{k: v for k, v in ultralytics_metadata(model).items() if k in POSE_DEFAULTS}}
    if fields["task"] != "pose" or list(fields["kpt_shape"]) != [17, 3]:
        raise ModelsError(f"model metadata says task={fields['task']!r} kpt_shape={fields['kpt_shape']!r}, expected a 17-keypoint pose model")
    return fields


def io_names(model: ov.Model) -> dict[str, str]:
    return {"input_name": model.input(0).get_any_name(), "output_name": model.output(0).get_any_name()}


def write_metadata(directory: Path, fields: dict[str, Any]) -> Path:
    path = directory / METADATA_FILE
    path.write_text(json.dumps(fields, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    return path


def read_metadata(directory: Path) -> dict[str, Any] | None:
    path = directory / METADATA_FILE
    if not path.is_file():
        return None
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ModelsError(f"metadata file {path}: malformed JSON ({error.msg})") from error
    return content if isinstance(content, dict) else None
