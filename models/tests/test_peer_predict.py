"""peer-predict (the Ultralytics peer of the benchmarks): its pure parts everywhere, one real run where Ultralytics is
installed (a tiny constant model on a tiny generated video, so it takes seconds, not minutes)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from conftest import run_cli

from posestream_models.errors import ModelsError
from posestream_models.peer_predict import ReadStamps, is_live, nearest_rank, pinned_precision
from posestream_models.runtime import inference_precision
from posestream_models.ultralytics_ir import ultralytics_metadata_yaml, ultralytics_model_dir

HAS_ULTRALYTICS = importlib.util.find_spec("ultralytics") is not None


def test_metadata_yaml_comes_from_the_irs_metadata_json(tmp_path: Path) -> None:
    ir = tmp_path / "m.xml"
    ir.write_text("<net/>")
    (tmp_path / "m.bin").write_text("")
    (tmp_path / "metadata.json").write_text(json.dumps({"task": "pose", "kpt_shape": [17, 3], "names": {"0": "person"}, "stride": 32, "imgsz": [320, 320], "precision": "INT8"}))
    metadata = yaml.safe_load(ultralytics_metadata_yaml(ir))
    # Ultralytics wants class indices (metadata.json keeps JSON's string keys) and reads the size from here.
    assert metadata["names"] == {0: "person"} and metadata["imgsz"] == [320, 320]
    assert metadata["task"] == "pose" and metadata["kpt_shape"] == [17, 3] and metadata["stride"] == 32 and metadata["batch"] == 1
    folder = ultralytics_model_dir(ir, tmp_path / "work")
    assert yaml.safe_load((folder / "metadata.yaml").read_text()) == metadata


def test_metadata_yaml_without_metadata_json_is_yolov8_pose_and_a_detector_is_refused(tmp_path: Path) -> None:
    ir = tmp_path / "m.xml"
    assert yaml.safe_load(ultralytics_metadata_yaml(ir))["imgsz"] == [640, 640]
    (tmp_path / "metadata.json").write_text(json.dumps({"task": "detect", "kpt_shape": [17, 3]}))
    with pytest.raises(ModelsError, match="17-keypoint pose model"):
        ultralytics_metadata_yaml(ir)


def test_live_sources_are_urls_and_files_are_not() -> None:
    assert is_live("rtsp://127.0.0.1:8554/cam0") and is_live("RTSP://cam/x") and is_live("http://h/stream.mjpg")
    assert not is_live("/media/walking.mp4") and not is_live("clip.mp4") and not is_live("C:/x.mp4")


def test_percentiles_are_nearest_rank_like_the_typescript_benchmarks() -> None:
    values = [float(v) for v in range(1, 101)]
    assert nearest_rank(values, 50) == 50 and nearest_rank(values, 99) == 99 and nearest_rank(values, 100) == 100
    assert nearest_rank([3.0, 1.0, 2.0], 50) == 2 and nearest_rank([7.0], 99) == 7 and nearest_rank([], 50) is None


def test_read_stamps_follow_the_frame_object_and_are_taken_once() -> None:
    stamps = ReadStamps()
    first, second = np.zeros(3), np.ones(3)
    stamps.stamp(first)
    stamps.stamp(second)
    assert stamps.take(second) is not None and stamps.take(second) is None
    assert stamps.take(first) is not None
    for _ in range(300):  # frames never predicted do not pile up
        stamps.stamp(np.zeros(1))
    assert len(stamps._times) <= 256


def test_pinned_precision_reaches_the_compiled_model_and_is_undone(fake_pose_model: Path) -> None:
    import openvino as ov

    original = ov.Core.compile_model
    with pinned_precision("f32") as compiled:
        ov.Core().compile_model(str(fake_pose_model), "CPU", {"PERFORMANCE_HINT": "LATENCY"})
    assert ov.Core.compile_model is original
    assert len(compiled) == 1 and inference_precision(compiled[0]) == "f32"
    assert str(compiled[0].get_property("PERFORMANCE_HINT")) == "LATENCY"  # the caller's config is kept


def test_check_says_whether_the_extra_is_there() -> None:
    completed = run_cli("peer-predict", "--check", "--json")
    assert completed.returncode == 0, completed.stderr
    check = json.loads(completed.stdout)
    assert check["available"] is HAS_ULTRALYTICS
    if not HAS_ULTRALYTICS:
        assert "models[ultralytics]" in check["install"]


def test_without_the_extra_one_line_says_what_to_install(tmp_path: Path, fake_pose_model: Path) -> None:
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"")
    # Ultralytics made unimportable in the child (None in sys.modules), whether or not it is installed here.
    script = (
        "import sys; sys.modules['ultralytics'] = None; from posestream_models.cli import main; "
        f"sys.exit(main(['peer-predict', '--model', {str(fake_pose_model)!r}, '--source', {str(video)!r}, '--seconds', '1']))"
    )
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert completed.returncode == 2
    assert "[ultralytics] extra" in completed.stderr and "models[ultralytics]" in completed.stderr
    assert "Traceback" not in completed.stderr and len(completed.stderr.strip().splitlines()) == 1


def test_bad_input_is_one_line(tmp_path: Path, fake_pose_model: Path) -> None:
    completed = run_cli("peer-predict", "--model", fake_pose_model, "--source", tmp_path / "missing.mp4", "--seconds", "1")
    assert completed.returncode == 2 and "video not found" in completed.stderr and "Traceback" not in completed.stderr
    completed = run_cli("peer-predict", "--source", tmp_path / "missing.mp4")
    assert completed.returncode == 2 and "needs --model" in completed.stderr


def write_video(path: Path, frames: int = 20) -> Path:
    import cv2

    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 30, (320, 180))
    for i in range(frames):
        writer.write(np.full((180, 320, 3), i * 10 % 255, np.uint8))
    writer.release()
    return path


@pytest.mark.skipif(not HAS_ULTRALYTICS, reason="needs the [ultralytics] extra")
def test_a_file_loop_is_measured_with_the_pinned_precision(tmp_path: Path, fake_pose_model: Path) -> None:
    video = write_video(tmp_path / "clip.mp4")
    completed = run_cli(
        "peer-predict", "--model", fake_pose_model, "--source", video, "--seconds", "2", "--warmup", "0.5", "--precision", "f32", "--json"
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr[-2000:]
    result = json.loads(completed.stdout)  # stdout is the JSON alone: Ultralytics' own log went to stderr
    assert result["mode"] == "file" and result["loops"] == 1 and result["latency_ms"] is None
    # 20 frames a pass, looped: the window sees more frames than one pass has.
    assert result["frames_per_s"][0] * 2 > 20
    assert result["precision"] == "f32" and result["precision_requested"] == "f32"
    assert result["cpu_cores"] > 0 and result["settings"]["max_det"] == 100
