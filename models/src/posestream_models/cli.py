"""`python -m posestream_models <subcommand>`: one argparse entry, one handler turning ModelsError into exit 2."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

from posestream_models.errors import EXIT_BAD_INPUT, ModelsError


def repo_root() -> Path:
    """Defaults live under <repo>/build; with an editable install the package sits at <repo>/models/src/."""
    candidate = Path(__file__).resolve().parents[3]
    return candidate if (candidate / "package.json").is_file() else Path.cwd()


def default_model_dir(precision: str) -> Path:
    return repo_root() / "build" / "models" / "yolov8n-pose" / precision


_result_stream: TextIO = sys.stdout


def emit(payload: Any, as_json: bool, text: str) -> None:
    print(json.dumps(payload) if as_json else text, file=_result_stream, flush=True)


def cmd_convert(args: argparse.Namespace) -> None:
    from posestream_models.convert import convert

    result = convert(args.source, args.out)
    emit(result, args.json, f"wrote {result['xml']} (+ .bin, metadata.json)")


def cmd_quantize(args: argparse.Namespace) -> None:
    from posestream_models.quantize import format_summary, quantize

    result = quantize(
        args.model, args.calib, args.out, subset=args.subset, max_drop=args.max_drop, validation_data=args.data,
        fast_bias_correction=not args.no_fast_bias_correction, smooth_quant_alpha=args.smooth_quant_alpha,
        verbose=args.verbose,
    )  # fmt: skip
    emit(result, args.json, format_summary(result))


def cmd_eval(args: argparse.Namespace) -> None:
    from posestream_models.evaluate import evaluate_model, format_metrics, log

    metrics = evaluate_model(args.model, args.data, args.device, args.precision, progress=log)
    emit(metrics, args.json, format_metrics(metrics))


def cmd_score(args: argparse.Namespace) -> None:
    from posestream_models.evaluate import format_metrics, score_files

    metrics = score_files(args.gt, args.dt)
    emit(metrics, args.json, format_metrics(metrics))


def cmd_fall_score(args: argparse.Namespace) -> None:
    from posestream_models.fall_score import format_fall_score, score_falls

    result = score_falls(args.labels, args.alerts, early=args.early, late=args.late)
    emit(result, args.json, format_fall_score(result))


def cmd_track_score(args: argparse.Namespace) -> None:
    from posestream_models.mot_eval import format_scores, score_mot

    scores = score_mot(args.gt, args.pred)
    emit(scores, args.json, format_scores(scores))


def cmd_track_peers(args: argparse.Namespace) -> None:
    from posestream_models.mot_eval import format_scores
    from posestream_models.track_peers import score_peers

    rows = score_peers(args.model, args.video, args.gt, tuple(args.trackers), args.conf, args.out)
    emit(rows, args.json, "\n".join(f"{row['tracker']:<24} {format_scores(row)}" for row in rows))


def cmd_peer_predict(args: argparse.Namespace) -> None:
    from posestream_models.peer_predict import format_peer, peer_check, run_peer_predict

    if args.check:
        check = peer_check()
        emit(check, args.json, "ultralytics peer: " + (f"ready ({check['versions']})" if check["available"] else f"missing; install with {check['install']}"))
        return
    if args.model is None or not args.source:
        raise ModelsError("peer-predict needs --model and at least one --source (or --check)")
    result = run_peer_predict(
        args.model, args.source, args.seconds, args.warmup, conf=args.conf, iou=args.iou, imgsz=args.imgsz,
        max_det=args.max_det, vid_stride=args.vid_stride, device=args.device, precision=args.precision,
        first_timeout=args.first_timeout,
    )  # fmt: skip
    emit(result, args.json, format_peer(result))


def cmd_predict(args: argparse.Namespace) -> None:
    from posestream_models.decode import decode_pose
    from posestream_models.preprocess import preprocess_image
    from posestream_models.runtime import compile_pose_model

    runner = compile_pose_model(args.model, args.device, args.precision)
    results = []
    for image in args.images:
        tensor, letterbox = preprocess_image(image)
        persons = decode_pose(runner.infer(tensor), letterbox, args.conf, args.iou, 300)
        results.append({"image": str(image), "width": letterbox.source_width, "height": letterbox.source_height,
                        "persons": [person.to_json() for person in persons]})  # fmt: skip
    text = "\n".join(f"{r['image']}: {len(r['persons'])} person(s)" for r in results)
    emit(results, args.json, text + f"\n(inference precision {runner.precision})")


def cmd_golden(args: argparse.Namespace) -> None:
    from posestream_models.golden import dump_golden

    result = dump_golden(args.model, args.images, args.out, args.device, args.precision)
    emit(result, args.json, f"wrote {result['golden']} ({result['images']} images, precision {result['precision']})")


def cmd_bench(args: argparse.Namespace) -> None:
    from posestream_models.benchmark import format_benchmark, run_benchmark

    result = run_benchmark(args.model, args.device, args.seconds, args.precision)
    emit(result, args.json, format_benchmark(result))


def cmd_report(args: argparse.Namespace) -> None:
    from posestream_models.report import build_report

    path = build_report(args.fp32, args.int8, args.data, args.out, args.device, args.seconds, args.precision)
    emit({"report": str(path)}, args.json, f"wrote {path}")


def add_runtime_options(parser: argparse.ArgumentParser, json_flag: bool = True) -> None:
    parser.add_argument("--device", default="CPU", help="OpenVINO device (default CPU)")
    parser.add_argument(
        "--precision", default="f32",
        help="INFERENCE_PRECISION_HINT: f32 (default; this CPU would otherwise pick bf16), bf16, f16, or 'default' to let OpenVINO choose",
    )  # fmt: skip
    if json_flag:
        parser.add_argument("--json", action="store_true", help="print one JSON value on stdout")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="posestream-models", description="YOLOv8-pose model toolchain for posestream")
    sub = parser.add_subparsers(dest="command", required=True)

    convert = sub.add_parser("convert", help="ONNX or Ultralytics .pt -> FP32 OpenVINO IR + metadata.json")
    convert.add_argument("--source", type=Path, required=True, help="yolov8*-pose .onnx or .pt")
    convert.add_argument("--out", type=Path, default=default_model_dir("fp32"))
    convert.add_argument("--json", action="store_true")
    convert.set_defaults(run=cmd_convert)

    quantize = sub.add_parser("quantize", help="NNCF post-training INT8 quantization")
    quantize.add_argument("--model", type=Path, required=True, help="FP32 IR .xml")
    quantize.add_argument("--calib", type=Path, nargs="+", required=True, help="videos, image folders or COCO datasets")
    quantize.add_argument("--out", type=Path, default=default_model_dir("int8"))
    quantize.add_argument("--subset", type=int, default=300, help="calibration frames in total (default 300)")
    quantize.add_argument("--max-drop", type=float, help="use accuracy control: max absolute pose mAP50-95 drop")
    quantize.add_argument("--data", type=Path, help="COCO keypoint dataset for --max-drop validation")
    quantize.add_argument("--no-fast-bias-correction", action="store_true", help="full bias correction (slower)")
    quantize.add_argument("--smooth-quant-alpha", type=float, help="SmoothQuant alpha for convolutions")
    quantize.add_argument("--verbose", action="store_true", help="also print NNCF's per-node INFO log")
    quantize.add_argument("--json", action="store_true")
    quantize.set_defaults(run=cmd_quantize)

    evaluate = sub.add_parser("eval", help="box + pose mAP of an IR/ONNX model on a COCO keypoint dataset")
    evaluate.add_argument("--model", type=Path, required=True)
    evaluate.add_argument("--data", type=Path, required=True, help="dataset dir (annotations/*.json + images) or the json")
    add_runtime_options(evaluate)
    evaluate.set_defaults(run=cmd_eval)

    score = sub.add_parser("score", help="box + pose mAP of a COCO results file (same scoring as eval)")
    score.add_argument("--gt", type=Path, required=True, help="COCO keypoint annotation json")
    score.add_argument("--dt", type=Path, required=True, help="COCO results list json")
    score.add_argument("--json", action="store_true")
    score.set_defaults(run=cmd_score)

    fall_score = sub.add_parser("fall-score", help="precision/recall/F1 and delay of fall alerts against labelled fall onsets")
    fall_score.add_argument("--labels", type=Path, required=True, help="labels.json of a falls dataset (clips: file, fall, fall_onset_s)")
    fall_score.add_argument("--alerts", type=Path, required=True, help='{"clips": [{"file": ..., "alerts_s": [seconds, ...]}]}')
    fall_score.add_argument("--early", type=float, default=0.5, help="an alert may come this many seconds before the onset (default 0.5)")
    fall_score.add_argument("--late", type=float, default=5.0, help="... and at most this many after it (default 5)")
    fall_score.add_argument("--json", action="store_true")
    fall_score.set_defaults(run=cmd_fall_score)

    track_score = sub.add_parser("track-score", help="IDF1/MOTA/ID switches of MOT predictions vs MOT ground truth (py-motmetrics, IoU 0.5)")
    track_score.add_argument("--gt", type=Path, required=True, help="MOT ground truth (frame,id,left,top,width,height,conf,...)")
    track_score.add_argument("--pred", type=Path, required=True, help="MOT predictions, same format")
    track_score.add_argument("--json", action="store_true")
    track_score.set_defaults(run=cmd_track_score)

    peers = sub.add_parser("track-peers", help="Ultralytics' trackers (ByteTrack, BoT-SORT, OC-SORT) on the same IR, scored like track-score (needs the [ultralytics] extra)")
    peers.add_argument("--model", type=Path, required=True, help="OpenVINO IR .xml (as posestream runs it)")
    peers.add_argument("--video", type=Path, required=True)
    peers.add_argument("--gt", type=Path, required=True, help="MOT ground truth; video frame n = gt frame n+1")
    peers.add_argument("--conf", type=float, default=0.25)
    peers.add_argument("--trackers", nargs="+", default=["bytetrack", "botsort", "ocsort"], help="Ultralytics tracker yaml names")
    peers.add_argument("--out", type=Path, help="keep the MOT predictions here (default: a temporary folder)")
    peers.add_argument("--json", action="store_true")
    peers.set_defaults(run=cmd_track_peers)

    peer = sub.add_parser("peer-predict", help="Ultralytics predict(stream=True) on the same IR, one loop per source: frames/s, read->result latency when live, CPU (needs the [ultralytics] extra)")
    peer.add_argument("--model", type=Path, help="OpenVINO IR .xml (as posestream runs it)")
    peer.add_argument("--source", nargs="+", default=[], help="video files (lossless, looped) or stream URLs (live): one loop process each")
    peer.add_argument("--seconds", type=float, default=30, help="measured seconds (default 30)")
    peer.add_argument("--warmup", type=float, default=5, help="seconds after every loop's first frame before measuring (default 5)")
    peer.add_argument("--conf", type=float, default=0.25)
    peer.add_argument("--iou", type=float, default=0.7)
    peer.add_argument("--imgsz", type=int, default=640)
    peer.add_argument("--max-det", type=int, default=100, help="default 100, posestream's model.maxDetections (Ultralytics' own default is 300)")
    peer.add_argument("--vid-stride", type=int, default=1, help="Ultralytics' vid_stride (default 1: every frame)")
    peer.add_argument("--first-timeout", type=float, default=120, help="seconds every loop may take to its first frame")
    peer.add_argument("--check", action="store_true", help="only say whether the [ultralytics] extra is installed")
    add_runtime_options(peer)
    peer.set_defaults(run=cmd_peer_predict)

    predict = sub.add_parser("predict", help="golden pose decode for images (reference for the TS decoder)")
    predict.add_argument("--model", type=Path, required=True)
    predict.add_argument("images", type=Path, nargs="+")
    predict.add_argument("--conf", type=float, default=0.25)
    predict.add_argument("--iou", type=float, default=0.7)
    add_runtime_options(predict)
    predict.set_defaults(run=cmd_predict)

    golden = sub.add_parser("golden", help="dump letterboxed inputs, raw outputs and reference decodes (TS decoder golden test)")
    golden.add_argument("--model", type=Path, required=True)
    golden.add_argument("--out", type=Path, required=True, help="folder for golden.json and the .u8/.f32 tensors")
    golden.add_argument("images", type=Path, nargs="+")
    add_runtime_options(golden)
    golden.set_defaults(run=cmd_golden)

    bench = sub.add_parser("bench", help="benchmark_app throughput/latency")
    bench.add_argument("--model", type=Path, required=True)
    bench.add_argument("--seconds", type=int, default=15)
    add_runtime_options(bench)
    bench.set_defaults(run=cmd_bench)

    report = sub.add_parser("report", help="eval + bench FP32 and INT8, write report.md and a chart")
    report.add_argument("--fp32", type=Path, required=True)
    report.add_argument("--int8", type=Path, required=True)
    report.add_argument("--data", type=Path, required=True)
    report.add_argument("--out", type=Path, default=repo_root() / "build" / "reports")
    report.add_argument("--seconds", type=int, default=15)
    add_runtime_options(report)
    report.set_defaults(run=cmd_report)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    run: Callable[[argparse.Namespace], None] = args.run
    global _result_stream
    _result_stream = sys.stdout
    try:
        # NNCF and pycocotools print progress on stdout; stdout carries the result alone (see emit).
        with contextlib.redirect_stdout(sys.stderr):
            run(args)
    except ModelsError as error:
        print(f"posestream models {args.command}: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return 130
    return 0
