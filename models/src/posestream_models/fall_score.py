"""Fall detection scoring: match fall alerts against labelled fall onsets, precision/recall/F1 with scikit-learn.

Input: the labels file of a falls dataset (falls-gmdcsa24-dev/labels.json: per clip `file`, `fall`,
`fall_onset_s`, `fall_intervals_s`) and an alerts file `{"clips": [{"file": ..., "alerts_s": [t, ...]}]}` where
each t is the media time (s) of the frame at which a fall alert fired. A labelled fall is detected by the first
alert in [onset - early, onset + late]; every other alert (a second alert for the same fall, any alert in a clip
without a fall) is a false alert. Scored as a binary decision per labelled fall (1 = found) and per false alert
(0 labelled, 1 predicted), so precision = found / (found + false alerts) and recall = found / falls.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

from sklearn.metrics import precision_recall_fscore_support

from posestream_models.errors import ModelsError, require_file

DEFAULT_EARLY_S = 0.5
DEFAULT_LATE_S = 5.0


def load_json(path: Path, what: str) -> Any:
    require_file(path, what)
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ModelsError(f"{what} {path} is not valid JSON: {error.msg} (line {error.lineno})") from error


def label_onsets(labels: Any, path: Path) -> dict[str, float | None]:
    clips = labels.get("clips") if isinstance(labels, dict) else None
    if not isinstance(clips, list):
        raise ModelsError(f"labels file {path} has no 'clips' list")
    onsets: dict[str, float | None] = {}
    for index, clip in enumerate(clips):
        if not isinstance(clip, dict) or not isinstance(clip.get("file"), str) or not isinstance(clip.get("fall"), bool):
            raise ModelsError(f"labels file {path}: clip {index} needs 'file' (string) and 'fall' (boolean)")
        onset = clip.get("fall_onset_s")
        if clip["fall"] and not isinstance(onset, (int, float)):
            raise ModelsError(f"labels file {path}: clip {clip['file']} is a fall without a numeric 'fall_onset_s'")
        onsets[clip["file"]] = float(onset) if clip["fall"] else None
    return onsets


def clip_alerts(alerts: Any, path: Path) -> dict[str, list[float]]:
    clips = alerts.get("clips") if isinstance(alerts, dict) else None
    if not isinstance(clips, list):
        raise ModelsError(f"alerts file {path} has no 'clips' list")
    result: dict[str, list[float]] = {}
    for index, clip in enumerate(clips):
        times = clip.get("alerts_s") if isinstance(clip, dict) else None
        if not isinstance(clip, dict) or not isinstance(clip.get("file"), str) or not isinstance(times, list):
            raise ModelsError(f"alerts file {path}: clip {index} needs 'file' (string) and 'alerts_s' (list of seconds)")
        if not all(isinstance(t, (int, float)) for t in times):
            raise ModelsError(f"alerts file {path}: clip {clip['file']} has a non-numeric alert time")
        result[clip["file"]] = sorted(float(t) for t in times)
    return result


def score_clip(onset: float | None, alerts: list[float], early: float, late: float) -> dict[str, Any]:
    matched = None
    if onset is not None:
        matched = next((t for t in alerts if onset - early <= t <= onset + late), None)
    false_alerts = len(alerts) - (1 if matched is not None else 0)
    return {
        "fall": onset is not None,
        "detected": matched is not None,
        "delay_s": None if matched is None or onset is None else round(matched - onset, 3),
        "alerts": len(alerts),
        "false_alerts": false_alerts,
    }


def score_falls(labels_path: Path, alerts_path: Path, early: float = DEFAULT_EARLY_S, late: float = DEFAULT_LATE_S) -> dict[str, Any]:
    onsets = label_onsets(load_json(labels_path, "labels file"), labels_path)
    alerts = clip_alerts(load_json(alerts_path, "alerts file"), alerts_path)
    unknown = sorted(set(alerts) - set(onsets))
    if unknown:
        raise ModelsError(f"alerts file {alerts_path} names clips that are not in the labels: {', '.join(unknown)}")
    clips = []
    for file in sorted(alerts):
        clips.append({"file": file, **score_clip(onsets[file], alerts[file], early, late)})
    y_true: list[int] = []
    y_pred: list[int] = []
    for clip in clips:
        if clip["fall"]:
            y_true.append(1)
            y_pred.append(1 if clip["detected"] else 0)
        y_true.extend([0] * clip["false_alerts"])
        y_pred.extend([1] * clip["false_alerts"])
    if y_true:
        precision, recall, f1, _ = precision_recall_fscore_support(y_true, y_pred, average="binary", pos_label=1, zero_division=0)
    else:
        precision = recall = f1 = 0.0
    delays = [clip["delay_s"] for clip in clips if clip["delay_s"] is not None]
    return {
        "clips": clips,
        "falls": sum(1 for clip in clips if clip["fall"]),
        "detected": sum(1 for clip in clips if clip["detected"]),
        "precision": round(float(precision), 4),
        "recall": round(float(recall), 4),
        "f1": round(float(f1), 4),
        "false_alerts": sum(clip["false_alerts"] for clip in clips),
        "median_delay_s": round(statistics.median(delays), 3) if delays else None,
        "window_s": [-early, late],
    }


def format_fall_score(result: dict[str, Any]) -> str:
    lines = [f"{'clip':<22} {'fall':<5} {'detected':<8} {'delay_s':>7} {'false':>5}"]
    for clip in result["clips"]:
        delay = "-" if clip["delay_s"] is None else f"{clip['delay_s']:.2f}"
        lines.append(f"{clip['file']:<22} {str(clip['fall']).lower():<5} {str(clip['detected']).lower():<8} {delay:>7} {clip['false_alerts']:>5}")
    median = "-" if result["median_delay_s"] is None else f"{result['median_delay_s']:.2f} s"
    lines.append(
        f"falls {result['detected']}/{result['falls']} found, {result['false_alerts']} false alert(s); "
        f"precision {result['precision']:.3f} recall {result['recall']:.3f} F1 {result['f1']:.3f}; median delay {median}"
    )
    return "\n".join(lines)
