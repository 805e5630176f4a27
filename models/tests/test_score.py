from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from conftest import run_cli, synthetic_ground_truth


def detections_from(ground_truth: dict[str, Any], shift: float = 0.0) -> list[dict[str, Any]]:
    detections = []
    for ann in copy.deepcopy(ground_truth["annotations"]):
        keypoints = [value + shift if index % 3 != 2 else 0.9 for index, value in enumerate(ann["keypoints"])]
        detections.append({"image_id": ann["image_id"], "category_id": 1, "bbox": ann["bbox"], "score": 0.9, "keypoints": keypoints})
    return detections


def score(tmp_path: Path, gt_file: Path, detections: list[dict[str, Any]]) -> dict[str, Any]:
    dt_file = tmp_path / "dt.json"
    dt_file.write_text(json.dumps(detections))
    completed = run_cli("score", "--gt", gt_file, "--dt", dt_file, "--json")
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout)  # stdout is exactly one JSON object


def test_ground_truth_as_detections_scores_one(tmp_path: Path, gt_file: Path) -> None:
    result = score(tmp_path, gt_file, detections_from(synthetic_ground_truth()))
    assert set(result) == {"images", "box", "pose"}
    assert result["images"] == 2
    assert result["box"] == pytest.approx({"map50": 1.0, "map": 1.0})
    assert result["pose"] == pytest.approx({"map50": 1.0, "map": 1.0})


def test_shifted_keypoints_lower_pose_but_not_box_map(tmp_path: Path, gt_file: Path) -> None:
    result = score(tmp_path, gt_file, detections_from(synthetic_ground_truth(), shift=6.0))
    assert result["box"]["map"] == pytest.approx(1.0)
    assert 0.0 < result["pose"]["map"] < 0.9


def test_no_detections_scores_zero(tmp_path: Path, gt_file: Path) -> None:
    result = score(tmp_path, gt_file, [])
    assert result["pose"] == {"map50": 0.0, "map": 0.0}
