"""The peers: Ultralytics' own trackers (`model.track()` with bytetrack.yaml, botsort.yaml, ocsort.yaml) on the same
OpenVINO IR and confidence as posestream, written as MOT predictions and scored by mot_eval like ours.

Needs the optional `[ultralytics]` extra (ultralytics, lap); the IR reaches Ultralytics through
ultralytics_ir.ultralytics_model_dir (a temporary `*_openvino_model` folder linking it).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from posestream_models.errors import require_file
from posestream_models.mot_eval import score_mot
from posestream_models.ultralytics_ir import ultralytics_model_dir, ultralytics_yolo

DEFAULT_TRACKERS = ("bytetrack", "botsort", "ocsort")


def run_peer(model_dir: Path, video: Path, tracker: str, conf: float, out: Path) -> dict[str, Any]:
    """One Ultralytics tracker over the video; writes MOT lines (frame = video frame + 1) to `out`."""
    YOLO = ultralytics_yolo(trackers=True)
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
