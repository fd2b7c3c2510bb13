#!/usr/bin/env bash
# Starts a private redis-server (Debian's package) on 127.0.0.1:PORT for the queue tests, with no
# persistence, its pid in DIR/redis.pid; scripts/ci/redis-down.sh DIR stops it by that pid. Writes DIR/env
# (export VDS_TEST_REDIS_URL=…) for the tests to source. Recipe: ../shared/recipes/slurm-single-node.md,
# last section.
set -euo pipefail
T=$(realpath -m "${1:?usage: redis-up.sh DIR [PORT]}")
PORT=${2:-6399}
if ! command -v redis-server >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
fi
mkdir -p "$T"
redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
  --pidfile "$T/redis.pid" --logfile "$T/redis.log" --dir "$T"
for _ in $(seq 1 50); do
  if [ "$(redis-cli -p "$PORT" ping 2>/dev/null)" = PONG ]; then
    echo "export VDS_TEST_REDIS_URL=redis://127.0.0.1:$PORT" > "$T/env"
    echo "redis-up: redis-server $(cat "$T/redis.pid") on 127.0.0.1:$PORT" >&2
    exit 0
  fi
  sleep 0.1
done
echo "redis-up: redis-server did not answer on port $PORT; its log:" >&2
cat "$T/redis.log" >&2 || true
exit 1
