"""Throughput/latency through OpenVINO's own benchmark_app, read from its JSON report files."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from posestream_models.errors import ModelsError
from posestream_models.runtime import read_pose_model

PROPERTY_LINE = re.compile(r"^\[ INFO \]\s+(NUM_STREAMS|INFERENCE_PRECISION_HINT):\s*(.+?)\s*$", re.MULTILINE)
TYPE_NAMES = {"float32": "f32", "bfloat16": "bf16", "float16": "f16"}


def benchmark_app_path() -> Path:
    """benchmark_app is installed next to the interpreter running us (the venv's bin/)."""
    candidate = Path(sys.executable).parent / "benchmark_app"
    if candidate.is_file():
        return candidate
    raise ModelsError(f"benchmark_app not found next to {sys.executable}; install openvino into this venv")


def benchmark_command(model: Path, device: str, seconds: int, precision: str, report_folder: Path) -> list[str]:
    command = [
        str(benchmark_app_path()), "-m", str(model), "-d", device, "-api", "async", "-hint", "throughput",
        "-shape", "[1,3,640,640]", "-t", str(seconds),
        "-report_type", "no_counters", "-report_folder", str(report_folder), "-json_stats",
    ]  # fmt: skip
    if precision != "default":
        command += ["-infer_precision", precision]
    return command


def parse_compiled_properties(stdout: str) -> dict[str, str]:
    """benchmark_app prints the compiled model's properties; the report files don't carry streams or precision."""
    found = {key: value for key, value in PROPERTY_LINE.findall(stdout)}
    precision = found.get("INFERENCE_PRECISION_HINT", "")
    type_name = re.search(r"'([^']+)'", precision)
    if type_name:
        precision = TYPE_NAMES.get(type_name.group(1), type_name.group(1))
    return {"streams": found.get("NUM_STREAMS", ""), "precision": precision}


def parse_report(report: dict[str, Any], stdout: str, device: str) -> dict[str, Any]:
    results = report["execution_results"]
    properties = parse_compiled_properties(stdout)
    return {
        "fps": float(results["throughput"]),
        # benchmark_app's "latency (ms)" is the median (latency_percentile defaults to 50).
        "latency_ms": {"p50": float(results["latency (ms)"]), "avg": float(results["avg latency"]), "max": float(results["max latency"])},
        "device": device,
        "streams": int(properties["streams"]) if properties["streams"].isdigit() else None,
        "precision": properties["precision"] or None,
    }


def run_benchmark(model: Path, device: str = "CPU", seconds: int = 15, precision: str = "f32") -> dict[str, Any]:
    read_pose_model(model)  # clear errors for missing/corrupt/non-pose models before a long subprocess
    with tempfile.TemporaryDirectory(prefix="posestream-bench-") as folder:
        command = benchmark_command(model, device, seconds, precision, Path(folder))
        completed = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        report_file = Path(folder) / "benchmark_report.json"
        if completed.returncode != 0 or not report_file.is_file():
            tail = "; ".join(line for line in completed.stdout.splitlines()[-3:] + completed.stderr.splitlines()[-3:] if line)
            raise ModelsError(f"benchmark_app failed on {model} (exit {completed.returncode}): {tail}")
        return parse_report(json.loads(report_file.read_text(encoding="utf-8")), completed.stdout, device)


def format_benchmark(result: dict[str, Any]) -> str:
    latency = result["latency_ms"]
    return (
        f"throughput {result['fps']:.2f} fps; latency p50 {latency['p50']:.2f} ms, avg {latency['avg']:.2f} ms, "
        f"max {latency['max']:.2f} ms; {result['device']}, {result['streams']} streams, precision {result['precision']}"
    )
