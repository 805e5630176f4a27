#!/usr/bin/env bash
# Idempotent setup for a fresh Debian machine: system packages, the Python venv (OpenVINO runtime + NNCF),
# node modules, the OpenVINO addon, the ingest decoder and the FP32 IR of the shared model. Safe to run again: every step
# checks whether its result is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
log() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }

APT_PACKAGES=(
  redis-server mosquitto
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
  gstreamer1.0-plugins-ugly gstreamer1.0-libav libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev
  python3-gi gir1.2-gst-rtsp-server-1.0
  ffmpeg chromium
  python3-venv python3-dev build-essential pkg-config curl ca-certificates
)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if ! command -v node >/dev/null || [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
  missing+=(nodejs npm)
fi
if [ ${#missing[@]} -gt 0 ]; then
  log "apt: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  log "apt: all packages present"
fi

# Python venv inside the repo (git-ignored), pinned by models/pyproject.toml.
if [ ! -x .venv/bin/python ]; then
  log "venv: creating .venv"
  python3 -m venv .venv
fi
if ! .venv/bin/python -c 'import posestream_models, openvino, nncf, pycocotools, sklearn, motmetrics, cv2, pytest' 2>/dev/null; then
  log "venv: installing models package and pinned dependencies"
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -e 'models[test]'
fi
if [ "${POSESTREAM_WITH_ULTRALYTICS:-0}" = 1 ]; then
  .venv/bin/python -c 'import ultralytics, lap' 2>/dev/null || .venv/bin/pip install -q -e 'models[ultralytics]'
fi

# Node modules: reinstall only when the lockfile changed since the last install.
stamp=node_modules/.posestream-lock.sha
want=$(sha256sum < package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  log "npm: npm ci"
  npm ci --no-audit --no-fund
  echo "$want" > "$stamp"
else
  log "npm: node_modules up to date"
fi

addon=workers/inference/backends/openvino/build/Release/posestream_openvino.node
if [ ! -f "$addon" ] || [ -n "$(find workers/inference/backends/openvino/src workers/inference/backends/openvino/binding.gyp -newer "$addon" 2>/dev/null)" ]; then
  log "addon: building the OpenVINO N-API addon"
  npm run -s build:addon
else
  log "addon: up to date"
fi

# The ingest decoder (workers/ingest/decoder: C over GStreamer, one process per running stream) into
# build/bin/posestream-decode; make rebuilds it only when a source file is newer than the binary.
if make -s -q -C workers/ingest/decoder 2>/dev/null; then
  log "decoder: up to date"
else
  log "decoder: building build/bin/posestream-decode"
  make -s -C workers/ingest/decoder
fi

# The FP32 IR of the shared ONNX; INT8 is made by the demo (scripts/demo.sh) because it takes a minute.
ASSETS=${POSESTREAM_ASSETS:-$ROOT/../shared}
onnx=$ASSETS/models/yolov8n-pose-fp32.onnx
fp32=build/models/yolov8n-pose/fp32/yolov8n-pose-fp32.xml
if [ -f "$onnx" ] && [ ! -f "$fp32" ]; then
  log "models: converting $onnx to OpenVINO IR"
  node bin/posestream.cjs models convert --source "$onnx" --out build/models/yolov8n-pose/fp32
fi
log "done"
