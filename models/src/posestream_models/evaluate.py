"""Pose/box mAP with pycocotools: run a model over a COCO-keypoint dataset, or score a detections file."""

from __future__ import annotations

import contextlib
import copy
import io
import json
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from posestream_models.dataset import DatasetImage, load_annotation_json, load_keypoint_dataset
from posestream_models.decode import Person, decode_pose
from posestream_models.errors import ModelsError, require_file
from posestream_models.preprocess import preprocess_image
from posestream_models.runtime import PoseRunner, compile_pose_model

EVAL_CONF = 0.001
EVAL_IOU = 0.7
EVAL_MAX_DETECTIONS = 300
PERSON_CATEGORY = 1


def person_to_coco(image_id: int, person: Person) -> dict[str, Any]:
    x1, y1, x2, y2 = person.box
    return {
        "image_id": image_id,
        "category_id": PERSON_CATEGORY,
        "bbox": [round(x1, 3), round(y1, 3), round(x2 - x1, 3), round(y2 - y1, 3)],
        "score": round(person.score, 5),
        "keypoints": [round(value, 3) for point in person.keypoints for value in point],
    }


def detect_dataset(runner: PoseRunner, images: Iterable[DatasetImage]) -> list[dict[str, Any]]:
    detections: list[dict[str, Any]] = []
    for image in images:
        tensor, letterbox = preprocess_image(image.path)
        persons = decode_pose(runner.infer(tensor), letterbox, EVAL_CONF, EVAL_IOU, EVAL_MAX_DETECTIONS)
        detections.extend(person_to_coco(image.image_id, person) for person in persons)
    return detections


def score_detections(ground_truth: COCO, detections: list[dict[str, Any]], image_ids: list[int]) -> dict[str, dict[str, float]]:
    """mAP50 and mAP50-95 for boxes and keypoints (COCO sigmas). pycocotools' chatter goes to stderr."""
    if not detections:
        zero = {"map50": 0.0, "map": 0.0}
        return {"box": dict(zero), "pose": dict(zero)}
    with contextlib.redirect_stdout(io.StringIO()):
        results = ground_truth.loadRes(copy.deepcopy(detections))
        metrics: dict[str, dict[str, float]] = {}
        for iou_type, key in (("bbox", "box"), ("keypoints", "pose")):
            evaluator = COCOeval(ground_truth, results, iou_type)
            evaluator.params.imgIds = image_ids
            evaluator.evaluate()
            evaluator.accumulate()
            evaluator.summarize()
            metrics[key] = {"map50": float(evaluator.stats[1]), "map": float(evaluator.stats[0])}
    return metrics


def load_ground_truth(annotation_file: Path) -> COCO:
    load_annotation_json(annotation_file)  # clear errors for missing/malformed files before pycocotools asserts
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            return COCO(str(annotation_file))
    except Exception as error:
        raise ModelsError(f"annotation file {annotation_file}: pycocotools cannot load it ({error})") from error


def evaluate_model(
    model: Path,
    dataset: Path,
    device: str = "CPU",
    precision: str = "f32",
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    runner = compile_pose_model(model, device, precision)
    data = load_keypoint_dataset(dataset)
    ground_truth = load_ground_truth(data.annotation_file)
    if progress:
        progress(f"evaluating {model} on {len(data.images)} images ({device}, inference precision {runner.precision})")
    detections = detect_dataset(runner, data.images)
    metrics = score_detections(ground_truth, detections, [image.image_id for image in data.images])
    return {"images": len(data.images), **metrics, "precision": runner.precision, "device": runner.device}


def score_files(annotation_file: Path, detections_file: Path) -> dict[str, Any]:
    require_file(detections_file, "detections file")
    ground_truth = load_ground_truth(require_file(annotation_file, "annotation file"))
    try:
        detections = json.loads(detections_file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ModelsError(f"detections file {detections_file}: malformed JSON ({error.msg} at line {error.lineno})") from error
    if not isinstance(detections, list):
        raise ModelsError(f"detections file {detections_file}: expected a JSON list of COCO results")
    image_ids = sorted(ground_truth.getImgIds())
    unknown = {d.get("image_id") for d in detections if isinstance(d, dict)} - set(image_ids)
    if unknown:
        raise ModelsError(f"detections file {detections_file}: image_id(s) not in {annotation_file}: {sorted(map(str, unknown))[:5]}")
    try:
        metrics = score_detections(ground_truth, detections, image_ids)
    except (KeyError, TypeError, ValueError, IndexError, AssertionError) as error:
        raise ModelsError(f"detections file {detections_file}: not valid COCO keypoint results ({error!r})") from error
    return {"images": len(image_ids), **metrics}


def format_metrics(metrics: dict[str, Any]) -> str:
    lines = [f"images: {metrics['images']}"]
    for key, label in (("box", "box "), ("pose", "pose")):
        lines.append(f"{label} mAP50 {metrics[key]['map50']:.4f}  mAP50-95 {metrics[key]['map']:.4f}")
    if "precision" in metrics:
        lines.append(f"device {metrics['device']}, inference precision {metrics['precision']}")
    return "\n".join(lines)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


