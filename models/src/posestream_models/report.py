"""FP32 vs INT8 report: accuracy and speed side by side, as markdown plus a matplotlib chart."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (backend must be chosen first)

from posestream_models.benchmark import run_benchmark  # noqa: E402
from posestream_models.evaluate import evaluate_model, log  # noqa: E402

CHART_FILE = "pose-map-vs-fps.png"


def table(rows: list[tuple[str, dict[str, Any], dict[str, Any]]], base_fps: float, base_map: float) -> list[str]:
    lines = [
        "| model | pose mAP50-95 | pose mAP50 | box mAP50-95 | box mAP50 | fps | latency p50 / avg / max (ms) | precision (eval / bench) | device | speed-up | pose mAP drop |",
        "|---|---:|---:|---:|---:|---:|---|---|---|---:|---:|",
    ]
    for name, accuracy, speed in rows:
        latency = speed["latency_ms"]
        lines.append(
            f"| {name} | {accuracy['pose']['map']:.4f} | {accuracy['pose']['map50']:.4f} | {accuracy['box']['map']:.4f} "
            f"| {accuracy['box']['map50']:.4f} | {speed['fps']:.2f} | {latency['p50']:.1f} / {latency['avg']:.1f} / {latency['max']:.1f} "
            f"| {accuracy['precision']} / {speed['precision']} | {speed['device']} ({speed['streams']} streams) "
            f"| {speed['fps'] / base_fps:.2f}x | {base_map - accuracy['pose']['map']:+.4f} |"
        )
    return lines


def draw_chart(rows: list[tuple[str, dict[str, Any], dict[str, Any]]], path: Path) -> None:
    figure, axes = plt.subplots(figsize=(6.4, 4.2), dpi=100)
    for name, accuracy, speed in rows:
        axes.scatter(speed["fps"], accuracy["pose"]["map"], s=80)
        axes.annotate(f"{name}\n{speed['fps']:.1f} fps, {accuracy['pose']['map']:.3f}", (speed["fps"], accuracy["pose"]["map"]),
                      textcoords="offset points", xytext=(8, -4), fontsize=9)  # fmt: skip
    fps = [speed["fps"] for _, _, speed in rows]
    maps = [accuracy["pose"]["map"] for _, accuracy, _ in rows]
    axes.set_xlim(0, max(fps) * 1.35)
    axes.set_ylim(max(0.0, min(maps) - 0.05), min(1.0, max(maps) + 0.05))
    axes.set_xlabel("throughput (frames/s, benchmark_app async, throughput hint)")
    axes.set_ylabel("pose mAP50-95")
    axes.set_title("YOLOv8n-pose on OpenVINO: accuracy vs throughput")
    axes.grid(True, alpha=0.3)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)


def build_report(fp32: Path, int8: Path, dataset: Path, out_dir: Path, device: str, seconds: int, precision: str) -> Path:
    rows: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
    for name, model in (("FP32", fp32), ("INT8", int8)):
        accuracy = evaluate_model(model, dataset, device, precision, progress=log)
        log(f"benchmarking {model} for {seconds} s")
        rows.append((name, accuracy, run_benchmark(model, device, seconds, precision)))
    out_dir.mkdir(parents=True, exist_ok=True)
    draw_chart(rows, out_dir / CHART_FILE)
    base_fps, base_map = rows[0][2]["fps"], rows[0][1]["pose"]["map"]
    lines = [
        "# YOLOv8-pose FP32 vs INT8",
        "",
        f"Generated {datetime.now(timezone.utc).isoformat(timespec='seconds')}. Dataset `{dataset}` ({rows[0][1]['images']} images, "
        "pycocotools, conf 0.001, NMS IoU 0.7, max 300 detections). Throughput from `benchmark_app -api async -hint throughput "
        f"-shape [1,3,640,640] -t {seconds}`, both models measured one after the other in the same run; the machine may be shared, "
        "so compare the ratio rather than absolute numbers.",
        "",
        f"- FP32: `{fp32}`",
        f"- INT8: `{int8}`",
        "",
        *table(rows, base_fps, base_map),
        "",
        f"![pose mAP50-95 vs throughput]({CHART_FILE})",
        "",
    ]
    report_path = out_dir / "report.md"
    report_path.write_text("\n".join(lines), encoding="utf-8")
    return report_path
