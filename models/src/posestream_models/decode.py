"""YOLOv8-pose output decode: [56, anchors] -> persons in source-image pixels. Used by eval and predict."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from posestream_models.preprocess import Letterbox

NUM_KEYPOINTS = 17
POSE_ROWS = 4 + 1 + NUM_KEYPOINTS * 3  # box cx,cy,w,h + person score + 17 x (x, y, conf)

FloatArray = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Person:
    box: tuple[float, float, float, float]  # x1, y1, x2, y2 in source pixels
    score: float
    keypoints: list[tuple[float, float, float]]  # 17 x (x, y, conf) in source pixels

    def to_json(self) -> dict[str, object]:
        return {"box": list(self.box), "score": self.score, "keypoints": [list(k) for k in self.keypoints]}


def box_iou(box: npt.NDArray[np.floating], others: npt.NDArray[np.floating]) -> npt.NDArray[np.floating]:
    """IoU of one xyxy box against an [N,4] xyxy array."""
    inter_w = np.clip(np.minimum(box[2], others[:, 2]) - np.maximum(box[0], others[:, 0]), 0, None)
    inter_h = np.clip(np.minimum(box[3], others[:, 3]) - np.maximum(box[1], others[:, 1]), 0, None)
    inter = inter_w * inter_h
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (others[:, 2] - others[:, 0]) * (others[:, 3] - others[:, 1])
    union = area + areas - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


def nms(boxes: npt.NDArray[np.floating], scores: npt.NDArray[np.floating], iou_threshold: float, max_keep: int) -> list[int]:
    """Greedy class-agnostic NMS; returns kept indices, best score first. Ties keep the earlier anchor."""
    order = np.argsort(-scores, kind="stable")
    keep: list[int] = []
    while order.size > 0 and len(keep) < max_keep:
        best = int(order[0])
        keep.append(best)
        rest = order[1:]
        order = rest[box_iou(boxes[best], boxes[rest]) <= iou_threshold]
    return keep


def decode_pose(
    output: npt.NDArray[np.floating],
    letterbox: Letterbox,
    conf_threshold: float,
    iou_threshold: float = 0.7,
    max_detections: int = 300,
) -> list[Person]:
    """`output` is one image's [56, anchors] tensor (score already sigmoid), coordinates in 640-input pixels."""
    if output.ndim != 2 or output.shape[0] != POSE_ROWS:
        raise ValueError(f"expected a [{POSE_ROWS}, anchors] pose output, got {list(output.shape)}")
    rows = output.T.astype(np.float32, copy=False)
    rows = rows[rows[:, 4] > conf_threshold]
    if rows.shape[0] == 0:
        return []
    centre, size = rows[:, 0:2], rows[:, 2:4]
    boxes = np.concatenate([centre - size / 2, centre + size / 2], axis=1)
    kept = nms(boxes, rows[:, 4], iou_threshold, max_detections)
    persons: list[Person] = []
    width, height = letterbox.source_width, letterbox.source_height
    for index in kept:
        x1, y1, x2, y2 = unletterbox_xy(boxes[index].reshape(2, 2), letterbox).reshape(4)
        keypoints = rows[index, 5:].reshape(NUM_KEYPOINTS, 3)
        points = unletterbox_xy(keypoints[:, :2], letterbox)
        persons.append(
            Person(
                box=(_clip(x1, width), _clip(y1, height), _clip(x2, width), _clip(y2, height)),
                score=float(rows[index, 4]),
                keypoints=[
                    (_clip(px, width), _clip(py, height), float(conf))
                    for (px, py), conf in zip(points.tolist(), keypoints[:, 2].tolist())
                ],
            )
        )
    return persons


def unletterbox_xy(points: npt.NDArray[np.floating], letterbox: Letterbox) -> npt.NDArray[np.float64]:
    """[N,2] input-pixel x,y -> source-pixel x,y."""
    pad = np.array([letterbox.pad_left, letterbox.pad_top], dtype=np.float64)
    return (points.astype(np.float64) - pad) / letterbox.scale


def _clip(value: float, limit: int) -> float:
    return float(min(max(value, 0.0), float(limit)))
