# Sourced by the *-down.sh scripts: stop_pid PIDFILE NAME WHO stops the process whose pid PIDFILE holds
# (nothing if the file is empty or missing, or the process is gone): SIGTERM, up to 5 s for it to exit, then
# SIGKILL with a line on stderr naming WHO (the script) and NAME (the daemon).
stop_pid() {
  [ -s "$1" ] || return 0
  local pid
  pid=$(cat "$1")
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  echo "$3: $2 ($pid) ignored SIGTERM; killing it" >&2
  kill -KILL "$pid" 2>/dev/null || true
}
