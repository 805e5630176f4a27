"""track-score: py-motmetrics behind the CLI, on small synthetic MOT files whose scores are known by hand."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
import yaml
from conftest import run_cli

from posestream_models.errors import ModelsError
from posestream_models.mot_eval import score_mot
from posestream_models.ultralytics_ir import ultralytics_model_dir

# Two people walking towards each other for 10 frames (they never overlap): id 1 left to right, id 2 right to left, 40x100 boxes.
FRAMES = range(1, 11)


def box(frame: int, person: int) -> tuple[float, float, float, float]:
    x = 100 + 20 * frame if person == 1 else 700 - 20 * frame
    return (x, 50.0, 40.0, 100.0)


def mot_lines(assign: dict[int, int] | None = None, shift: float = 0.0, frames: range = FRAMES) -> str:
    """One line per person and frame; `assign` maps (frame >= 6) person -> id to fake identity swaps."""
    lines = []
    for frame in frames:
        for person in (1, 2):
            track = assign.get(person, person) if assign and frame >= 6 else person
            left, top, width, height = box(frame, person)
            lines.append(f"{frame},{track},{left + shift},{top},{width},{height},1,-1,-1,-1")
    return "\n".join(lines) + "\n"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.fixture()
def gt(tmp_path: Path) -> Path:
    return write(tmp_path, "gt.txt", mot_lines())


def test_ground_truth_as_predictions_is_perfect(tmp_path: Path, gt: Path) -> None:
    completed = run_cli("track-score", "--gt", gt, "--pred", gt, "--json")
    assert completed.returncode == 0, completed.stderr
    scores = json.loads(completed.stdout)
    assert {"frames", "idf1", "mota", "id_switches", "precision", "recall"} <= set(scores)
    assert scores["frames"] == 10
    assert scores["idf1"] == pytest.approx(1.0)
    assert scores["mota"] == pytest.approx(1.0)
    assert scores["id_switches"] == 0
    assert scores["precision"] == pytest.approx(1.0) and scores["recall"] == pytest.approx(1.0)


def test_swapped_identities_count_two_switches(tmp_path: Path, gt: Path) -> None:
    scores = score_mot(gt, write(tmp_path, "pred.txt", mot_lines(assign={1: 2, 2: 1})))
    assert scores["id_switches"] == 2
    # Every box is still found, so MOTA loses only the two switches out of 20 boxes; IDF1 keeps half the frames.
    assert scores["mota"] == pytest.approx(1 - 2 / 20)
    assert scores["idf1"] == pytest.approx(0.5)
    assert scores["recall"] == pytest.approx(1.0)


def test_new_ids_after_a_gap_count_as_switches(tmp_path: Path, gt: Path) -> None:
    scores = score_mot(gt, write(tmp_path, "pred.txt", mot_lines(assign={1: 7, 2: 8})))
    assert scores["id_switches"] == 2
    assert scores["idf1"] == pytest.approx(0.5)


def test_matching_needs_iou_of_one_half(tmp_path: Path, gt: Path) -> None:
    # A 40-wide box shifted by s overlaps (40-s)/(40+s): 13 px -> IoU 0.509 (match), 14 px -> 0.481 (no match).
    assert score_mot(gt, write(tmp_path, "near.txt", mot_lines(shift=13)))["recall"] == pytest.approx(1.0)
    far = score_mot(gt, write(tmp_path, "far.txt", mot_lines(shift=14)))
    assert far["recall"] == 0.0 and far["precision"] == 0.0


def test_missing_frames_lower_recall_not_precision(tmp_path: Path, gt: Path) -> None:
    scores = score_mot(gt, write(tmp_path, "pred.txt", mot_lines(frames=range(1, 6))))
    assert scores["recall"] == pytest.approx(0.5)
    assert scores["precision"] == pytest.approx(1.0)
    assert scores["frames"] == 10


def test_empty_predictions_score_zero(tmp_path: Path, gt: Path) -> None:
    scores = score_mot(gt, write(tmp_path, "pred.txt", ""))
    assert scores["recall"] == 0.0 and scores["idf1"] == 0.0 and scores["id_switches"] == 0


def test_bad_input_is_one_clear_line(tmp_path: Path, gt: Path) -> None:
    missing = run_cli("track-score", "--gt", gt, "--pred", tmp_path / "nope.txt")
    assert missing.returncode == 2
    assert "predictions not found" in missing.stderr and "Traceback" not in missing.stderr
    garbage = run_cli("track-score", "--gt", write(tmp_path, "bad.txt", "frame;id\nx;y\n"), "--pred", gt)
    assert garbage.returncode == 2
    assert "ground truth" in garbage.stderr and "Traceback" not in garbage.stderr


def test_ultralytics_folder_links_the_ir_and_describes_it(tmp_path: Path) -> None:
    ir = write(tmp_path, "model.xml", "<net/>")
    write(tmp_path, "model.bin", "")
    folder = ultralytics_model_dir(ir, tmp_path / "work")
    assert folder.name == "model_openvino_model"
    assert (folder / "model.xml").resolve() == ir.resolve()
    metadata = yaml.safe_load((folder / "metadata.yaml").read_text())
    assert metadata["task"] == "pose" and metadata["kpt_shape"] == [17, 3] and metadata["names"] == {0: "person"}
    with pytest.raises(ModelsError, match="weights not found"):
        ultralytics_model_dir(write(tmp_path, "other.xml", "<net/>"), tmp_path / "work2")


@pytest.mark.skipif(importlib.util.find_spec("ultralytics") is not None, reason="the [ultralytics] extra is installed")
def test_peers_without_the_extra_say_what_to_install(tmp_path: Path, gt: Path) -> None:
    ir = write(tmp_path, "model.xml", "<net/>")
    write(tmp_path, "model.bin", "")
    video = write(tmp_path, "clip.mp4", "")
    completed = run_cli("track-peers", "--model", ir, "--video", video, "--gt", gt)
    assert completed.returncode == 2
    assert "[ultralytics] extra" in completed.stderr
