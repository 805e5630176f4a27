#!/usr/bin/env bash
# Set up (idempotent) and run every test: TypeScript typecheck, vitest (unit, integration, e2e) and the
# models/ pytest suite, against a project-local Redis on port 6390, an MQTT broker (mosquitto) on port 1890 and the
# real shared assets.
# POSESTREAM_REQUIRE_ASSETS=1 (set by .ci/run) turns "asset missing" skips into failures.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/redis.sh test
bash scripts/mosquitto.sh test
export POSESTREAM_TEST_REDIS_URL=${POSESTREAM_TEST_REDIS_URL:-redis://127.0.0.1:6390}
export POSESTREAM_TEST_MQTT_URL=${POSESTREAM_TEST_MQTT_URL:-mqtt://127.0.0.1:${POSESTREAM_TEST_MQTT_PORT:-1890}}

echo "[test] typecheck" >&2
npx tsc --noEmit
echo "[test] vitest" >&2
npx vitest run
echo "[test] pytest models/" >&2
.venv/bin/python -m pytest -q models/tests
echo "[test] all passed" >&2
