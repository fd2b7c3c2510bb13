#!/usr/bin/env bash
# Stops the redis-server that scripts/ci/redis-up.sh DIR started, by the pid it wrote, and waits for it.
set -uo pipefail
T=$(realpath -m "${1:?usage: redis-down.sh DIR}")
[ -s "$T/redis.pid" ] || exit 0
pid=$(cat "$T/redis.pid")
kill -TERM "$pid" 2>/dev/null || exit 0
for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || exit 0; sleep 0.1; done
echo "redis-down: redis-server ($pid) ignored SIGTERM; killing it" >&2
kill -KILL "$pid" 2>/dev/null || true
exit 0
