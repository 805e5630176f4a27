"""Real models on the shared assets: convert, eval (reference numbers), predict, quantize, bench, report."""

from __future__ import annotations

import json
from pathlib import Path

import openvino as ov
import pytest
from conftest import asset_or_skip, run_cli

from posestream_models.metadata import sha256_of
from posestream_models.quantize import pose_head_ignored_scope, ignored_node_names

pytestmark = pytest.mark.slow

# onnxruntime FP32 reference for this ONNX on coco-mini (shared/notes/platform-facts.md)
REFERENCE_POSE_MAP = 0.460
REFERENCE_BOX_MAP = 0.444


def test_convert_writes_fp32_dynamic_batch_ir_with_metadata(fp32_ir: Path) -> None:
    metadata = json.loads((fp32_ir.parent / "metadata.json").read_text())
    onnx = asset_or_skip("models/yolov8n-pose-fp32.onnx")
    assert metadata["task"] == "pose" and metadata["kpt_shape"] == [17, 3] and metadata["names"] == {"0": "person"}
    assert metadata["stride"] == 32 and metadata["imgsz"] == [640, 640] and metadata["precision"] == "FP32"
    assert metadata["source"] == {"path": str(onnx.resolve()), "sha256": sha256_of(onnx)}
    assert (metadata["input_name"], metadata["output_name"]) == ("images", "output0")
    assert metadata["openvino_version"] == ov.get_version()
    model = ov.Core().read_model(str(fp32_ir))
    assert str(model.input(0).get_partial_shape()) == "[?,3,640,640]"
    weight_types = {op.get_element_type().get_type_name() for op in model.get_ops() if op.get_type_name() == "Constant"}
    assert "f16" not in weight_types


def test_fp32_eval_on_coco_mini_matches_the_reference(fp32_ir: Path) -> None:
    dataset = asset_or_skip("datasets/coco-mini-val2017-person-kpts")
    completed = run_cli("eval", "--model", fp32_ir, "--data", dataset, "--json")
    assert completed.returncode == 0, completed.stderr
    result = json.loads(completed.stdout)
    assert set(result) == {"images", "box", "pose", "precision", "device"}
    assert (result["images"], result["precision"], result["device"]) == (79, "f32", "CPU")
    assert result["pose"]["map"] == pytest.approx(REFERENCE_POSE_MAP, abs=0.005)
    assert result["box"]["map"] == pytest.approx(REFERENCE_BOX_MAP, abs=0.005)


def test_eval_accepts_onnx_and_coco8_layout() -> None:
    onnx = asset_or_skip("models/yolov8n-pose-fp32.onnx")
    coco8 = asset_or_skip("datasets/coco8-pose")
    completed = run_cli("eval", "--model", onnx, "--data", coco8, "--json")
    assert completed.returncode == 0, completed.stderr
    result = json.loads(completed.stdout)
    assert result["images"] == 8 and result["pose"]["map50"] > 0.7


def test_predict_prints_golden_persons(fp32_ir: Path) -> None:
    bus = asset_or_skip("media/bus.jpg")
    completed = run_cli("predict", "--model", fp32_ir, bus, "--json")
    assert completed.returncode == 0, completed.stderr
    [entry] = json.loads(completed.stdout)
    assert (entry["image"], entry["width"], entry["height"]) == (str(bus), 810, 1080)
    assert len(entry["persons"]) >= 3  # two men in front of the bus plus people cut off at the edges
    for person in entry["persons"]:
        x1, y1, x2, y2 = person["box"]
        assert 0 <= x1 < x2 <= 810 and 0 <= y1 < y2 <= 1080 and person["score"] >= 0.25
        assert len(person["keypoints"]) == 17 and all(len(k) == 3 for k in person["keypoints"])


def test_ignored_scope_matches_the_head_post_processing_only(fp32_ir: Path) -> None:
    model = ov.Core().read_model(str(fp32_ir))
    ignored = ignored_node_names(model, pose_head_ignored_scope(model))
    for expected in ("n___module.model.22/aten::mul/Multiply_2", "n_Multiply_340696", "n___module.model.22/aten::div/Divide",
                     "n___module.model.22/aten::sigmoid/Sigmoid", "n___module.model.22.dfl/aten::softmax/Softmax"):  # fmt: skip
        assert expected in ignored
    types = {op.get_friendly_name(): op.get_type_name() for op in model.get_ops()}
    ignored_convs = [name for name in ignored if types[name] == "Convolution"]
    assert ignored_convs == ["n___module.model.22.dfl.conv/aten::_convolution/Convolution"]


def test_quantize_produces_a_running_int8_ir(int8_ir: Path) -> None:
    metadata = json.loads((int8_ir.parent / "metadata.json").read_text())
    assert metadata["precision"] == "INT8" and metadata["calibration"]["subset_size"] == 12
    assert [source["kind"] for source in metadata["calibration"]["sources"]] == ["video", "coco"]
    assert metadata["nncf_version"] == "3.4.0" and metadata["quantization"]["ignored_nodes"] >= 10
    model = ov.Core().read_model(str(int8_ir))
    assert sum(op.get_type_name() == "FakeQuantize" for op in model.get_ops()) > 50
    coco8 = asset_or_skip("datasets/coco8-pose")
    completed = run_cli("eval", "--model", int8_ir, "--data", coco8, "--json")
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["pose"]["map50"] > 0.6


def test_quantize_output_is_readable(int8_ir: Path) -> None:
    stdout = (int8_ir.parent / "quantize.stdout").read_text()
    stderr = (int8_ir.parent / "quantize.stderr").read_text()
    assert "INFO:nncf" not in stderr, stderr[:2000]
    assert len(stderr.splitlines()) < 20, stderr[:2000]
    assert stdout.startswith(f"wrote {int8_ir}") and "activation quantizers" in stdout and "MB FP32 ->" in stdout


def test_bench_and_report(fp32_ir: Path, int8_ir: Path, tmp_path: Path) -> None:
    completed = run_cli("bench", "--model", fp32_ir, "--seconds", "2", "--json")
    assert completed.returncode == 0, completed.stderr
    bench = json.loads(completed.stdout)
    assert set(bench) == {"fps", "latency_ms", "device", "streams", "precision"}
    assert bench["fps"] > 0 and bench["precision"] == "f32" and bench["streams"] >= 1
    assert 0 < bench["latency_ms"]["p50"] <= bench["latency_ms"]["max"]

    coco8 = asset_or_skip("datasets/coco8-pose")
    completed = run_cli("report", "--fp32", fp32_ir, "--int8", int8_ir, "--data", coco8, "--out", tmp_path, "--seconds", "2")
    assert completed.returncode == 0, completed.stderr
    report = (tmp_path / "report.md").read_text()
    assert "| FP32 |" in report and "| INT8 |" in report and "speed-up" in report
    assert (tmp_path / "pose-map-vs-fps.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
