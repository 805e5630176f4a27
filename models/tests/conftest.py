"""Shared assets are found through POSESTREAM_ASSETS (default <repo>/../shared); missing ones skip, or fail in CI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def assets_dir() -> Path:
    return Path(os.environ.get("POSESTREAM_ASSETS", REPO_ROOT.parent / "shared")).resolve()


def asset_or_skip(relative: str) -> Path:
    path = assets_dir() / relative
    if not path.exists():
        message = f"missing shared asset {relative} (looked in {path}; set POSESTREAM_ASSETS)"
        if os.environ.get("POSESTREAM_REQUIRE_ASSETS") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return path


def run_cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "posestream_models", *map(str, args)], capture_output=True, text=True, timeout=600
    )


@pytest.fixture(scope="session")
def fp32_ir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    onnx = asset_or_skip("models/yolov8n-pose-fp32.onnx")
    out = tmp_path_factory.mktemp("fp32")
    completed = run_cli("convert", "--source", onnx, "--out", out)
    assert completed.returncode == 0, completed.stderr
    return out / "yolov8n-pose-fp32.xml"


def save_constant_output_model(path: Path, rows: int) -> Path:
    """A tiny model taking [1,3,640,640] and returning zeros of [1,rows,8400] (shape checks only)."""
    import numpy as np
    import openvino as ov
    import openvino.opset13 as ops

    image = ops.parameter([1, 3, 640, 640], np.float32, name="images")
    mean = ops.reduce_mean(image, np.array([1, 2, 3], dtype=np.int64), keep_dims=False)
    flat = ops.reshape(mean, np.array([1, 1, 1], dtype=np.int64), False)
    output = ops.multiply(ops.add(flat, np.zeros((1, rows, 8400), np.float32)), np.float32(0.0))
    ov.save_model(ov.Model([output], [image], f"fake{rows}"), str(path))
    return path


@pytest.fixture
def fake_pose_model(tmp_path: Path) -> Path:
    return save_constant_output_model(tmp_path / "fake-pose.xml", 56)


def synthetic_ground_truth() -> dict[str, object]:
    """Two images, three people with 17 labelled keypoints each, COCO keypoint format."""
    def person(ann_id: int, image_id: int, x: float, y: float) -> dict[str, object]:
        keypoints: list[float] = []
        for k in range(17):
            keypoints += [x + 5 + (k % 4) * 10, y + 5 + k * 8, 2]
        return {"id": ann_id, "image_id": image_id, "category_id": 1, "bbox": [x, y, 50, 150], "area": 50 * 150 * 0.8,
                "iscrowd": 0, "num_keypoints": 17, "keypoints": keypoints}  # fmt: skip

    return {
        "images": [{"id": 1, "file_name": "a.jpg", "width": 640, "height": 480}, {"id": 2, "file_name": "b.jpg", "width": 640, "height": 480}],
        "annotations": [person(1, 1, 100, 100), person(2, 1, 300, 120), person(3, 2, 200, 200)],
        "categories": [{"id": 1, "name": "person", "keypoints": [str(k) for k in range(17)], "skeleton": []}],
    }


@pytest.fixture
def gt_file(tmp_path: Path) -> Path:
    import json

    path = tmp_path / "gt.json"
    path.write_text(json.dumps(synthetic_ground_truth()))
    return path


@pytest.fixture(scope="session")
def int8_ir(fp32_ir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A quick INT8 model: 12 calibration frames (video + coco8 images) keep this under a minute on 2 cores."""
    video = asset_or_skip("media/walking_person_720p.mp4")
    coco8 = asset_or_skip("datasets/coco8-pose")
    out = tmp_path_factory.mktemp("int8")
    completed = run_cli("quantize", "--model", fp32_ir, "--calib", video, coco8, "--subset", "12", "--out", out)
    assert completed.returncode == 0, completed.stderr[-3000:]
    # Kept for test_quantize_output_is_readable: what an operator saw on the terminal.
    (out / "quantize.stdout").write_text(completed.stdout)
    (out / "quantize.stderr").write_text(completed.stderr)
    return out / "yolov8n-pose-int8.xml"
