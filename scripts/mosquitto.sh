#!/usr/bin/env bash
# Start a project-local MQTT broker (Debian's mosquitto) on PORT unless something already answers there. Idempotent.
#   scripts/mosquitto.sh test   port 1890 (POSESTREAM_TEST_MQTT_PORT), loopback only, anonymous, no persistence
#   scripts/mosquitto.sh demo   port 1883 (POSESTREAM_MQTT_PORT), loopback only, anonymous, persistence on (retained
#                               Home Assistant discovery survives a broker restart); an existing broker is reused
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-demo}
case "$mode" in
  test) port=${POSESTREAM_TEST_MQTT_PORT:-1890}; persistence=false ;;
  demo) port=${POSESTREAM_MQTT_PORT:-1883}; persistence=true ;;
  *) echo "usage: scripts/mosquitto.sh test|demo" >&2; exit 2 ;;
esac
answers() { (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; }
if answers; then
  exit 0
fi
mosquitto=${MOSQUITTO:-/usr/sbin/mosquitto}
[ -x "$mosquitto" ] || { echo "mosquitto not found at $mosquitto (scripts/setup.sh installs it)" >&2; exit 1; }
dir=$(pwd)/build/mosquitto-$mode-$port
mkdir -p "$dir"
# `user`: started as root, mosquitto would switch to the mosquitto user, which cannot write into build/.
cat > "$dir/mosquitto.conf" <<CONF
listener $port 127.0.0.1
allow_anonymous true
user $(id -un)
pid_file $dir/mosquitto.pid
log_dest file $dir/mosquitto.log
persistence $persistence
persistence_location $dir/
CONF
"$mosquitto" -c "$dir/mosquitto.conf" -d
for _ in $(seq 1 50); do
  answers && exit 0
  sleep 0.1
done
echo "mosquitto on port $port did not start; see $dir/mosquitto.log" >&2
exit 1
