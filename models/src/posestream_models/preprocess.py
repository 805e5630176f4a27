"""Letterbox preprocessing shared by eval, predict and calibration (Ultralytics LetterBox semantics)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from posestream_models.errors import ModelsError

INPUT_SIZE = 640
PAD_VALUE = 114

ImageU8 = npt.NDArray[np.uint8]
TensorF32 = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Letterbox:
    """How a source image was placed in the square model input: input = source * scale + (pad_left, pad_top)."""

    scale: float
    pad_left: int
    pad_top: int
    source_width: int
    source_height: int


def letterbox_geometry(width: int, height: int, size: int = INPUT_SIZE) -> tuple[Letterbox, int, int]:
    """Scale keeping aspect, centred; the -0.1/+0.1 rounding matches Ultralytics so boxes map back identically."""
    if width <= 0 or height <= 0:
        raise ValueError(f"image size must be positive, got {width}x{height}")
    scale = min(size / height, size / width)
    new_width, new_height = int(round(width * scale)), int(round(height * scale))
    pad_x, pad_y = (size - new_width) / 2, (size - new_height) / 2
    pad_left, pad_top = int(round(pad_x - 0.1)), int(round(pad_y - 0.1))
    return Letterbox(scale, pad_left, pad_top, width, height), new_width, new_height


def letterbox_image(image_bgr: ImageU8, size: int = INPUT_SIZE) -> tuple[ImageU8, Letterbox]:
    """BGR HxWx3 uint8 -> RGB size x size x 3 uint8, grey-padded."""
    height, width = image_bgr.shape[:2]
    box, new_width, new_height = letterbox_geometry(width, height, size)
    resized = image_bgr
    if (new_width, new_height) != (width, height):
        resized = cv2.resize(image_bgr, (new_width, new_height), interpolation=cv2.INTER_LINEAR)
    canvas = np.full((size, size, 3), PAD_VALUE, dtype=np.uint8)
    canvas[box.pad_top : box.pad_top + new_height, box.pad_left : box.pad_left + new_width] = resized
    return cv2.cvtColor(canvas, cv2.COLOR_BGR2RGB).astype(np.uint8), box


def to_input_tensor(letterboxed_rgb: ImageU8) -> TensorF32:
    """HWC uint8 RGB -> [1,3,H,W] float32 0..1 (the model's `images` input)."""
    chw = np.ascontiguousarray(letterboxed_rgb.transpose(2, 0, 1), dtype=np.float32)
    chw *= 1.0 / 255.0
    return chw[np.newaxis]


def read_image(path: Path) -> ImageU8:
    if not path.is_file():
        raise ModelsError(f"image not found: {path}")
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise ModelsError(f"cannot decode image: {path}")
    return image.astype(np.uint8, copy=False)


def preprocess_image(path: Path) -> tuple[TensorF32, Letterbox]:
    letterboxed, box = letterbox_image(read_image(path))
    return to_input_tensor(letterboxed), box
