#!/usr/bin/env bash
# Offline IPFS node (js-ipfs 0.66.1, Kubo-compatible RPC API) for development and tests.
#
#   scripts/services/ipfs.sh start|stop|status STATE_DIR
#
# start: installs tools/ipfs-node/node_modules with `npm ci` if missing, binds
# API/Gateway/Swarm to 127.0.0.1 on free ports, waits for POST /api/v0/id and
# prints API=/ip4/127.0.0.1/tcp/PORT and GATEWAY=http://127.0.0.1:PORT/ipfs.
# stop: kills the node and clears a stale repo.lock. status: exit 0 if running.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
NODE_DIR="$ROOT/tools/ipfs-node"
JSIPFS="$NODE_DIR/node_modules/.bin/jsipfs"
START_TIMEOUT="${IPFS_START_TIMEOUT:-90}"

usage() { echo "usage: $0 start|stop|status STATE_DIR" >&2; exit 2; }
[[ $# -eq 2 ]] || usage
CMD="$1"
mkdir -p "$2"
STATE="$(cd "$2" && pwd)"
REPO="$STATE/repo"
PIDFILE="$STATE/ipfs.pid"
ENVFILE="$STATE/ipfs.env"
LOG="$STATE/ipfs.log"

running() {
  # kill -0 also succeeds on a zombie nobody has reaped yet: check the state too.
  [[ -f "$PIDFILE" ]] || return 1
  local state
  state="$(ps -o stat= -p "$(cat "$PIDFILE")" 2>/dev/null)" || return 1
  [[ -n "$state" && "$state" != Z* ]]
}

clear_stale() {
  # A kill -9 leaves repo.lock (and the api file) behind and blocks the next start.
  rm -rf "$REPO/repo.lock" "$REPO/api"
  rm -f "$PIDFILE"
}

api_ready() {
  curl -sf -m 5 -X POST "http://127.0.0.1:$1/api/v0/id" >/dev/null 2>&1
}

install_node() {
  if [[ -x "$JSIPFS" ]]; then return 0; fi
  command -v npm >/dev/null || { echo "ipfs.sh: npm (Node >= 18) is required" >&2; exit 1; }
  echo "ipfs.sh: installing js-ipfs into $NODE_DIR/node_modules (npm ci, about a minute)" >&2
  (
    cd "$NODE_DIR"
    # Serialise concurrent installs into the same folder.
    exec 9>"$NODE_DIR/.install.lock"
    command -v flock >/dev/null && flock 9
    [[ -x "$JSIPFS" ]] || npm ci --omit=optional --no-audit --no-fund >&2
  )
}

start() {
  if running; then
    cat "$ENVFILE"
    return 0
  fi
  clear_stale
  install_node
  local ports api gateway swarm rpc
  ports="$(node "$NODE_DIR/freeports.js" 4)"
  read -r api gateway swarm rpc <<<"$(echo $ports)"
  # On an existing repo the daemon would re-apply --init-profile test, which
  # resets API/Gateway to port 0: pass it only when initialising.
  local init_args=()
  if [[ -f "$REPO/config" ]]; then
    node "$NODE_DIR/configure.js" "$NODE_DIR/config.template.json" "$REPO/config" \
      "$api" "$gateway" "$swarm" "$rpc"
  else
    mkdir -p "$STATE"
    node "$NODE_DIR/configure.js" "$NODE_DIR/config.template.json" "$STATE/init-config.json" \
      "$api" "$gateway" "$swarm" "$rpc"
    init_args=(--init-profile test --init-config "$STATE/init-config.json")
  fi
  IPFS_PATH="$REPO" nohup setsid "$JSIPFS" daemon --enable-preload=false \
    ${init_args[@]+"${init_args[@]}"} >"$LOG" 2>&1 </dev/null &
  echo $! >"$PIDFILE"
  local waited=0
  until api_ready "$api"; do
    if ! running; then
      echo "ipfs.sh: the node exited during start; log follows" >&2
      tail -n 40 "$LOG" >&2
      clear_stale
      exit 1
    fi
    if (( waited >= START_TIMEOUT * 4 )); then
      echo "ipfs.sh: the API did not answer within ${START_TIMEOUT}s; log follows" >&2
      tail -n 40 "$LOG" >&2
      stop >/dev/null
      exit 1
    fi
    sleep 0.25
    waited=$((waited + 1))
  done
  printf 'API=/ip4/127.0.0.1/tcp/%s\nGATEWAY=http://127.0.0.1:%s/ipfs\n' "$api" "$gateway" >"$ENVFILE"
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
  clear_stale
  rm -f "$ENVFILE"
  echo "ipfs.sh: stopped"
}

status() {
  if running; then
    cat "$ENVFILE" 2>/dev/null || true
    return 0
  fi
  echo "ipfs.sh: not running" >&2
  return 1
}

case "$CMD" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) usage ;;
esac
