from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import run_cli

LABELS = {
    "clips": [
        {"file": "fall_a.mp4", "fall": True, "fall_onset_s": 2.0, "fall_intervals_s": [[2.0, 6.0]]},
        {"file": "fall_b.mp4", "fall": True, "fall_onset_s": 0.0, "fall_intervals_s": [[0.0, 3.0]]},
        {"file": "fall_c.mp4", "fall": True, "fall_onset_s": 1.0, "fall_intervals_s": [[1.0, 4.0]]},
        {"file": "adl_a.mp4", "fall": False, "fall_onset_s": None, "fall_intervals_s": []},
        {"file": "adl_b.mp4", "fall": False, "fall_onset_s": None, "fall_intervals_s": []},
    ]
}


def score(tmp_path: Path, alerts: dict[str, list[float]], *extra: str) -> dict[str, Any]:
    labels = tmp_path / "labels.json"
    labels.write_text(json.dumps(LABELS))
    alerts_file = tmp_path / "alerts.json"
    alerts_file.write_text(json.dumps({"clips": [{"file": file, "alerts_s": times} for file, times in alerts.items()]}))
    completed = run_cli("fall-score", "--labels", labels, "--alerts", alerts_file, "--json", *extra)
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout)


def test_all_found_no_false_alerts(tmp_path: Path) -> None:
    result = score(tmp_path, {"fall_a.mp4": [3.5], "fall_b.mp4": [2.0], "fall_c.mp4": [2.2], "adl_a.mp4": [], "adl_b.mp4": []})
    assert (result["precision"], result["recall"], result["f1"], result["false_alerts"]) == (1.0, 1.0, 1.0, 0)
    assert [clip["delay_s"] for clip in result["clips"]] == [None, None, 1.5, 2.0, 1.2]
    assert result["median_delay_s"] == pytest.approx(1.5)
    assert set(result["clips"][0]) >= {"file", "fall", "detected", "delay_s"}


def test_misses_false_alerts_and_duplicates(tmp_path: Path) -> None:
    # fall_a: alerted twice (second is a false alert); fall_b: alert too late (miss + false alert);
    # fall_c: alert too early (miss + false alert); adl_a: one false alert.
    result = score(tmp_path, {"fall_a.mp4": [3.0, 4.0], "fall_b.mp4": [9.0], "fall_c.mp4": [0.2], "adl_a.mp4": [1.0], "adl_b.mp4": []})
    assert result["detected"] == 1 and result["falls"] == 3
    assert result["false_alerts"] == 4
    # precision = 1 / (1 + 4), recall = 1 / 3, F1 = 2PR / (P + R), as scikit-learn computes them.
    assert result["precision"] == pytest.approx(0.2)
    assert result["recall"] == pytest.approx(0.3333, abs=1e-4)
    assert result["f1"] == pytest.approx(2 * 0.2 * (1 / 3) / (0.2 + 1 / 3), abs=1e-4)
    # A wider window accepts fall_b's late alert.
    assert score(tmp_path, {"fall_b.mp4": [9.0]}, "--late", "10")["detected"] == 1


def test_bad_input_names_the_file_and_problem(tmp_path: Path) -> None:
    labels = tmp_path / "labels.json"
    labels.write_text(json.dumps(LABELS))
    alerts = tmp_path / "alerts.json"
    alerts.write_text(json.dumps({"clips": [{"file": "unknown.mp4", "alerts_s": []}]}))
    completed = run_cli("fall-score", "--labels", labels, "--alerts", alerts)
    assert completed.returncode == 2
    assert "not in the labels: unknown.mp4" in completed.stderr
    alerts.write_text("{not json")
    completed = run_cli("fall-score", "--labels", labels, "--alerts", alerts)
    assert completed.returncode == 2 and "alerts file" in completed.stderr and "not valid JSON" in completed.stderr
    completed = run_cli("fall-score", "--labels", tmp_path / "missing.json", "--alerts", alerts)
    assert completed.returncode == 2 and "labels file not found" in completed.stderr


def test_dev_labels_parse(tmp_path: Path) -> None:
    from conftest import asset_or_skip

    labels = asset_or_skip("datasets/falls-gmdcsa24-dev/labels.json")
    files = [clip["file"] for clip in json.loads(labels.read_text())["clips"]]
    alerts = tmp_path / "alerts.json"
    alerts.write_text(json.dumps({"clips": [{"file": file, "alerts_s": []} for file in files]}))
    completed = run_cli("fall-score", "--labels", labels, "--alerts", alerts, "--json")
    assert completed.returncode == 0, completed.stderr
    result = json.loads(completed.stdout)
    assert (result["falls"], result["detected"], result["recall"]) == (7, 0, 0.0)
