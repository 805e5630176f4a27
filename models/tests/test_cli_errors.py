"""Bad input: one stderr line naming the file and the problem, exit code 2, no traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run_cli, save_constant_output_model


def assert_one_line_error(completed: object, *fragments: str) -> None:
    stderr = completed.stderr  # type: ignore[attr-defined]
    assert completed.returncode == 2, stderr  # type: ignore[attr-defined]
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert completed.stdout == ""  # type: ignore[attr-defined]


def save_detection_model(path: Path) -> Path:
    return save_constant_output_model(path, 84)


@pytest.fixture
def coco_dir(tmp_path: Path) -> Path:
    (tmp_path / "annotations").mkdir()
    (tmp_path / "images").mkdir()
    return tmp_path


def test_missing_model_file(tmp_path: Path, coco_dir: Path) -> None:
    missing = tmp_path / "nope.xml"
    assert_one_line_error(run_cli("eval", "--model", missing, "--data", coco_dir), str(missing), "not found")


def test_corrupt_model_file(tmp_path: Path, coco_dir: Path) -> None:
    model = tmp_path / "broken.xml"
    model.write_text("<net><layers>this is not an IR")
    model.with_suffix(".bin").write_bytes(b"\0" * 16)
    assert_one_line_error(run_cli("eval", "--model", model, "--data", coco_dir), str(model), "cannot read")


def test_model_without_bin(tmp_path: Path, coco_dir: Path) -> None:
    model = save_detection_model(tmp_path / "detect.xml")
    model.with_suffix(".bin").unlink()
    assert_one_line_error(run_cli("eval", "--model", model, "--data", coco_dir), "detect.bin", "not found")


@pytest.mark.parametrize("command", ["eval", "predict", "bench", "quantize"])
def test_non_pose_model_is_rejected(tmp_path: Path, coco_dir: Path, command: str) -> None:
    model = save_detection_model(tmp_path / "detect.xml")
    extra: dict[str, list[object]] = {
        "eval": ["--data", coco_dir],
        "predict": [tmp_path / "x.jpg"],
        "bench": [],
        "quantize": ["--calib", coco_dir, "--out", tmp_path / "out"],
    }
    completed = run_cli(command, "--model", model, *extra[command])
    assert_one_line_error(completed, str(model), "[1,84,8400]", "not a YOLOv8-pose")


def test_malformed_dataset_json(tmp_path: Path, coco_dir: Path) -> None:
    annotation = coco_dir / "annotations" / "person_keypoints.json"
    annotation.write_text('{"images": [')
    assert_one_line_error(run_cli("score", "--gt", annotation, "--dt", annotation), str(annotation), "malformed JSON")


def test_dataset_without_images(coco_dir: Path, tmp_path: Path, fake_pose_model: Path) -> None:
    annotation = coco_dir / "annotations" / "person_keypoints.json"
    annotation.write_text(json.dumps({"images": [], "annotations": [], "categories": [{"id": 1, "name": "person"}]}))
    completed = run_cli("eval", "--model", fake_pose_model, "--data", coco_dir)
    assert_one_line_error(completed, str(annotation), "lists no images")


def test_dataset_without_annotation_folder(tmp_path: Path, fake_pose_model: Path) -> None:
    completed = run_cli("eval", "--model", fake_pose_model, "--data", tmp_path)
    assert_one_line_error(completed, str(tmp_path), "no annotation json")


def test_dataset_listing_a_missing_image(coco_dir: Path, fake_pose_model: Path) -> None:
    annotation = coco_dir / "annotations" / "person_keypoints.json"
    image = {"id": 1, "file_name": "gone.jpg", "width": 10, "height": 10}
    annotation.write_text(json.dumps({"images": [image], "annotations": [], "categories": []}))
    completed = run_cli("eval", "--model", fake_pose_model, "--data", coco_dir)
    assert_one_line_error(completed, "gone.jpg", "does not exist")


def test_unreadable_calibration_video(tmp_path: Path, fake_pose_model: Path) -> None:
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"definitely not an mp4 file" * 10)
    completed = run_cli("quantize", "--model", fake_pose_model, "--calib", video, "--out", tmp_path / "int8")
    assert_one_line_error(completed, str(video), "calibration video")


def test_pt_checkpoint_without_ultralytics_says_how_to_install(tmp_path: Path) -> None:
    try:
        import ultralytics  # type: ignore[import-not-found]  # noqa: F401

        pytest.skip("ultralytics is installed; this checks the message shown when it is not")
    except ImportError:
        pass
    checkpoint = tmp_path / "yolov8n-pose.pt"
    checkpoint.write_bytes(b"not really a checkpoint")
    completed = run_cli("convert", "--source", checkpoint, "--out", tmp_path / "out")
    assert_one_line_error(completed, "pip install", "[ultralytics]")


def test_score_rejects_detections_for_unknown_images(tmp_path: Path, gt_file: Path) -> None:
    detections = tmp_path / "dt.json"
    detections.write_text(json.dumps([{"image_id": 999, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 0.5, "keypoints": [0] * 51}]))
    assert_one_line_error(run_cli("score", "--gt", gt_file, "--dt", detections), str(detections), "999")
