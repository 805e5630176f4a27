"""Ultralytics' `export(dynamic=True)` gives [?,3,?,?]; convert makes it [?,3,640,640] so the anchors are static."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import openvino as ov
import openvino.opset13 as ops
import pytest

from posestream_models.convert import fix_input_shape
from posestream_models.errors import ModelsError
from posestream_models.runtime import check_pose_model


def dynamic_export_like(batch: int = -1) -> ov.Model:
    """Fully dynamic like Ultralytics' ONNX: [b,3,?,?] -> stride-8 conv -> [b,56,anchors?]."""
    image = ops.parameter([batch, 3, -1, -1], np.float32, name="images")
    weights = np.ones((56, 3, 1, 1), np.float32)
    features = ops.convolution(image, weights, [8, 8], [0, 0], [0, 0], [1, 1])
    output = ops.reshape(features, np.array([0, 56, -1], dtype=np.int64), True)
    return ov.Model([output], [image], "dynamic-pose")


def test_dynamic_height_and_width_become_640_and_anchors_static() -> None:
    model = dynamic_export_like()
    with pytest.raises(ModelsError, match="dynamic sizes besides the batch"):
        check_pose_model(model, Path("x.onnx"), static_anchors=True)
    fix_input_shape(model)
    assert str(model.input(0).get_partial_shape()) == "[?,3,640,640]"
    assert str(model.output(0).get_partial_shape()) == "[?,56,6400]"
    check_pose_model(model, Path("x.onnx"), static_anchors=True)


def test_static_batch_becomes_dynamic() -> None:
    model = dynamic_export_like(batch=1)
    fix_input_shape(model)
    assert str(model.input(0).get_partial_shape()) == "[?,3,640,640]"
