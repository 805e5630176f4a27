"""Calibration inputs for NNCF: image folders, COCO datasets and videos, letterboxed like inference."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from posestream_models.dataset import IMAGE_SUFFIXES, load_keypoint_dataset
from posestream_models.errors import ModelsError
from posestream_models.preprocess import ImageU8, TensorF32, letterbox_image, read_image, to_input_tensor

# FFmpeg would print "moov atom not found" & co. for a broken file next to our own one-line error.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")

VIDEO_SUFFIXES = (".mp4", ".mkv", ".avi", ".mov", ".webm", ".m4v", ".ts")


@dataclass(frozen=True)
class CalibrationSource:
    path: Path
    kind: str  # "video" | "images" | "coco"
    items: int  # frames or images available
    image_paths: tuple[Path, ...] = ()

    def describe(self) -> str:
        return f"{self.path} ({self.kind}, {self.items} {'frames' if self.kind == 'video' else 'images'})"


def video_frame_count(path: Path) -> int:
    capture = cv2.VideoCapture(str(path))
    try:
        if not capture.isOpened():
            raise ModelsError(f"calibration video {path}: cannot open it (not a readable video)")
        count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        ok, _ = capture.read()
        if not ok or count <= 0:
            raise ModelsError(f"calibration video {path}: no decodable video frames")
        return count
    finally:
        capture.release()


def open_source(path: Path) -> CalibrationSource:
    if not path.exists():
        raise ModelsError(f"calibration source not found: {path}")
    if path.is_file() and path.suffix.lower() in VIDEO_SUFFIXES:
        return CalibrationSource(path, "video", video_frame_count(path))
    if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES:
        return CalibrationSource(path, "images", 1, (path,))
    if path.suffix.lower() == ".json" or (path / "annotations").is_dir():
        images = tuple(image.path for image in load_keypoint_dataset(path).images)
        return CalibrationSource(path, "coco", len(images), images)
    if path.is_dir():
        images = tuple(sorted(p for p in path.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES))
        if not images:
            raise ModelsError(f"calibration folder {path}: contains no images ({', '.join(IMAGE_SUFFIXES)})")
        return CalibrationSource(path, "images", len(images), images)
    raise ModelsError(f"calibration source {path}: not a video, image, image folder or COCO dataset")


def share_subset(available: list[int], subset: int) -> list[int]:
    """Equal share per source, capped by what each has; what small sources can't use goes to the others."""
    quotas = [0] * len(available)
    remaining, open_sources = subset, [i for i, n in enumerate(available) if n > 0]
    while remaining > 0 and open_sources:
        share = max(1, remaining // len(open_sources))
        for index in list(open_sources):
            take = min(share, available[index] - quotas[index], remaining)
            quotas[index] += take
            remaining -= take
            if quotas[index] >= available[index]:
                open_sources.remove(index)
            if remaining == 0:
                break
    return quotas


def evenly_spaced(count: int, take: int) -> list[int]:
    if take >= count:
        return list(range(count))
    return sorted({int(round(x)) for x in np.linspace(0, count - 1, take)})


def video_frames(source: CalibrationSource, take: int) -> Iterator[ImageU8]:
    wanted = set(evenly_spaced(source.items, take))
    capture = cv2.VideoCapture(str(source.path))
    try:
        index, produced = 0, 0
        while produced < len(wanted):
            ok, frame = capture.read()
            if not ok:
                break
            if index in wanted:
                produced += 1
                yield letterbox_image(frame.astype(np.uint8, copy=False))[0]
            index += 1
        if produced == 0:
            raise ModelsError(f"calibration video {source.path}: no decodable video frames")
    finally:
        capture.release()


def source_frames(source: CalibrationSource, take: int) -> Iterator[ImageU8]:
    if source.kind == "video":
        yield from video_frames(source, take)
        return
    for index in evenly_spaced(len(source.image_paths), take):
        yield letterbox_image(read_image(source.image_paths[index]))[0]


def load_calibration_frames(paths: list[Path], subset: int) -> tuple[list[ImageU8], list[dict[str, object]]]:
    """Letterboxed uint8 RGB frames (kept as uint8: 300 frames are ~370 MB, not ~1.5 GB as float)."""
    if subset <= 0:
        raise ModelsError(f"--subset must be positive, got {subset}")
    sources = [open_source(path) for path in paths]
    quotas = share_subset([source.items for source in sources], subset)
    frames: list[ImageU8] = []
    used: list[dict[str, object]] = []
    for source, quota in zip(sources, quotas):
        before = len(frames)
        frames.extend(source_frames(source, quota))
        used.append({"path": str(source.path.resolve()), "kind": source.kind, "available": source.items, "used": len(frames) - before})
    return frames, used


def frame_to_tensor(frame: ImageU8) -> TensorF32:
    return to_input_tensor(frame)
