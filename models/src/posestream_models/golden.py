"""Golden dump for the TypeScript decoder: per image the letterboxed input, the raw [56, anchors] output and the
reference decode, so both decoders can be run on the SAME output tensor (test/integration/pose-golden.test.ts)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from posestream_models.decode import decode_pose
from posestream_models.preprocess import letterbox_image, read_image, to_input_tensor
from posestream_models.runtime import compile_pose_model

GOLDEN_CONFS = (0.25, 0.001)


def dump_golden(model: Path, images: list[Path], out: Path, device: str = "CPU", precision: str = "f32") -> dict[str, Any]:
    """Writes <out>/<i>.input.u8 (RGB 640x640x3), <out>/<i>.output.f32 ([56, anchors]) and <out>/golden.json."""
    runner = compile_pose_model(model, device, precision)
    out.mkdir(parents=True, exist_ok=True)
    entries: list[dict[str, Any]] = []
    for index, image in enumerate(images):
        letterboxed, box = letterbox_image(read_image(image))
        output = runner.infer(to_input_tensor(letterboxed))
        input_file, output_file = out / f"{index}.input.u8", out / f"{index}.output.f32"
        np.ascontiguousarray(letterboxed, dtype=np.uint8).tofile(input_file)
        np.ascontiguousarray(output, dtype=np.float32).tofile(output_file)
        entries.append({
            "image": str(image), "input": str(input_file), "output": str(output_file), "anchors": int(output.shape[1]),
            "letterbox": {"scale": box.scale, "padX": box.pad_left, "padY": box.pad_top,
                          "sourceWidth": box.source_width, "sourceHeight": box.source_height},
            "persons": {str(conf): [p.to_json() for p in decode_pose(output, box, conf, 0.7, 300)] for conf in GOLDEN_CONFS},
        })  # fmt: skip
    manifest = {"model": str(model), "precision": runner.precision, "device": runner.device, "images": entries}
    (out / "golden.json").write_text(json.dumps(manifest), encoding="utf-8")
    return {"golden": str(out / "golden.json"), "images": len(entries), "precision": runner.precision}
