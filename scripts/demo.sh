#!/usr/bin/env bash
# Set up (idempotent), make the INT8 model once, start Redis and run the demo: `posestream run` with
# config/posestream.yaml (a shared video in a loop). Dashboard: http://127.0.0.1:8080/ (loopback only: see README, Security)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
ASSETS=${POSESTREAM_ASSETS:-$(pwd)/../shared}
M=build/models/yolov8n-pose
if [ ! -f $M/int8/yolov8n-pose-int8.xml ]; then
  echo "[demo] quantizing the FP32 IR to INT8 (about a minute)" >&2
  node bin/posestream.cjs models quantize --model $M/fp32/yolov8n-pose-fp32.xml --out $M/int8 --subset 300 \
    --calib "$ASSETS"/media/*.mp4 "$ASSETS/datasets/coco8-pose"
fi
bash scripts/redis.sh demo
exec node bin/posestream.cjs run --config "${POSESTREAM_CONFIG:-config/posestream.yaml}" "$@"
