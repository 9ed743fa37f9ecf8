#!/usr/bin/env bash
# Install everything artdag L1 needs, idempotently:
#   - system packages (as root, with apt-get): ffmpeg, chromium, chromium-driver,
#     nodejs/npm, python3-venv, make -- or a clear list of what is missing;
#   - .venv with uv and the pinned Python set (constraints.txt, `-e .[dev]`);
#   - web/node_modules with `npm ci` when web/package-lock.json exists;
#   - tools/ipfs-node/node_modules (the embedded offline IPFS node) likewise.
# Re-running is cheap: each step is skipped when its inputs are unchanged.
#
# Environment:
#   ARTDAG_SKIP_APT=1   never call apt-get (only report what is missing)
#   ARTDAG_SKIP_IPFS_NODE=1  do not install tools/ipfs-node (serve without --no-ipfs then
#                       needs Kubo on PATH)
#   PYTHON=python3.x    interpreter used to create .venv (default python3)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

log() { printf '[bootstrap] %s\n' "$*" >&2; }
die() { printf '[bootstrap] ERROR: %s\n' "$*" >&2; exit 1; }

PYTHON="${PYTHON:-python3}"
VENV="$ROOT/.venv"

# --- system packages -------------------------------------------------------
# command -> "debian-package|why it is needed"
declare -A SYSTEM=(
  [ffprobe]="ffmpeg|ffprobe/ffmpeg: independent HLS client used by the tests"
  [chromium]="chromium|headless browser for the web UI / hls.js playback tests"
  [chromedriver]="chromium-driver|driver for the headless browser tests"
  [node]="nodejs|Node.js for the front-end assets (web/) and the test IPFS node"
  [npm]="npm|npm ci for web/ and tools/ipfs-node/"
  [make]="make|the Makefile entry points (make run / make test)"
)

missing_pkgs=()
missing_why=()
for cmd in "${!SYSTEM[@]}"; do
  if ! command -v "$cmd" >/dev/null 2>&1; then
    missing_pkgs+=("${SYSTEM[$cmd]%%|*}")
    missing_why+=("$cmd (package ${SYSTEM[$cmd]%%|*}): ${SYSTEM[$cmd]#*|}")
  fi
done
# `python3 -m venv` needs ensurepip, which Debian ships separately.
if [[ ! -x "$VENV/bin/python" ]] && ! "$PYTHON" -c 'import ensurepip, venv' >/dev/null 2>&1; then
  missing_pkgs+=("python3-venv")
  missing_why+=("$PYTHON -m venv (package python3-venv): creating .venv")
fi

if ((${#missing_pkgs[@]})); then
  if [[ "$(id -u)" == 0 && -z "${ARTDAG_SKIP_APT:-}" ]] && command -v apt-get >/dev/null 2>&1; then
    log "installing system packages: ${missing_pkgs[*]}"
    export DEBIAN_FRONTEND=noninteractive
    if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing_pkgs[@]}" >/dev/null; }; then
      log "apt-get failed; still missing:"
      printf '[bootstrap]   - %s\n' "${missing_why[@]}" >&2
    fi
  else
    log "missing system packages (install them as root: apt-get install ${missing_pkgs[*]}):"
    printf '[bootstrap]   - %s\n' "${missing_why[@]}" >&2
    log "continuing: \`make run\` needs only the Python packages; tests needing these tools will be skipped or fail with a reason"
  fi
fi

# --- Python: .venv + uv + pinned set ---------------------------------------
command -v "$PYTHON" >/dev/null 2>&1 || die "$PYTHON not found: Python >= 3.11 is required (Debian: apt-get install python3 python3-venv)"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || die "$("$PYTHON" -V 2>&1) is too old: Python >= 3.11 is required (set PYTHON=python3.11)"

if [[ ! -x "$VENV/bin/python" ]]; then
  log "creating .venv with $("$PYTHON" -V 2>&1)"
  "$PYTHON" -m venv "$VENV" || die "could not create .venv (Debian: apt-get install python3-venv)"
fi
if [[ ! -x "$VENV/bin/uv" ]]; then
  log "installing uv into .venv"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check uv || die "pip install uv failed"
fi

py_stamp="$VENV/.artdag-installed"
# (the trailing word changes when what this step does changes, so old venvs redo it once)
py_hash="$( (cat constraints.txt pyproject.toml; echo bytecode) | sha256sum | cut -d' ' -f1)"
if [[ "$(cat "$py_stamp" 2>/dev/null)" != "$py_hash" || ! -x "$VENV/bin/artdag" ]]; then
  log "installing the pinned Python set (constraints.txt)"
  "$VENV/bin/uv" pip install -q --python "$VENV/bin/python" -c constraints.txt -e '.[dev]' \
    || die "uv pip install -c constraints.txt -e .[dev] failed"
  # uv installs no bytecode, and with PYTHONDONTWRITEBYTECODE=1 Python never writes
  # it: every process would compile numba, scipy, librosa... from source at each start
  # (seconds per `artdag serve`, per worker, per test run)
  log "compiling the installed packages to bytecode"
  "$VENV/bin/python" -m compileall -q -j 0 "$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')" >/dev/null \
    || log "compileall reported errors (some files do not compile; imports still work)"
  echo "$py_hash" >"$py_stamp"
fi

# --- front-end assets ------------------------------------------------------
if [[ -f web/package-lock.json ]]; then
  if ! command -v npm >/dev/null 2>&1; then
    log "npm not found: skipping web/ assets (package npm; needed for the web UI's hls.js/htmx/tailwind)"
  else
    web_stamp="web/node_modules/.artdag-installed"
    web_hash="$(cat web/package.json web/package-lock.json | sha256sum | cut -d' ' -f1)"
    if [[ "$(cat "$web_stamp" 2>/dev/null)" != "$web_hash" ]]; then
      log "npm ci in web/"
      (cd web && npm ci --include=dev --no-audit --no-fund --loglevel=error >/dev/null) || die "npm ci in web/ failed"
      echo "$web_hash" >"$web_stamp"
    fi
    # the UI's Tailwind stylesheet is a build output (web/build/, gitignored)
    if [[ ! -f web/build/app.css || -n "$(find web/templates web/static web/src web/tailwind.config.js -newer web/build/app.css -print -quit)" ]]; then
      log "building web/build/app.css (npm run build:css)"
      (cd web && npm run --silent build:css >/dev/null 2>&1) || die "npm run build:css in web/ failed"
    fi
  fi
fi

# --- the embedded IPFS node (js-ipfs, offline; used by `artdag serve` without Kubo) -----
if [[ -f tools/ipfs-node/package-lock.json ]] && command -v npm >/dev/null 2>&1 \
  && [[ -z "${ARTDAG_SKIP_IPFS_NODE:-}" ]]; then
  node_stamp="tools/ipfs-node/node_modules/.artdag-installed"
  node_hash="$(cat tools/ipfs-node/package.json tools/ipfs-node/package-lock.json | sha256sum | cut -d' ' -f1)"
  if [[ "$(cat "$node_stamp" 2>/dev/null)" != "$node_hash" ]]; then
    log "npm ci in tools/ipfs-node/ (the embedded IPFS node; about a minute the first time)"
    (
      cd tools/ipfs-node
      exec 9>.install.lock # serialise with scripts/services/ipfs.sh
      command -v flock >/dev/null && flock 9
      npm ci --omit=optional --no-audit --no-fund --loglevel=error >/dev/null
    ) || die "npm ci in tools/ipfs-node/ failed (set ARTDAG_SKIP_IPFS_NODE=1 to skip it)"
    echo "$node_hash" >"$node_stamp"
  fi
fi

log "ready"
