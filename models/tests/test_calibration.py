from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from posestream_models.calibration import evenly_spaced, load_calibration_frames, share_subset
from posestream_models.errors import ModelsError


def test_share_subset_gives_equal_shares_and_redistributes_what_small_sources_lack() -> None:
    assert share_subset([144, 96, 322, 8], 300) == [98, 96, 98, 8]
    assert share_subset([10, 10], 300) == [10, 10]
    assert sum(share_subset([1000, 1000, 1000], 100)) == 100
    assert share_subset([5, 0], 3) == [3, 0]


def test_evenly_spaced_covers_first_to_last() -> None:
    assert evenly_spaced(10, 3) == [0, 4, 9]  # linspace 0, 4.5, 9 with round-half-even
    assert evenly_spaced(4, 10) == [0, 1, 2, 3]


def write_video(path: Path, frames: int, size: tuple[int, int] = (160, 96)) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10, size)
    for index in range(frames):
        writer.write(np.full((size[1], size[0], 3), index * 10 % 256, dtype=np.uint8))
    writer.release()
    return path


def test_frames_come_from_videos_image_folders_and_coco_datasets(tmp_path: Path) -> None:
    video = write_video(tmp_path / "clip.mp4", 20)
    folder = tmp_path / "stills"
    folder.mkdir()
    for index in range(3):
        cv2.imwrite(str(folder / f"{index}.png"), np.zeros((50, 100, 3), dtype=np.uint8))
    dataset = tmp_path / "coco"
    (dataset / "annotations").mkdir(parents=True)
    (dataset / "images").mkdir()
    cv2.imwrite(str(dataset / "images" / "p.jpg"), np.zeros((64, 48, 3), dtype=np.uint8))
    (dataset / "annotations" / "person_keypoints.json").write_text(
        json.dumps({"images": [{"id": 7, "file_name": "p.jpg", "width": 48, "height": 64}], "annotations": []})
    )
    frames, used = load_calibration_frames([video, folder, dataset], subset=10)
    assert [(u["kind"], u["used"]) for u in used] == [("video", 6), ("images", 3), ("coco", 1)]
    assert len(frames) == 10
    assert all(frame.shape == (640, 640, 3) and frame.dtype == np.uint8 for frame in frames)
    # frames sampled across the clip, not the first six: brightness grows with the frame index
    video_brightness = [int(frame[320, 320, 0]) for frame in frames[:6]]
    assert video_brightness == sorted(video_brightness) and video_brightness[-1] - video_brightness[0] >= 150


def test_empty_folder_and_missing_path_are_named(tmp_path: Path) -> None:
    with pytest.raises(ModelsError, match="contains no images"):
        load_calibration_frames([tmp_path], subset=5)
    with pytest.raises(ModelsError, match="not found: .*missing.mp4"):
        load_calibration_frames([tmp_path / "missing.mp4"], subset=5)


def test_int8_file_name_says_int8() -> None:
    from posestream_models.quantize import int8_stem

    assert int8_stem("yolov8n-pose-fp32") == "yolov8n-pose-int8"
    assert int8_stem("custom") == "custom-int8"
