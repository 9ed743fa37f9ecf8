#!/usr/bin/env bash
# Offline IPFS node (js-ipfs 0.66.1, Kubo-compatible RPC API) for development and tests.
#
#   scripts/services/ipfs.sh start|stop|status STATE_DIR
#
# start: installs tools/ipfs-node/node_modules with `npm ci` if missing, binds
# API/Gateway/Swarm to 127.0.0.1 on free ports, waits for POST /api/v0/id and
# prints API=/ip4/127.0.0.1/tcp/PORT and GATEWAY=http://127.0.0.1:PORT/ipfs.
# A restart (stop, start on the same STATE_DIR) keeps the repo (every block
# and pin) and the same ports while they are free, as a real node's restart
# does, so clients holding its address reconnect by themselves.
# stop: kills the node and clears a stale repo.lock. status: exit 0 if running.
set -euo pipefail

NAME=ipfs
# shellcheck source=scripts/services/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh" "$@"

NODE_DIR="$ROOT/tools/ipfs-node"
JSIPFS="$NODE_DIR/node_modules/.bin/jsipfs"
START_TIMEOUT="${IPFS_START_TIMEOUT:-90}"
REPO="$STATE/repo"

clear_state() {
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

start_service() {
  install_node
  local ports api gateway swarm rpc
  local previous=()
  [[ -f "$STATE/ports" ]] && read -r -a previous <"$STATE/ports"
  ports="$(node "$NODE_DIR/freeports.js" 4 ${previous[@]+"${previous[@]}"})"
  read -r api gateway swarm rpc <<<"$(echo $ports)"
  echo "$api $gateway $swarm $rpc" >"$STATE/ports"
  # On an existing repo the daemon would re-apply --init-profile test, which
  # resets API/Gateway to port 0: pass it only when initialising.
  local init_args=()
  if [[ -f "$REPO/config" ]]; then
    node "$NODE_DIR/configure.js" "$NODE_DIR/config.template.json" "$REPO/config" \
      "$api" "$gateway" "$swarm" "$rpc"
  else
    node "$NODE_DIR/configure.js" "$NODE_DIR/config.template.json" "$STATE/init-config.json" \
      "$api" "$gateway" "$swarm" "$rpc"
    init_args=(--init-profile test --init-config "$STATE/init-config.json")
  fi
  IPFS_PATH="$REPO" nohup setsid "$JSIPFS" daemon --enable-preload=false \
    ${init_args[@]+"${init_args[@]}"} >"$LOG" 2>&1 </dev/null &
  echo $! >"$PIDFILE"
  wait_ready "$START_TIMEOUT" "the node" api_ready "$api"
  printf 'API=/ip4/127.0.0.1/tcp/%s\nGATEWAY=http://127.0.0.1:%s/ipfs\n' "$api" "$gateway" >"$ENVFILE"
}

dispatch
