#!/usr/bin/env bash
# A Redis Cluster on loopback ports for tests and benchmarks. Idempotent.
#   scripts/redis-cluster.sh start   start every node that does not answer; create the cluster when none exists yet
#   scripts/redis-cluster.sh stop    stop every node (SIGTERM to the PIDs kept in each node's directory)
#   scripts/redis-cluster.sh nodes   print the start-up node list: redis://127.0.0.1:P,redis://...
# Ports BASE..BASE+N-1 with BASE = POSESTREAM_REDIS_CLUSTER_PORT (default 7100) and N = masters x (1 + replicas):
# POSESTREAM_REDIS_CLUSTER_MASTERS (default 3), POSESTREAM_REDIS_CLUSTER_REPLICAS (default 1).
# Each node lives in build/redis-cluster-BASE/PORT (its nodes.conf, log and pid); it is started with exec, so the
# PID kept is the server's (tests kill -9 it to force a failover, then `start` brings it back: it rejoins as a
# replica of the master promoted meanwhile). Nodes on these ports that another directory started are shut down
# first. No persistence, noeviction, cluster-node-timeout 2000 ms (a failover takes ~3 s),
# cluster-require-full-coverage no (a dead master stops only its own slots, not the whole cluster).
set -euo pipefail
cd "$(dirname "$0")/.."
action=${1:-start}
base=${POSESTREAM_REDIS_CLUSTER_PORT:-7100}
masters=${POSESTREAM_REDIS_CLUSTER_MASTERS:-3}
replicas=${POSESTREAM_REDIS_CLUSTER_REPLICAS:-1}
count=$((masters * (1 + replicas)))
root=$(pwd -P)/build/redis-cluster-$base
ports=$(seq "$base" $((base + count - 1)))

answers() { redis-cli -p "$1" ping >/dev/null 2>&1; }

# A node answering on our port but running from another directory (say, another clone's build/) is not ours: its
# nodes.conf and PID are elsewhere, so a killed node could not be brought back from here. Such nodes are shut down.
foreign() { [ "$(redis-cli -p "$1" config get dir 2>/dev/null | sed -n 2p)" != "$root/$1" ]; }

stop_foreign_nodes() {
  for port in $ports; do
    if answers "$port" && foreign "$port"; then
      echo "redis cluster node $port runs from another directory; shutting it down to start this checkout's" >&2
      redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
      for _ in $(seq 1 50); do answers "$port" || break; sleep 0.1; done
    fi
  done
}

start_node() {
  local port=$1 dir=$root/$1
  mkdir -p "$dir"
  (
    cd "$dir"
    exec redis-server --port "$port" --bind 127.0.0.1 --cluster-enabled yes --cluster-config-file nodes.conf \
      --cluster-node-timeout 2000 --cluster-require-full-coverage no --maxmemory-policy noeviction \
      --save '' --appendonly no --logfile "$dir/redis.log"
  ) </dev/null >/dev/null 2>&1 &
  echo $! >"$dir/redis.pid"
}

cluster_formed() { redis-cli -p "$base" cluster info 2>/dev/null | grep -q '^cluster_state:ok'; }

case "$action" in
  start)
    stop_foreign_nodes
    fresh=true
    for port in $ports; do answers "$port" && fresh=false; done
    # No node answers: start from scratch (an old nodes.conf would name node ids that no longer exist).
    if $fresh; then rm -rf "$root"; fi
    for port in $ports; do answers "$port" || start_node "$port"; done
    for port in $ports; do
      for _ in $(seq 1 50); do answers "$port" && break; sleep 0.1; done
      answers "$port" || { echo "redis cluster node $port did not start; see $root/$port/redis.log" >&2; exit 1; }
    done
    if $fresh; then
      # shellcheck disable=SC2046
      redis-cli --cluster-yes --cluster create $(for port in $ports; do printf '127.0.0.1:%s ' "$port"; done) \
        --cluster-replicas "$replicas" >"$root/create.log" 2>&1 || { cat "$root/create.log" >&2; exit 1; }
    fi
    for _ in $(seq 1 100); do cluster_formed && exit 0; sleep 0.1; done
    echo "redis cluster on ports $base.. did not reach cluster_state:ok; see $root" >&2
    exit 1
    ;;
  stop)
    for port in $ports; do
      pidfile=$root/$port/redis.pid
      [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null || true
    done
    for port in $ports; do
      for _ in $(seq 1 50); do answers "$port" || break; sleep 0.1; done
    done
    ;;
  nodes)
    printf '%s' "$(for port in $ports; do printf 'redis://127.0.0.1:%s,' "$port"; done | sed 's/,$//')"
    echo
    ;;
  *) echo "usage: scripts/redis-cluster.sh start|stop|nodes" >&2; exit 2 ;;
esac
