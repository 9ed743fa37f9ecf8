# Shared helpers for scripts/services/*.sh: sourced, not run.
#
# The sourcing script sets NAME (ipfs, s3) and passes its arguments
# (`source common.sh "$@"`); this parses `start|stop|status STATE_DIR` into CMD
# and STATE/PIDFILE/ENVFILE/LOG. The script then defines start_service (launch
# in the background, write PIDFILE, call wait_ready, write ENVFILE) and
# clear_state (remove what a dead process leaves behind, PIDFILE included),
# and ends with `dispatch`.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

usage() { echo "usage: $0 start|stop|status STATE_DIR" >&2; exit 2; }
[[ $# -eq 2 ]] || usage
CMD="$1"
mkdir -p "$2"
STATE="$(cd "$2" && pwd)"
PIDFILE="$STATE/$NAME.pid"
ENVFILE="$STATE/$NAME.env"
LOG="$STATE/$NAME.log"

running() {
  # kill -0 also succeeds on a zombie nobody has reaped yet: check the state too.
  [[ -f "$PIDFILE" ]] || return 1
  local state
  state="$(ps -o stat= -p "$(cat "$PIDFILE")" 2>/dev/null)" || return 1
  [[ -n "$state" && "$state" != Z* ]]
}

# wait_ready TIMEOUT_S WHAT CHECK...: poll CHECK every 0.25 s until it succeeds;
# exit 1 with the log tail if the process dies or TIMEOUT_S passes.
wait_ready() {
  local timeout="$1" what="$2"
  shift 2
  local waited=0
  until "$@"; do
    if ! running; then
      echo "$NAME.sh: $what exited during start; log follows" >&2
      tail -n 40 "$LOG" >&2
      clear_state
      exit 1
    fi
    if (( waited >= timeout * 4 )); then
      echo "$NAME.sh: $what did not answer within ${timeout}s; log follows" >&2
      tail -n 40 "$LOG" >&2
      stop >/dev/null
      exit 1
    fi
    sleep 0.25
    waited=$((waited + 1))
  done
}

start() {
  if running; then
    cat "$ENVFILE"
    return 0
  fi
  clear_state
  rm -f "$ENVFILE"
  start_service
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
  clear_state
  rm -f "$ENVFILE"
  echo "$NAME.sh: stopped"
}

status() {
  if running; then
    cat "$ENVFILE" 2>/dev/null || true
    return 0
  fi
  echo "$NAME.sh: not running" >&2
  return 1
}

dispatch() {
  case "$CMD" in
    start) start ;;
    stop) stop ;;
    status) status ;;
    *) usage ;;
  esac
}
