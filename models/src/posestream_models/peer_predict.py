"""`peer-predict`: the Ultralytics peer of posestream's benchmarks, `YOLO(...).predict(source, stream=True)` on the
same OpenVINO IR with the same conf/iou/imgsz/max_det, one loop per source, each loop in its own process (as one
would run one Ultralytics script per camera; a process each keeps the GIL out of the comparison).

- A file is lossless: every frame, as fast as the loop goes; the file is predicted again and again until the
  measured window ends (like posestream's looping lossless stream).
- A URL (rtsp://...) is live: Ultralytics' own reader (LoadStreams: an OpenCV capture thread that keeps only the
  newest frame; `vid_stride` as given) and its own pace. While no new frame is there, LoadStreams sleeps 1/fps s
  (fps as OpenCV reports the stream) before looking again; that wait is part of what it measures, as it is part of
  running Ultralytics on a camera.

Measured: frames yielded per second per loop inside one common window (it opens `warmup` seconds after every loop
yielded its first frame), CPU cores of the loop processes in that window (/proc), and for live sources the latency
from the moment Ultralytics' capture thread had the frame decoded (cv2 read/retrieve returned; the wrapper below
stamps it) to the moment `predict` yielded its result. That is "decoded frame available -> result", the closest
Ultralytics has to posestream's capture->result (which also starts when the decoder hands the frame over), but it
does not include the time the frame spent in OpenCV/FFmpeg before that.

Precision: Ultralytics compiles the IR with PERFORMANCE_HINT=LATENCY and no precision, i.e. OpenVINO's choice (bf16
on CPUs with AVX512_BF16/AMX). `--precision` pins INFERENCE_PRECISION_HINT in its compile (pinned_precision), and the
precision read back from the compiled model is printed, so the caller can pin what posestream ran.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import queue
import sys
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from posestream_models.errors import ModelsError, first_line, require_file
from posestream_models.ultralytics_ir import (
    INSTALL_HINT,
    require_ultralytics,
    ultralytics_model_dir,
    ultralytics_versions,
    ultralytics_yolo,
)

LIVE_SCHEMES = frozenset({"rtsp", "rtsps", "rtmp", "rtp", "srt", "tcp", "udp", "http", "https"})
#: Stamps kept for frames read but not (yet) predicted; the loop only ever takes the newest, so few are pending.
PENDING_STAMPS = 256


@dataclass(frozen=True)
class PeerSettings:
    """What every loop runs with (pickled into each loop process)."""

    model_dir: str
    conf: float
    iou: float
    imgsz: int
    max_det: int
    vid_stride: int
    device: str
    precision: str


def is_live(source: str) -> bool:
    return urlparse(source).scheme.lower() in LIVE_SCHEMES


def nearest_rank(values: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile, no interpolation: the same definition as cli/bench/stats.ts."""
    if not values:
        return None
    ordered = sorted(values)
    rank = -(-p * len(ordered) // 100)  # ceil(p% of n)
    return ordered[min(len(ordered) - 1, max(0, int(rank) - 1))]


@contextlib.contextmanager
def pinned_precision(precision: str) -> Iterator[list[Any]]:
    """Every `ov.Core.compile_model` in this process gets INFERENCE_PRECISION_HINT=precision ('default': left to
    OpenVINO); yields the compiled models, whose precision in force is read back after the run."""
    import openvino as ov

    compiled: list[Any] = []
    original = ov.Core.compile_model

    def compile_model(self: Any, model: Any, device_name: str | None = None, config: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        settings = dict(config or {})
        if precision != "default":
            settings["INFERENCE_PRECISION_HINT"] = precision
        result = original(self, model, device_name, settings, **kwargs)
        compiled.append(result)
        return result

    ov.Core.compile_model = compile_model  # type: ignore[method-assign]
    try:
        yield compiled
    finally:
        ov.Core.compile_model = original  # type: ignore[method-assign]


class ReadStamps:
    """When Ultralytics' capture thread had each frame: keyed by the frame array's id, which the array keeps from
    the capture through `Results.orig_img` (Ultralytics passes the same array along)."""

    def __init__(self) -> None:
        self._times: OrderedDict[int, float] = OrderedDict()
        self._lock = threading.Lock()

    def stamp(self, frame: Any) -> None:
        with self._lock:
            self._times[id(frame)] = time.time()
            self._times.move_to_end(id(frame))
            while len(self._times) > PENDING_STAMPS:
                self._times.popitem(last=False)

    def take(self, frame: Any) -> float | None:
        with self._lock:
            return self._times.pop(id(frame), None)


def stamp_captures(stamps: ReadStamps) -> None:
    """Replaces cv2.VideoCapture in this (loop) process by one that stamps every frame it returns."""
    import cv2

    class StampingCapture(cv2.VideoCapture):  # type: ignore[misc]
        def read(self, *args: Any) -> tuple[bool, Any]:
            ok, frame = super().read(*args)
            if ok and frame is not None:
                stamps.stamp(frame)
            return ok, frame

        def retrieve(self, *args: Any) -> tuple[bool, Any]:
            ok, frame = super().retrieve(*args)
            if ok and frame is not None:
                stamps.stamp(frame)
            return ok, frame

    cv2.VideoCapture = StampingCapture


def run_loop(index: int, source: str, settings: PeerSettings, window: Any, reports: Any) -> None:
    """One loop process: reports ('first', i) at its first frame, then ('done', i, frames, latencies, precision)
    once the window has passed, or ('error', i, message)."""
    # Ultralytics logs on stdout; the CLI's stdout carries the result alone (cli.emit), so this process's goes to stderr.
    sys.stdout.flush()
    os.dup2(2, 1)
    try:
        frames, latencies, precision = predict_loop(index, source, settings, window, reports)
        reports.put(("done", index, frames, latencies, precision))
    except Exception as error:  # one line back to the parent, which turns it into the CLI's error
        reports.put(("error", index, str(error) if isinstance(error, ModelsError) else first_line(error)))


def predict_loop(index: int, source: str, settings: PeerSettings, window: Any, reports: Any) -> tuple[int, list[float], str]:
    from posestream_models.runtime import inference_precision

    live = is_live(source)
    stamps = ReadStamps()
    if live:
        stamp_captures(stamps)
    yolo = ultralytics_yolo()
    frames = 0
    latencies: list[float] = []
    announced = False
    with pinned_precision(settings.precision) as compiled:
        model = yolo(settings.model_dir, task="pose")
        while True:
            results = model.predict(
                source=source, stream=True, conf=settings.conf, iou=settings.iou, imgsz=settings.imgsz,
                max_det=settings.max_det, vid_stride=settings.vid_stride, device=f"intel:{settings.device.lower()}",
                verbose=False,
            )  # fmt: skip
            ended = False
            for result in results:
                now = time.time()
                if not announced:
                    reports.put(("first", index))
                    announced = True
                read_at = stamps.take(result.orig_img) if live else None
                if window[0] <= now < window[1]:
                    frames += 1
                    if read_at is not None:
                        latencies.append((now - read_at) * 1000)
                if now >= window[1]:
                    ended = True
                    break
            results.close()  # stops Ultralytics' reader threads and releases the capture
            if ended:
                break
            if live:
                raise ModelsError(f"the stream of loop {index} ended before the measured window did")
    return frames, latencies, inference_precision(compiled[-1]) if compiled else "?"


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of a process (all its threads), from /proc; None once it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / 100  # clock ticks (getconf CLK_TCK = 100 on Linux)


def run_peer_predict(
    model: Path, sources: Sequence[str], seconds: float, warmup: float, conf: float = 0.25, iou: float = 0.7,
    imgsz: int = 640, max_det: int = 100, vid_stride: int = 1, device: str = "CPU", precision: str = "f32",
    first_timeout: float = 120.0,
) -> dict[str, Any]:  # fmt: skip
    """Runs one loop per source, measures them in one common window; see the module doc for what is measured."""
    if not sources:
        raise ModelsError("give at least one --source (a video file or a stream URL)")
    if seconds <= 0 or warmup < 0:
        raise ModelsError(f"--seconds must be > 0 and --warmup >= 0, got {seconds} and {warmup}")
    for source in sources:
        if not is_live(source):
            require_file(Path(source), "video")
    require_ultralytics()  # the missing extra is one line here, not one per loop process
    modes = {is_live(source) for source in sources}
    with tempfile.TemporaryDirectory(prefix="posestream-peer-") as tmp:
        settings = PeerSettings(
            model_dir=str(ultralytics_model_dir(model, Path(tmp))), conf=conf, iou=iou, imgsz=imgsz, max_det=max_det,
            vid_stride=vid_stride, device=device, precision=precision,
        )  # fmt: skip
        # spawn: a forked child would inherit this process's OpenVINO/torch thread pools in an unknown state.
        context = multiprocessing.get_context("spawn")
        window = context.Array("d", [float("inf"), float("inf")])
        reports = context.Queue()
        loops = [context.Process(target=run_loop, args=(i, source, settings, window, reports), daemon=True) for i, source in enumerate(sources)]
        for process in loops:
            process.start()
        try:
            wait_for(reports, "first", len(loops), first_timeout, "yielded no frame")
            start = time.time() + warmup
            with window.get_lock():
                window[1] = start + seconds
                window[0] = start
            time.sleep(max(0.0, start - time.time()))
            cpu_before = [cpu_seconds(p.pid) for p in loops if p.pid is not None]
            time.sleep(max(0.0, start + seconds - time.time()))
            cpu_after = [cpu_seconds(p.pid) for p in loops if p.pid is not None]
            done = wait_for(reports, "done", len(loops), 60.0, "did not finish its window")
        finally:
            for process in loops:
                process.join(timeout=5)
                if process.is_alive():
                    process.terminate()
    used = sum(after - before for before, after in zip(cpu_before, cpu_after) if before is not None and after is not None)
    rates = [done[i][0] / seconds for i in range(len(loops))]
    latencies = [ms for i in range(len(loops)) for ms in done[i][1]]
    precisions = sorted({done[i][2] for i in range(len(loops))})
    return {
        "mode": "live" if modes == {True} else "file" if modes == {False} else "mixed",
        "loops": len(loops),
        "frames_per_s": [round(rate, 2) for rate in rates],
        "min_frames_per_s": round(min(rates), 2),
        "mean_frames_per_s": round(sum(rates) / len(rates), 2),
        "total_frames_per_s": round(sum(rates), 2),
        "latency_ms": latency_summary(latencies) if True in modes else None,
        "cpu_cores": round(used / seconds, 2),
        "precision": "/".join(precisions),
        "precision_requested": precision,
        "seconds": seconds,
        "warmup": warmup,
        "settings": {key: value for key, value in asdict(settings).items() if key != "model_dir"},
        "versions": ultralytics_versions(),
    }


def wait_for(reports: Any, kind: str, count: int, timeout: float, failure: str) -> dict[int, tuple[Any, ...]]:
    """Collects `count` reports of `kind` (one per loop); a loop's error or silence is a ModelsError."""
    got: dict[int, tuple[Any, ...]] = {}
    deadline = time.time() + timeout
    while len(got) < count:
        try:
            report = reports.get(timeout=max(0.1, deadline - time.time()))
        except queue.Empty:
            missing = count - len(got)
            raise ModelsError(f"{missing} of {count} Ultralytics loop(s) {failure} within {timeout:.0f} s") from None
        if report[0] == "error":
            raise ModelsError(f"Ultralytics loop {report[1]}: {report[2]}")
        if report[0] == kind:
            got[report[1]] = tuple(report[2:])
    return got


def latency_summary(latencies: Sequence[float]) -> dict[str, Any]:
    p50, p99 = nearest_rank(latencies, 50), nearest_rank(latencies, 99)
    return {
        "p50": None if p50 is None else round(p50, 1),
        "p99": None if p99 is None else round(p99, 1),
        "count": len(latencies),
    }


def peer_check() -> dict[str, Any]:
    """Whether the peer can run here (the [ultralytics] extra), without loading anything heavy."""
    versions = ultralytics_versions()
    return {"available": versions is not None, "versions": versions, "install": None if versions else INSTALL_HINT}


def format_peer(result: dict[str, Any]) -> str:
    rates = ", ".join(f"{rate:.2f}" for rate in result["frames_per_s"])
    lines = [
        f"ultralytics predict(stream=True), {result['loops']} {result['mode']} loop(s), one process each: "
        f"{result['mean_frames_per_s']:.2f} frames/s per loop (min {result['min_frames_per_s']:.2f}; {rates}), "
        f"{result['cpu_cores']:.2f} CPU cores",
    ]
    latency = result["latency_ms"]
    if latency:
        lines.append(f"read->result p50 {latency['p50']} ms, p99 {latency['p99']} ms ({latency['count']} frames)")
    lines.append(
        f"precision {result['precision']} (requested {result['precision_requested']}), {result['seconds']} s after {result['warmup']} s warm-up; "
        f"versions {result['versions']}"
    )
    return "\n".join(lines)
