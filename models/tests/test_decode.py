from __future__ import annotations

import numpy as np
import pytest

from posestream_models.decode import box_iou, decode_pose, nms
from posestream_models.preprocess import letterbox_geometry


def pose_output(anchors: list[tuple[float, float, float, float, float]]) -> np.ndarray:
    """[56, N]: each anchor (cx, cy, w, h, score); keypoint k sits at (cx + k, cy - k) with conf 0.5 + k/100."""
    output = np.zeros((56, len(anchors)), dtype=np.float32)
    for index, (cx, cy, w, h, score) in enumerate(anchors):
        output[0:5, index] = (cx, cy, w, h, score)
        for k in range(17):
            output[5 + 3 * k : 8 + 3 * k, index] = (cx + k, cy - k, 0.5 + k / 100)
    return output


def test_iou_of_identical_disjoint_and_half_overlapping_boxes() -> None:
    box = np.array([0.0, 0.0, 10.0, 10.0])
    others = np.array([[0, 0, 10, 10], [20, 20, 30, 30], [5, 0, 15, 10]], dtype=float)
    np.testing.assert_allclose(box_iou(box, others), [1.0, 0.0, 1 / 3])


def test_nms_suppresses_overlaps_above_threshold_only_and_caps_count() -> None:
    boxes = np.array([[0, 0, 10, 10], [1, 0, 11, 10], [5, 0, 15, 10], [50, 50, 60, 60]], dtype=float)
    scores = np.array([0.9, 0.95, 0.5, 0.3])
    assert nms(boxes, scores, 0.7, 300) == [1, 2, 3]  # box 0 overlaps box 1 at IoU 0.82; box 2 only 0.43
    assert nms(boxes, scores, 0.7, 2) == [1, 2]


def test_decode_filters_by_score_and_maps_back_to_source_pixels() -> None:
    letterbox, _, _ = letterbox_geometry(1280, 720)  # scale 0.5, pad_top 140
    output = pose_output([(320, 320, 100, 200, 0.9), (322, 320, 100, 200, 0.8), (100, 200, 40, 40, 0.2)])
    persons = decode_pose(output, letterbox, conf_threshold=0.25)
    assert len(persons) == 1  # second anchor suppressed by NMS, third below the threshold
    person = persons[0]
    assert person.score == pytest.approx(0.9)
    assert person.box == pytest.approx((540.0, 160.0, 740.0, 560.0))
    assert len(person.keypoints) == 17
    assert person.keypoints[3] == pytest.approx(((323 - 0) / 0.5, (317 - 140) / 0.5, 0.53))
    assert len(decode_pose(output, letterbox, conf_threshold=0.1)) == 2


def test_decode_clips_to_the_source_image() -> None:
    letterbox, _, _ = letterbox_geometry(640, 640)
    persons = decode_pose(pose_output([(630, 5, 40, 40, 0.9)]), letterbox, conf_threshold=0.25)
    assert persons[0].box == pytest.approx((610.0, 0.0, 640.0, 25.0))


def test_decode_returns_nothing_when_no_anchor_passes() -> None:
    letterbox, _, _ = letterbox_geometry(640, 480)
    assert decode_pose(pose_output([(10, 10, 5, 5, 0.1)]), letterbox, conf_threshold=0.25) == []


def test_decode_rejects_non_pose_rows() -> None:
    letterbox, _, _ = letterbox_geometry(640, 480)
    with pytest.raises(ValueError, match="56"):
        decode_pose(np.zeros((84, 10), dtype=np.float32), letterbox, conf_threshold=0.25)
