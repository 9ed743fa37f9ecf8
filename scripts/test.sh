#!/usr/bin/env bash
# The whole check, as `make test` and CI run it:
#   1. scripts/bootstrap.sh (venv, pinned set, npm ci, system packages);
#   2. for each service: reuse it when reachable, else start a throwaway one
#      (PostgreSQL + Redis: streamer.embedded.stack.EmbeddedStack / redis-server;
#      IPFS: scripts/services/ipfs.sh; S3: scripts/services/s3.sh);
#   3. ruff check, ruff format --check, mypy (strict), lint-imports (the layering
#      contract), pytest (extra arguments go to pytest);
#   4. stop everything it started (also on failure and Ctrl-C).
# Exits non-zero when any step fails, including pytest running no test.
#
# Environment it reads (all optional):
#   ARTDAG_TEST_DATABASE_URL  admin DSN to reuse (default postgresql://postgres@127.0.0.1:5432/postgres)
#   ARTDAG_TEST_REDIS_URL     Redis to reuse (default redis://127.0.0.1:6379/0)
#   ARTDAG_TEST_IPFS_API / ARTDAG_TEST_IPFS_GATEWAY   IPFS node to reuse (never guessed)
#   ARTDAG_TEST_S3_ENDPOINT   S3 endpoint to reuse (never guessed)
#   ARTDAG_TEST_SKIP_LINT=1   skip ruff and mypy (local iterations only)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

log() { printf '[test] %s\n' "$*" >&2; }

"$ROOT/scripts/bootstrap.sh"

PY="$ROOT/.venv/bin/python"
TESTENV=("$PY" "$ROOT/scripts/testenv.py")
STATE="$(mktemp -d "${TMPDIR:-/tmp}/artdag-test.XXXXXX")"
STOPS=()    # shell snippets run on exit, last first
SUMMARY=()  # one line per service: reused / started / missing

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  local i
  for ((i = ${#STOPS[@]} - 1; i >= 0; i--)); do
    eval "${STOPS[i]}" || log "stop step failed: ${STOPS[i]}"
  done
  rm -rf "$STATE"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Stop a background process we started: TERM, wait up to 60 s, then KILL.
stop_pid() {
  local pid=$1 n
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((n = 0; n < 600; n++)); do
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    sleep 0.1
  done
  log "pid $pid did not stop in 60 s; killing it"
  kill -KILL "$pid" 2>/dev/null || true
}

stop_pidfile() {
  local pid
  pid="$(cat "$1" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] && ((pid > 1)) && stop_pid "$pid"
  return 0
}

# Services run in their own session (setsid) so that a Ctrl-C meant for the
# tests does not stop them behind our back; cleanup stops them in order.
SETSID=()
command -v setsid >/dev/null 2>&1 && SETSID=(setsid)

# Run a service start script in the background and wait for it, so that
# Ctrl-C interrupts the wait at once (bash defers traps for foreground children).
start_service() {
  local out=$1 pid
  shift
  "${SETSID[@]}" "$@" >"$out" &
  pid=$!
  STOPS+=("stop_pid $pid")  # a start script still running at exit is stopped first
  wait "$pid"
}

probe() { "${TESTENV[@]}" probe "$@" 2>>"$STATE/probe.log"; }

# The value of the first KEY=value line in a file (what the start scripts print).
value_of() { sed -n "s/^$1=//p" "$2" | head -n1; }

# --- PostgreSQL ----------------------------------------------------------------
PG_URL="${ARTDAG_TEST_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/postgres}"
REDIS_URL_="${ARTDAG_TEST_REDIS_URL:-redis://127.0.0.1:6379/0}"
EMBEDDED_REDIS=""
if probe pg "$PG_URL"; then
  SUMMARY+=("postgresql: reused $PG_URL")
else
  log "PostgreSQL not reachable ($(tail -n1 "$STATE/probe.log")); starting the embedded stack"
  "${SETSID[@]}" "${TESTENV[@]}" embedded "$STATE/stack" "$STATE/stack.env" >"$STATE/stack.log" 2>&1 &
  holder=$!
  STOPS+=("stop_pid $holder")
  for ((n = 0; n < 1800; n++)); do
    [[ -f "$STATE/stack.env" ]] && break
    if ! kill -0 "$holder" 2>/dev/null; then
      cat "$STATE/stack.log" >&2
      log "the embedded stack (streamer.embedded.stack.EmbeddedStack) failed to start"
      exit 1
    fi
    sleep 0.1
  done
  [[ -f "$STATE/stack.env" ]] || { cat "$STATE/stack.log" >&2; log "embedded stack not up in 180 s"; exit 1; }
  PG_URL="$(value_of DATABASE_URL "$STATE/stack.env")"
  EMBEDDED_REDIS="$(value_of REDIS_URL "$STATE/stack.env")"
  SUMMARY+=("postgresql: started (embedded) $PG_URL")
fi

# --- Redis ---------------------------------------------------------------------
if probe redis "$REDIS_URL_"; then
  SUMMARY+=("redis: reused $REDIS_URL_")
elif [[ -n "$EMBEDDED_REDIS" ]]; then
  REDIS_URL_="$EMBEDDED_REDIS"
  SUMMARY+=("redis: started (embedded stack) $REDIS_URL_")
else
  log "Redis not reachable ($(tail -n1 "$STATE/probe.log")); starting a throwaway redis-server"
  redis_bin="$(command -v redis-server || echo "$ROOT/.venv/bin/redis-server")"
  port="$("${TESTENV[@]}" freeport)"
  mkdir -p "$STATE/redis"
  "${SETSID[@]}" "$redis_bin" --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
    --daemonize yes --pidfile "$STATE/redis/redis.pid" --dir "$STATE/redis" \
    --logfile "$STATE/redis/redis.log" >/dev/null
  STOPS+=("stop_pidfile '$STATE/redis/redis.pid'")
  REDIS_URL_="redis://127.0.0.1:$port/0"
  for ((n = 0; n < 50; n++)); do probe redis "$REDIS_URL_" && break; sleep 0.2; done
  probe redis "$REDIS_URL_" || { log "redis-server did not answer on $REDIS_URL_"; exit 1; }
  SUMMARY+=("redis: started (redis-server) $REDIS_URL_")
fi

# --- IPFS and S3 (start scripts from scripts/services/) ---------------------------
IPFS_API="${ARTDAG_TEST_IPFS_API:-}"
IPFS_GATEWAY="${ARTDAG_TEST_IPFS_GATEWAY:-}"
if [[ -n "$IPFS_API" ]] && probe ipfs "$IPFS_API"; then
  SUMMARY+=("ipfs: reused $IPFS_API")
elif [[ -x scripts/services/ipfs.sh || -f scripts/services/ipfs.sh ]]; then
  log "starting a throwaway IPFS node (scripts/services/ipfs.sh)"
  STOPS+=("bash scripts/services/ipfs.sh stop '$STATE/ipfs' >/dev/null")
  start_service "$STATE/ipfs.out" bash scripts/services/ipfs.sh start "$STATE/ipfs" \
    || { cat "$STATE/ipfs.out" >&2; log "scripts/services/ipfs.sh start failed"; exit 1; }
  IPFS_API="$(value_of API "$STATE/ipfs.out")"
  IPFS_GATEWAY="$(value_of GATEWAY "$STATE/ipfs.out")"
  [[ -n "$IPFS_API" ]] || { cat "$STATE/ipfs.out" >&2; log "ipfs.sh printed no API= line"; exit 1; }
  SUMMARY+=("ipfs: started $IPFS_API (gateway ${IPFS_GATEWAY:-none})")
else
  IPFS_API=""
  SUMMARY+=("ipfs: MISSING (scripts/services/ipfs.sh not found; IPFS tests will fail)")
fi

S3_ENDPOINT="${ARTDAG_TEST_S3_ENDPOINT:-}"
if [[ -n "$S3_ENDPOINT" ]] && probe s3 "$S3_ENDPOINT"; then
  SUMMARY+=("s3: reused $S3_ENDPOINT")
elif [[ -f scripts/services/s3.sh ]]; then
  log "starting a throwaway S3 endpoint (scripts/services/s3.sh)"
  STOPS+=("bash scripts/services/s3.sh stop '$STATE/s3' >/dev/null")
  start_service "$STATE/s3.out" bash scripts/services/s3.sh start "$STATE/s3" \
    || { cat "$STATE/s3.out" >&2; log "scripts/services/s3.sh start failed"; exit 1; }
  S3_ENDPOINT="$(value_of ENDPOINT "$STATE/s3.out")"
  [[ -n "$S3_ENDPOINT" ]] || { cat "$STATE/s3.out" >&2; log "s3.sh printed no ENDPOINT= line"; exit 1; }
  SUMMARY+=("s3: started $S3_ENDPOINT")
else
  S3_ENDPOINT=""
  SUMMARY+=("s3: MISSING (scripts/services/s3.sh not found; S3 tests will fail)")
fi

# --- tools ---------------------------------------------------------------------
for tool in ffprobe ffmpeg chromium; do
  if path="$(command -v "$tool")"; then
    SUMMARY+=("$tool: $path")
  else
    SUMMARY+=("$tool: MISSING (see scripts/bootstrap.sh output; tests needing it will fail)")
  fi
done

export ARTDAG_TEST_DATABASE_URL="$PG_URL"
export ARTDAG_TEST_REDIS_URL="$REDIS_URL_"
export ARTDAG_TEST_IPFS_API="$IPFS_API"
export ARTDAG_TEST_IPFS_GATEWAY="$IPFS_GATEWAY"
export ARTDAG_TEST_S3_ENDPOINT="$S3_ENDPOINT"
export ARTDAG_REQUIRE_SERVICES="${ARTDAG_REQUIRE_SERVICES:-1}"

log "services:"
printf '[test]   %s\n' "${SUMMARY[@]}" >&2

# --- checks --------------------------------------------------------------------
declare -A RESULT=()
failed=0
run_step() {
  local name=$1 rc=0
  shift
  log "running $name"
  "$@" || rc=$?
  RESULT[$name]=$rc
  ((rc == 0)) || failed=1
}

if [[ -z "${ARTDAG_TEST_SKIP_LINT:-}" ]]; then
  run_step ruff .venv/bin/ruff check .
  run_step ruff-format .venv/bin/ruff format --check .
  run_step mypy .venv/bin/mypy .
  # the layering contract (pyproject [tool.importlinter]): libraries never import the
  # application layer, api/ and web/ never import each other or streamer.entry
  run_step import-contract .venv/bin/lint-imports --no-cache
fi
# pytest exit 5 (no tests collected) counts as a failure like any other non-zero.
run_step pytest .venv/bin/pytest -p no:cacheprovider --durations=15 "$@"

log "services:"
printf '[test]   %s\n' "${SUMMARY[@]}" >&2
for name in ruff ruff-format mypy import-contract pytest; do
  [[ -n "${RESULT[$name]+x}" ]] || continue
  if ((RESULT[$name] == 0)); then log "$name: ok"; else log "$name: FAILED (exit ${RESULT[$name]})"; fi
done
exit "$failed"
