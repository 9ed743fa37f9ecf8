"""FrameSinks that publish live HLS: local files, and local files plus IPFS.

This module is the public entry point; the pieces live in modules named for
what they hold:

- :mod:`hls.local_output`: :class:`LocalHLSOutput`, the writer task that owns
  a stream's playlist and files (bounded queue, backpressure, mirrors).
- :mod:`hls.ipfs_output`: :class:`IPFSHLSOutput` and the :class:`SegmentStore`
  it publishes to (ordered uploads, never a gap, never a stall).
- :mod:`hls.output_reports`: :class:`PlaylistUpdate`, :class:`OutputStats`,
  :class:`HLSResult`.
- :mod:`hls.segment_files`: content names (:func:`sha256_cid`) and atomic writes.
"""

from __future__ import annotations

from hls.ipfs_output import IPFSHLSOutput, SegmentStore
from hls.local_output import ABORT_MIRROR_GRACE, LocalHLSOutput
from hls.output_reports import HLSResult, OutputStats, PlaylistUpdate
from hls.segment_files import sha256_cid

__all__ = [
    "ABORT_MIRROR_GRACE",
    "HLSResult",
    "IPFSHLSOutput",
    "LocalHLSOutput",
    "OutputStats",
    "PlaylistUpdate",
    "SegmentStore",
    "sha256_cid",
]
