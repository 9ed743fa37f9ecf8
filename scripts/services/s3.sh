#!/usr/bin/env bash
# S3-compatible endpoint (moto_server, data in memory) for development and tests.
#
#   scripts/services/s3.sh start|stop|status STATE_DIR
#
# start: runs moto_server from the repo's .venv on 127.0.0.1 and a free port,
# waits until it answers and prints ENDPOINT=http://127.0.0.1:PORT.
# stop: kills it. status: exit 0 if running (and prints ENDPOINT=...).
set -euo pipefail

NAME=s3
# shellcheck source=scripts/services/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh" "$@"

START_TIMEOUT="${S3_START_TIMEOUT:-60}"

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

clear_state() {
  rm -f "$PIDFILE"
}

answers() {
  curl -s -o /dev/null -m 2 "http://127.0.0.1:$1/"
}

start_service() {
  local moto python port
  moto="$(find_moto)"
  python="$(python_of "$moto")"
  port="$("$python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  nohup setsid "$moto" -H 127.0.0.1 -p "$port" >"$LOG" 2>&1 </dev/null &
  echo $! >"$PIDFILE"
  wait_ready "$START_TIMEOUT" "moto_server" answers "$port"
  echo "ENDPOINT=http://127.0.0.1:$port" >"$ENVFILE"
}

dispatch
