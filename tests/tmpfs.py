"""A small tmpfs mounted for a test, so that a disk really fills up (ENOSPC).

Needs root (CI and the harness run as root). When the mount is not possible
the test is skipped with the reason, or fails under ``ARTDAG_REQUIRE_SERVICES=1``
(:func:`tests.conftest.unavailable`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

from tests.conftest import unavailable

__all__ = ["small_tmpfs"]


@contextlib.contextmanager
def small_tmpfs(where: Path, size_kib: int) -> Iterator[Path]:
    """Mount a ``size_kib`` KiB tmpfs on ``where`` (created) for the block; unmounted after."""
    if os.geteuid() != 0:
        unavailable("mounting a tmpfs needs root")
    mount = shutil.which("mount")
    if mount is None:
        unavailable("mount(8) not found")
    where.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        [mount, "-t", "tmpfs", "-o", f"size={size_kib}k,mode=0755", "tmpfs", str(where)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        unavailable(f"cannot mount a tmpfs on {where}: {proc.stderr.strip()}")
    try:
        yield where
    finally:
        # lazily, so that a file still open somewhere cannot leave the mount behind
        subprocess.run(["umount", "-l", str(where)], capture_output=True, check=False)
