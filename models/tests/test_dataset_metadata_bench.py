from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import save_constant_output_model

from posestream_models.benchmark import parse_report
from posestream_models.dataset import load_keypoint_dataset
from posestream_models.errors import ModelsError
from posestream_models.metadata import pose_fields, sha256_of, ultralytics_metadata


def make_dataset(root: Path, file_name: str, image_at: str) -> Path:
    (root / "annotations").mkdir(parents=True)
    image = root / image_at
    image.parent.mkdir(parents=True, exist_ok=True)
    image.write_bytes(b"jpeg")
    images = [{"id": 5, "file_name": file_name, "width": 10, "height": 20}]
    (root / "annotations" / "person_keypoints_val.json").write_text(json.dumps({"images": images, "annotations": []}))
    return image


@pytest.mark.parametrize(
    ("file_name", "image_at"),
    [("images/train/a.jpg", "images/train/a.jpg"), ("a.jpg", "val2017/a.jpg")],
    ids=["coco8-style root-relative", "coco-style split folder"],
)
def test_dataset_images_resolve_in_both_layouts(tmp_path: Path, file_name: str, image_at: str) -> None:
    image = make_dataset(tmp_path, file_name, image_at)
    dataset = load_keypoint_dataset(tmp_path)
    assert [(i.image_id, i.path, i.width, i.height) for i in dataset.images] == [(5, image, 10, 20)]


def test_two_annotation_files_need_an_explicit_choice(tmp_path: Path) -> None:
    make_dataset(tmp_path, "a.jpg", "val2017/a.jpg")
    (tmp_path / "annotations" / "person_keypoints_train.json").write_text("{}")
    with pytest.raises(ModelsError, match="several annotation files"):
        load_keypoint_dataset(tmp_path)


def test_metadata_reads_ultralytics_keys_from_rt_info(tmp_path: Path) -> None:
    import openvino as ov

    model = ov.Core().read_model(str(save_constant_output_model(tmp_path / "m.xml", 56)))
    assert ultralytics_metadata(model) == {}
    model.set_rt_info("{0: 'person'}", ["framework", "names"])
    model.set_rt_info("[17, 3]", ["framework", "kpt_shape"])
    model.set_rt_info("64", ["framework", "stride"])
    assert ultralytics_metadata(model) == {"names": {"0": "person"}, "kpt_shape": [17, 3], "stride": 64}
    assert pose_fields(model)["stride"] == 64
    model.set_rt_info("[21, 3]", ["framework", "kpt_shape"])
    with pytest.raises(ModelsError, match="kpt_shape"):
        pose_fields(model)


def test_sha256(tmp_path: Path) -> None:
    path = tmp_path / "x"
    path.write_bytes(b"abc")
    assert sha256_of(path) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


BENCH_STDOUT = """[Step 8/11] Querying optimal runtime parameters
[ INFO ] Model:
[ INFO ]   NETWORK_NAME: Model1
[ INFO ]   NUM_STREAMS: 2
[ INFO ]   INFERENCE_PRECISION_HINT: <Type: 'bfloat16'>
[ INFO ]   KV_CACHE_PRECISION: <Type: 'uint8_t'>
"""


def test_benchmark_report_parsing() -> None:
    report = {"execution_results": {"throughput": "52.01", "latency (ms)": "42.33", "avg latency": "37.74", "max latency": "51.01"}}
    assert parse_report(report, BENCH_STDOUT, "CPU") == {
        "fps": 52.01,
        "latency_ms": {"p50": 42.33, "avg": 37.74, "max": 51.01},
        "device": "CPU",
        "streams": 2,
        "precision": "bf16",
    }
