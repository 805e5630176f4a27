"""The peers: Ultralytics' own trackers (`model.track()` with bytetrack.yaml, botsort.yaml, ocsort.yaml) on the same
OpenVINO IR and confidence as posestream, written as MOT predictions and scored by mot_eval like ours.

Needs the optional `[ultralytics]` extra (ultralytics, lap). Ultralytics loads an OpenVINO IR only from a folder
named `*_openvino_model` holding the .xml/.bin and a `metadata.yaml`; that folder is made in a temporary
directory with links to the IR, so any IR works without touching the model directory.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any

from posestream_models.errors import ModelsError, require_file
from posestream_models.mot_eval import score_mot

DEFAULT_TRACKERS = ("bytetrack", "botsort", "ocsort")

METADATA_YAML = """description: posestream IR for Ultralytics tracking
task: pose
kpt_shape: [17, 3]
imgsz: [640, 640]
stride: 32
batch: 1
names: {0: person}
"""


def _ultralytics() -> Any:
    os.environ.setdefault("YOLO_OFFLINE", "1")  # never fetch anything at run time
    try:
        import lap  # noqa: F401  (Ultralytics' trackers need it and would try to pip-install it)
        from ultralytics import YOLO
    except ImportError as error:
        raise ModelsError(f"the Ultralytics peers need the [ultralytics] extra (pip install -e 'models[ultralytics]'): {error}") from error
    return YOLO


def ultralytics_model_dir(model: Path, workdir: Path) -> Path:
    """A `<name>_openvino_model` folder with the IR linked in and the metadata Ultralytics expects."""
    require_file(model, "model")
    if model.suffix != ".xml":
        raise ModelsError(f"model must be an OpenVINO IR .xml, got {model.name}")
    weights = require_file(model.with_suffix(".bin"), "model weights")
    folder = workdir / f"{model.stem}_openvino_model"
    folder.mkdir(parents=True, exist_ok=True)
    for source in (model, weights):
        link = folder / source.name
        if not link.exists():
            link.symlink_to(source.resolve())
    (folder / "metadata.yaml").write_text(METADATA_YAML)
    return folder


def run_peer(model_dir: Path, video: Path, tracker: str, conf: float, out: Path) -> dict[str, Any]:
    """One Ultralytics tracker over the video; writes MOT lines (frame = video frame + 1) to `out`."""
    YOLO = _ultralytics()
    model = YOLO(str(model_dir), task="pose")
    lines: list[str] = []
    frames = 0
    started = time.perf_counter()
    results = model.track(source=str(video), tracker=f"{tracker}.yaml", conf=conf, imgsz=640, stream=True, persist=True, verbose=False)
    for index, result in enumerate(results):
        frames += 1
        boxes = result.boxes
        if boxes is None or boxes.id is None:
            continue
        for (x1, y1, x2, y2), track_id, score in zip(boxes.xyxy.tolist(), boxes.id.int().tolist(), boxes.conf.tolist()):
            lines.append(f"{index + 1},{track_id},{x1:.2f},{y1:.2f},{x2 - x1:.2f},{y2 - y1:.2f},{score:.2f},-1,-1,-1")
    seconds = time.perf_counter() - started
    out.write_text("\n".join(lines) + ("\n" if lines else ""))
    return {"frames": frames, "seconds": round(seconds, 2)}


def score_peers(model: Path, video: Path, gt: Path, trackers: tuple[str, ...] = DEFAULT_TRACKERS, conf: float = 0.25,
                out_dir: Path | None = None) -> list[dict[str, Any]]:  # fmt: skip
    """Runs each tracker and scores it: one row per tracker with the mot_eval scores."""
    require_file(video, "video")
    require_file(gt, "ground truth")
    rows = []
    with tempfile.TemporaryDirectory(prefix="posestream-peers-") as tmp:
        model_dir = ultralytics_model_dir(model, Path(tmp))
        target = out_dir or Path(tmp)
        target.mkdir(parents=True, exist_ok=True)
        for tracker in trackers:
            predictions = target / f"{tracker}.txt"
            run = run_peer(model_dir, video, tracker, conf, predictions)
            rows.append({"tracker": f"ultralytics-{tracker}", **score_mot(gt, predictions), "run_seconds": run["seconds"]})
    return rows
