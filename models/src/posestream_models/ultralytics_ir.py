"""Ultralytics on posestream's own OpenVINO IR: the one place that imports Ultralytics and builds the model folder
it loads, for the peers (`track-peers`: its trackers; `peer-predict`: its `predict(stream=True)` loop).

Needs the optional `[ultralytics]` extra. Ultralytics loads an OpenVINO IR only from a folder named
`*_openvino_model` holding the .xml/.bin and a `metadata.yaml`; that folder is made in a work directory with links
to the IR (so any IR works without touching the model directory) and a metadata.yaml made from the IR's
metadata.json (written by `convert`/`quantize`), or the YOLOv8-pose facts when there is none.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import yaml

from posestream_models.errors import ModelsError, require_file
from posestream_models.metadata import METADATA_FILE, POSE_DEFAULTS

INSTALL_HINT = "POSESTREAM_WITH_ULTRALYTICS=1 bash scripts/setup.sh, or .venv/bin/pip install -e 'models[ultralytics]'"


def ultralytics_yolo(trackers: bool = False) -> Any:
    """Ultralytics' YOLO class; a ModelsError naming the extra when it is not installed."""
    os.environ.setdefault("YOLO_OFFLINE", "1")  # never fetch anything at run time
    try:
        if trackers:
            import lap  # noqa: F401  (Ultralytics' trackers need it and would try to pip-install it)
        from ultralytics import YOLO
    except ImportError as error:
        raise missing_extra(str(error)) from error
    return YOLO


def require_ultralytics() -> None:
    """ultralytics_yolo's error without importing it (a process that only starts the peers need not load torch)."""
    if ultralytics_versions() is None:
        raise missing_extra("ultralytics, torch or openvino cannot be found")


def missing_extra(detail: str) -> ModelsError:
    return ModelsError(f"the Ultralytics peers need the [ultralytics] extra ({INSTALL_HINT}): {detail}")


def ultralytics_versions() -> dict[str, str] | None:
    """Versions of what the peers run on, or None without the extra (found, not imported: importing torch takes seconds)."""
    import importlib.metadata
    import importlib.util

    names = ("ultralytics", "torch", "openvino")
    try:
        if any(importlib.util.find_spec(name) is None for name in names):
            return None
        return {name: importlib.metadata.version(name) for name in names}
    except (ImportError, ValueError, importlib.metadata.PackageNotFoundError):
        return None


def ultralytics_metadata_yaml(model: Path) -> str:
    """The metadata.yaml Ultralytics reads: task, keypoints, class names, stride and size from our metadata.json."""
    fields = dict(POSE_DEFAULTS)
    sidecar = model.parent / METADATA_FILE
    if sidecar.is_file():
        try:
            ours = json.loads(sidecar.read_text())
        except json.JSONDecodeError as error:
            raise ModelsError(f"{METADATA_FILE} next to {model.name} is not JSON: {error}") from error
        fields.update({key: ours[key] for key in POSE_DEFAULTS if key in ours})
    if fields["task"] != "pose" or list(fields["kpt_shape"]) != [17, 3]:
        raise ModelsError(f"{METADATA_FILE} says task={fields['task']!r} kpt_shape={fields['kpt_shape']!r}, expected a 17-keypoint pose model")
    metadata = {
        "description": f"posestream IR {model.name} for Ultralytics",
        "task": "pose",
        "kpt_shape": [int(v) for v in fields["kpt_shape"]],
        "imgsz": [int(v) for v in fields["imgsz"]],
        "stride": int(fields["stride"]),
        "batch": 1,
        # metadata.json keeps JSON's string keys; Ultralytics wants class indices.
        "names": {int(key): name for key, name in fields["names"].items()},
    }
    return yaml.safe_dump(metadata, sort_keys=False)


def ultralytics_model_dir(model: Path, workdir: Path) -> Path:
    """A `<name>_openvino_model` folder with the IR linked in and the metadata Ultralytics expects."""
    require_file(model, "model")
    if model.suffix != ".xml":
        raise ModelsError(f"model must be an OpenVINO IR .xml, got {model.name}")
    weights = require_file(model.with_suffix(".bin"), "model weights")
    metadata = ultralytics_metadata_yaml(model)
    folder = workdir / f"{model.stem}_openvino_model"
    folder.mkdir(parents=True, exist_ok=True)
    for source in (model, weights):
        link = folder / source.name
        if not link.exists():
            link.symlink_to(source.resolve())
    (folder / "metadata.yaml").write_text(metadata)
    return folder
