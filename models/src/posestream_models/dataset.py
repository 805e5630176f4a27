"""COCO-keypoint dataset folders: find the annotation json and resolve every image it lists."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from posestream_models.errors import ModelsError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")


@dataclass(frozen=True)
class DatasetImage:
    image_id: int
    path: Path
    width: int
    height: int


@dataclass(frozen=True)
class KeypointDataset:
    root: Path
    annotation_file: Path
    images: list[DatasetImage]


def find_annotation_file(dataset: Path) -> Path:
    """A dataset is either the annotation json itself or a folder with exactly one keypoint json under annotations/."""
    if dataset.is_file():
        return dataset
    if not dataset.is_dir():
        raise ModelsError(f"dataset not found: {dataset}")
    annotations = dataset / "annotations"
    candidates = sorted(annotations.glob("*.json")) if annotations.is_dir() else []
    keypoint_files = [path for path in candidates if "keypoint" in path.name] or candidates
    if not keypoint_files:
        raise ModelsError(f"dataset {dataset}: no annotation json under {annotations}")
    if len(keypoint_files) > 1:
        names = ", ".join(path.name for path in keypoint_files)
        raise ModelsError(f"dataset {dataset}: several annotation files ({names}); pass the json path instead")
    return keypoint_files[0]


def load_annotation_json(annotation_file: Path) -> dict[str, object]:
    try:
        content = json.loads(annotation_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise ModelsError(f"annotation file {annotation_file}: cannot read it ({error})") from error
    except json.JSONDecodeError as error:
        raise ModelsError(f"annotation file {annotation_file}: malformed JSON ({error.msg} at line {error.lineno})") from error
    if not isinstance(content, dict) or not isinstance(content.get("images"), list):
        raise ModelsError(f"annotation file {annotation_file}: not a COCO annotation file (no 'images' list)")
    return content


def resolve_image(root: Path, annotation_file: Path, file_name: str) -> Path | None:
    """coco8-pose stores 'images/train/x.jpg' (root-relative), COCO stores 'x.jpg' next to the split folder."""
    direct = [root / file_name, annotation_file.parent / file_name]
    for candidate in direct:
        if candidate.is_file():
            return candidate
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and p.name != "annotations"):
        candidate = folder / file_name
        if candidate.is_file():
            return candidate
    return None


def load_keypoint_dataset(dataset: Path) -> KeypointDataset:
    annotation_file = find_annotation_file(dataset)
    root = dataset if dataset.is_dir() else annotation_file.parent.parent
    content = load_annotation_json(annotation_file)
    images: list[DatasetImage] = []
    for entry in content["images"]:  # type: ignore[union-attr]
        try:
            image_id, file_name = int(entry["id"]), str(entry["file_name"])
            width, height = int(entry["width"]), int(entry["height"])
        except (KeyError, TypeError, ValueError) as error:
            raise ModelsError(f"annotation file {annotation_file}: image entry {entry!r} lacks id/file_name/width/height") from error
        path = resolve_image(root, annotation_file, file_name)
        if path is None:
            raise ModelsError(f"dataset {root}: image '{file_name}' listed in {annotation_file.name} does not exist")
        images.append(DatasetImage(image_id, path, width, height))
    if not images:
        raise ModelsError(f"annotation file {annotation_file}: lists no images")
    return KeypointDataset(root=root, annotation_file=annotation_file, images=images)
