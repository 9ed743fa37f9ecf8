"""The downloadable CLI client: a zipapp of this package's Python sources.

Built on demand into ``CACHE_DIR/client/`` and named by the hash of its
contents, so a rebuild only happens when the sources change. It runs the
``artdag`` command (``streamer.entry.cli.main``) with the dependencies of the
package installed (``pip install artdag-l1`` deps, or the server's venv).
"""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
from pathlib import Path

__all__ = ["CLIENT_PACKAGES", "build_client", "client_sources"]

#: Top-level packages that go into the client (web/ and tests stay out).
CLIENT_PACKAGES = ("streamer", "api", "interpreter", "effects", "hls", "cache")
_SUFFIXES = {".py", ".sql", ".yaml", ".sexp", ".cube", ".typed"}
# numba caches compiled kernels beside their source files, which cannot live in a
# zip: on first run the client unpacks itself into a per-version user folder.
_MAIN = b"""\
import os
import sys
import tempfile
import zipfile

archive = os.path.dirname(os.path.abspath(__file__))
name = os.path.splitext(os.path.basename(archive))[0]
root = os.path.join(os.path.expanduser("~"), ".cache", "artdag", name)
if not os.path.isdir(root):
    os.makedirs(os.path.dirname(root), exist_ok=True)
    tmp = tempfile.mkdtemp(dir=os.path.dirname(root))
    with zipfile.ZipFile(archive) as zf:
        zf.extractall(tmp)
    try:
        os.rename(tmp, root)
    except OSError:  # another process unpacked it first
        pass
sys.path[:] = [root] + [p for p in sys.path if os.path.abspath(p) != archive]
from streamer.entry.cli import main  # noqa: E402

sys.exit(main())
"""
# zip entries carry this fixed time so the same sources make the same bytes
_EPOCH = (2020, 1, 1, 0, 0, 0)


def client_sources(root: Path) -> list[tuple[str, Path]]:
    """(archive name, file) of every source file of :data:`CLIENT_PACKAGES`, sorted."""
    out: list[tuple[str, Path]] = []
    for package in CLIENT_PACKAGES:
        base = root / package
        for path in sorted(base.rglob("*")):
            if path.is_file() and path.suffix in _SUFFIXES and "__pycache__" not in path.parts:
                out.append((path.relative_to(root).as_posix(), path))
    return out


def build_client(root: Path, out_dir: Path) -> Path:
    """Build (or reuse) ``out_dir/artdag-client-<hash>.pyz`` from the sources under ``root``.

    Blocking; run it in a thread. Returns the path of the zipapp.
    """
    sources = client_sources(root)
    if not sources:
        raise FileNotFoundError(f"no client sources under {root}")
    digest = hashlib.sha256(_MAIN)
    for name, path in sources:
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    target = out_dir / f"artdag-client-{digest.hexdigest()[:16]}.pyz"
    if target.is_file():
        return target
    buf = io.BytesIO()
    buf.write(b"#!/usr/bin/env python3\n")
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(zipfile.ZipInfo("__main__.py", _EPOCH), _MAIN, zipfile.ZIP_DEFLATED)
        for name, path in sources:
            zf.writestr(zipfile.ZipInfo(name, _EPOCH), path.read_bytes(), zipfile.ZIP_DEFLATED)
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.write_bytes(buf.getvalue())
    tmp.chmod(0o755)
    os.replace(tmp, target)
    return target
