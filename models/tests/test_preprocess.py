from __future__ import annotations

import numpy as np
import pytest

from posestream_models.decode import unletterbox_xy
from posestream_models.preprocess import PAD_VALUE, letterbox_geometry, letterbox_image, to_input_tensor


def test_landscape_720p_is_halved_and_padded_top_and_bottom() -> None:
    box, width, height = letterbox_geometry(1280, 720)
    assert (box.scale, width, height, box.pad_left, box.pad_top) == (0.5, 640, 360, 0, 140)


def test_portrait_odd_padding_matches_ultralytics_rounding() -> None:
    # 481x640 (coco8 image 36): scale 1, 159 px of padding split 79 left / 80 right like Ultralytics' round(x -/+ 0.1).
    box, width, height = letterbox_geometry(481, 640)
    assert (box.scale, width, height, box.pad_left, box.pad_top) == (1.0, 481, 640, 79, 0)


def test_small_image_is_upscaled() -> None:
    box, width, height = letterbox_geometry(320, 160)
    assert (box.scale, width, height, box.pad_top) == (2.0, 640, 320, 160)


def test_letterbox_image_pads_grey_swaps_to_rgb_and_round_trips_coordinates() -> None:
    image = np.zeros((100, 200, 3), dtype=np.uint8)
    image[:, :, 0] = 255  # pure blue in BGR
    out, box = letterbox_image(image)
    assert out.shape == (640, 640, 3)
    assert (out[0, 0] == PAD_VALUE).all() and (out[-1, -1] == PAD_VALUE).all()
    assert tuple(out[320, 320]) == (0, 0, 255)  # blue is last in RGB
    source_points = np.array([[0.0, 0.0], [200.0, 100.0], [50.0, 25.0]])
    input_points = source_points * box.scale + [box.pad_left, box.pad_top]
    np.testing.assert_allclose(unletterbox_xy(input_points, box), source_points, atol=1e-9)


def test_input_tensor_is_nchw_float_0_to_1() -> None:
    frame = np.full((640, 640, 3), 255, dtype=np.uint8)
    frame[0, 0] = (0, 128, 255)
    tensor = to_input_tensor(frame)
    assert tensor.shape == (1, 3, 640, 640) and tensor.dtype == np.float32
    assert tensor[0, :, 0, 0].tolist() == pytest.approx([0.0, 128 / 255, 1.0])
    assert tensor.max() == pytest.approx(1.0)


def test_rejects_empty_size() -> None:
    with pytest.raises(ValueError):
        letterbox_geometry(0, 10)
