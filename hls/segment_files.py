"""How finished segments land on disk: content names and atomic writes.

Shared by the live outputs (:mod:`hls.local_output`, :mod:`hls.ipfs_output`).
A file is written under a temporary name and renamed into place, so a reader
(a player, a mirror, the uploader) never sees a partial segment or playlist.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hls.playlist import Segment

__all__ = ["CidFn", "WrittenSegment", "atomic_write", "sha256_cid"]

CidFn = Callable[[bytes], str]
"""Content id of some bytes; segment files are named ``<cid><ext>``."""


def sha256_cid(data: bytes) -> str:
    """Hex sha256, a stand-in content id for tests (production passes an IPFS CID function)."""
    return hashlib.sha256(data).hexdigest()


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same directory."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@dataclass(slots=True)
class WrittenSegment:
    """A segment that is complete on disk and listed in the local playlist.

    Attributes:
        segment: Its playlist entry.
        cid: Content id of its bytes (``cid_fn``).
        path: The local file.
    """

    segment: Segment
    cid: str
    path: Path
