from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from conftest import asset_or_skip, run_cli
from posestream_models.decode import decode_pose
from posestream_models.preprocess import letterbox_geometry


def test_golden_dump_round_trips_tensors_and_decodes(tmp_path: Path) -> None:
    model = asset_or_skip("models/yolov8n-pose-int8-reference/yolov8n-pose.xml")
    bus = asset_or_skip("media/bus.jpg")
    completed = run_cli("golden", "--model", model, "--out", tmp_path, bus, "--json")
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["images"] == 1
    manifest = json.loads((tmp_path / "golden.json").read_text())
    entry = manifest["images"][0]
    assert entry["letterbox"] == {"scale": 640 / 1080, "padX": 80, "padY": 0, "sourceWidth": 810, "sourceHeight": 1080}
    pixels = np.fromfile(entry["input"], dtype=np.uint8)
    assert pixels.size == 640 * 640 * 3 and pixels[0] == 114  # left pad column
    output = np.fromfile(entry["output"], dtype=np.float32).reshape(56, entry["anchors"])
    box, _, _ = letterbox_geometry(810, 1080)
    again = [p.to_json() for p in decode_pose(output, box, 0.25)]
    assert again == entry["persons"]["0.25"]
    assert len(entry["persons"]["0.25"]) >= 2
    assert len(entry["persons"]["0.001"]) >= len(entry["persons"]["0.25"])


def test_golden_reports_a_missing_image(tmp_path: Path) -> None:
    model = asset_or_skip("models/yolov8n-pose-int8-reference/yolov8n-pose.xml")
    completed = run_cli("golden", "--model", model, "--out", tmp_path, tmp_path / "nope.jpg")
    assert completed.returncode == 2
    assert "nope.jpg" in completed.stderr
