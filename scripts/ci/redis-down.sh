#!/usr/bin/env bash
# Stops the redis-server that scripts/ci/redis-up.sh DIR started, by the pid it wrote, and waits for it.
set -uo pipefail
T=$(realpath -m "${1:?usage: redis-down.sh DIR}")
# shellcheck source=scripts/ci/stop-pid.sh
source "$(dirname "$0")/stop-pid.sh"
stop_pid "$T/redis.pid" redis-server redis-down
exit 0
