#!/usr/bin/env bash
# S3-compatible endpoint (moto_server, data in memory) for development and tests.
#
#   scripts/services/s3.sh start|stop|status STATE_DIR
#
# start: runs moto_server from the repo's .venv on 127.0.0.1 and a free port,
# waits until it answers and prints ENDPOINT=http://127.0.0.1:PORT.
# stop: kills it. status: exit 0 if running (and prints ENDPOINT=...).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
START_TIMEOUT="${S3_START_TIMEOUT:-60}"

usage() { echo "usage: $0 start|stop|status STATE_DIR" >&2; exit 2; }
[[ $# -eq 2 ]] || usage
CMD="$1"
mkdir -p "$2"
STATE="$(cd "$2" && pwd)"
PIDFILE="$STATE/s3.pid"
ENVFILE="$STATE/s3.env"
LOG="$STATE/s3.log"

find_moto() {
  local candidate
  for candidate in "${MOTO_SERVER:-}" "$ROOT/.venv/bin/moto_server" "$(command -v moto_server || true)"; do
    if [[ -n "$candidate" && -x "$candidate" ]]; then
      echo "$candidate"
      return 0
    fi
  done
  echo "s3.sh: moto_server not found (install the dev extras: uv pip install -e '.[dev]')" >&2
  exit 1
}

python_of() {
  # The interpreter next to moto_server picks the free port (same venv).
  local dir
  dir="$(dirname "$1")"
  if [[ -x "$dir/python" ]]; then echo "$dir/python"; else command -v python3; fi
}

running() {
  # kill -0 also succeeds on an unreaped zombie: check the process state.
  [[ -f "$PIDFILE" ]] || return 1
  local state
  state="$(ps -o stat= -p "$(cat "$PIDFILE")" 2>/dev/null)" || return 1
  [[ -n "$state" && "$state" != Z* ]]
}

start() {
  if running; then
    cat "$ENVFILE"
    return 0
  fi
  rm -f "$PIDFILE" "$ENVFILE"
  local moto python port
  moto="$(find_moto)"
  python="$(python_of "$moto")"
  port="$("$python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  nohup setsid "$moto" -H 127.0.0.1 -p "$port" >"$LOG" 2>&1 </dev/null &
  echo $! >"$PIDFILE"
  local waited=0
  until curl -s -o /dev/null -m 2 "http://127.0.0.1:$port/"; do
    if ! running; then
      echo "s3.sh: moto_server exited during start; log follows" >&2
      tail -n 40 "$LOG" >&2
      rm -f "$PIDFILE"
      exit 1
    fi
    if (( waited >= START_TIMEOUT * 4 )); then
      echo "s3.sh: moto_server did not answer within ${START_TIMEOUT}s" >&2
      stop >/dev/null
      exit 1
    fi
    sleep 0.25
    waited=$((waited + 1))
  done
  echo "ENDPOINT=http://127.0.0.1:$port" >"$ENVFILE"
  cat "$ENVFILE"
}

stop() {
  if running; then
    local pid
    pid="$(cat "$PIDFILE")"
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 40); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.25
    done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$PIDFILE" "$ENVFILE"
  echo "s3.sh: stopped"
}

status() {
  if running; then
    cat "$ENVFILE" 2>/dev/null || true
    return 0
  fi
  echo "s3.sh: not running" >&2
  return 1
}

case "$CMD" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) usage ;;
esac
