#!/usr/bin/env bash
# Real recordings for the tests and benchmarks, taken from Debian packages.
#
#   scripts/media/fetch.sh PACKAGE PATH...
#
# Makes each PATH (a file inside the binary package PACKAGE, e.g.
# usr/share/lmms/samples/beats/break02.ogg) available under the cache and
# prints DIR=<cache>/deb/PACKAGE, the directory the paths are relative to.
# Files already in the cache are reused; otherwise `apt-get download PACKAGE`
# (the release's candidate version, from the configured Debian mirror) and
# `dpkg-deb --fsys-tarfile` extract only the requested paths, and the .deb is
# deleted. The package's version goes to DIR/.version. Nothing is installed.
# If apt has no package lists yet and we are root, `apt-get update` runs once.
#
# Cache: $ARTDAG_MEDIA_CACHE, else ${XDG_CACHE_HOME:-~/.cache}/artdag/test-media.
# Exit status 1 with the reason on stderr when a path cannot be had.
set -euo pipefail

usage() { echo "usage: $0 PACKAGE PATH..." >&2; exit 2; }
(($# >= 2)) || usage
PKG="$1"
shift
[[ "$PKG" =~ ^[a-z0-9][a-z0-9+.-]+$ ]] || { echo "fetch.sh: bad package name '$PKG'" >&2; exit 2; }

CACHE="${ARTDAG_MEDIA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/artdag/test-media}"
DIR="$CACHE/deb/$PKG"

missing=()
for path in "$@"; do
  path="${path#/}"
  [[ "$path" != *..* ]] || { echo "fetch.sh: bad path '$path'" >&2; exit 2; }
  [[ -s "$DIR/$path" ]] || missing+=("$path")
done
if ((${#missing[@]} == 0)); then
  echo "DIR=$DIR"
  exit 0
fi

for tool in apt-get dpkg-deb tar; do
  command -v "$tool" >/dev/null 2>&1 || { echo "fetch.sh: $tool not found (a Debian system is needed)" >&2; exit 1; }
done

mkdir -p "$CACHE/deb"
WORK="$(mktemp -d "$CACHE/deb/.fetch.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

download() {
  (cd "$WORK" && apt-get download -q -o APT::Sandbox::User=root "$PKG") >"$WORK/apt.log" 2>&1
}
if ! download; then
  if grep -q "Unable to locate package" "$WORK/apt.log" && [[ "$(id -u)" == 0 ]]; then
    apt-get update -qq >>"$WORK/apt.log" 2>&1 || true
    download || { tail -n 5 "$WORK/apt.log" >&2; echo "fetch.sh: apt-get download $PKG failed" >&2; exit 1; }
  else
    tail -n 5 "$WORK/apt.log" >&2
    echo "fetch.sh: apt-get download $PKG failed (no Debian mirror reachable, or no package lists: run apt-get update as root)" >&2
    exit 1
  fi
fi
deb=("$WORK"/*.deb)
[[ -f "${deb[0]}" ]] || { echo "fetch.sh: apt-get download $PKG left no .deb" >&2; exit 1; }

members=()
for path in "${missing[@]}"; do members+=("./$path"); done
mkdir -p "$WORK/x"
if ! dpkg-deb --fsys-tarfile "${deb[0]}" | tar -x -C "$WORK/x" "${members[@]}" 2>"$WORK/tar.log"; then
  cat "$WORK/tar.log" >&2
  echo "fetch.sh: $PKG ($(basename "${deb[0]}")) does not hold all of: ${missing[*]}" >&2
  exit 1
fi
for path in "${missing[@]}"; do
  mkdir -p "$DIR/$(dirname "$path")"
  mv -f "$WORK/x/$path" "$DIR/$path"
done
dpkg-deb -f "${deb[0]}" Version >"$DIR/.version"
echo "DIR=$DIR"
