"""Multi-object tracking scores with py-motmetrics: MOT-format ground truth vs MOT-format predictions.

Both files are MOT15/16 text (`frame,id,bb_left,bb_top,bb_width,bb_height,conf,...`, frames 1-based). A prediction
matches a ground-truth box when their IoU is at least 0.5 (motmetrics' `distth` is 1 - IoU), the MOTChallenge
protocol, so every tracker scored here (ours and the Ultralytics peers) is compared by the same code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from posestream_models.errors import ModelsError, require_file

IOU_THRESHOLD = 0.5
METRICS = ["num_frames", "idf1", "mota", "num_switches", "precision", "recall", "motp"]


def _motmetrics() -> Any:
    # py-motmetrics 1.4.0 still calls np.asfarray, which NumPy 2 removed; give it the NumPy 1 meaning back.
    if not hasattr(np, "asfarray"):
        np.asfarray = lambda a, dtype=float: np.asarray(a, dtype=dtype)  # type: ignore[attr-defined]
    import motmetrics

    return motmetrics


def _load(mm: Any, path: Path, what: str, min_confidence: float) -> Any:
    require_file(path, what)
    try:
        return mm.io.loadtxt(str(path), fmt="mot15-2D", min_confidence=min_confidence)
    except Exception as error:  # pandas parse errors name the line; a bad file is the user's to fix
        raise ModelsError(f"{what} {path.name} is not MOT text (frame,id,left,top,width,height,conf,...): {error}") from error


def score_mot(gt_path: Path, pred_path: Path) -> dict[str, Any]:
    """IDF1, MOTA, ID switches, precision, recall (and MOTP as 1 - mean IoU of matches) over the gt frames."""
    mm = _motmetrics()
    # MOT ground truth marks boxes to ignore with conf 0 (MOT16+); MOT15 has 1 everywhere.
    gt = _load(mm, gt_path, "ground truth", min_confidence=1)
    pred = _load(mm, pred_path, "predictions", min_confidence=-1)
    if gt.empty:
        raise ModelsError(f"ground truth {gt_path.name} has no boxes")
    accumulator = mm.utils.compare_to_groundtruth(gt, pred, "iou", distth=IOU_THRESHOLD)
    summary = mm.metrics.create().compute(accumulator, metrics=METRICS, name="track")
    row = summary.loc["track"]

    def number(name: str) -> float:
        value = float(row[name])
        return 0.0 if np.isnan(value) else value

    return {
        "frames": int(row["num_frames"]),
        "idf1": number("idf1"),
        "mota": number("mota"),
        "id_switches": int(row["num_switches"]),
        "precision": number("precision"),
        "recall": number("recall"),
        "motp_iou": 1.0 - number("motp") if pred.shape[0] else 0.0,
    }


def format_scores(scores: dict[str, Any]) -> str:
    return (
        f"frames {scores['frames']}  IDF1 {scores['idf1']:.3f}  MOTA {scores['mota']:.3f}  "
        f"ID switches {scores['id_switches']}  precision {scores['precision']:.3f}  recall {scores['recall']:.3f}"
    )
