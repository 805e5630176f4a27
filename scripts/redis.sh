#!/usr/bin/env bash
# Start a project-local Redis on PORT unless one already answers there. Idempotent.
#   scripts/redis.sh test   port 6390, 64 databases, no persistence (test DBs are flushed by the tests)
#   scripts/redis.sh demo   port 6379, persistence on (the stream registry survives restarts), noeviction
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-demo}
case "$mode" in
  test) port=${POSESTREAM_TEST_REDIS_PORT:-6390}; args=(--databases 64 --save '' --appendonly no) ;;
  demo) port=${POSESTREAM_REDIS_PORT:-6379}; args=(--appendonly yes) ;;
  *) echo "usage: scripts/redis.sh test|demo" >&2; exit 2 ;;
esac
if redis-cli -p "$port" ping >/dev/null 2>&1; then
  exit 0
fi
dir=build/redis-$mode
mkdir -p "$dir"
# noeviction: Redis must refuse writes rather than silently evict frames, results or the stream registry.
redis-server --port "$port" --bind 127.0.0.1 --dir "$(pwd)/$dir" --maxmemory-policy noeviction \
  --daemonize yes --logfile "$(pwd)/$dir/redis.log" --pidfile "$(pwd)/$dir/redis.pid" "${args[@]}"
for _ in $(seq 1 50); do
  redis-cli -p "$port" ping >/dev/null 2>&1 && exit 0
  sleep 0.1
done
echo "redis on port $port did not start; see $dir/redis.log" >&2
exit 1
