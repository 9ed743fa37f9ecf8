"""What the live HLS outputs report: playlist updates, counters and the final result."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from hls.mirror import MirrorStats
from hls.playlist import Segment

__all__ = ["HLSResult", "OutputStats", "PlaylistUpdate", "UpdateCallback"]


@dataclass(frozen=True, slots=True)
class PlaylistUpdate:
    """Sent to ``on_playlist_update`` after each published playlist.

    Attributes:
        playlist_cid: CID of the playlist just published (local: ``cid_fn`` of its text).
        segment_cid: CID of the newest listed segment.
        index: Index of that segment.
        duration: Its duration in seconds.
        segment_count: Segments the playlist lists.
        ended: True for the final playlist (with EXT-X-ENDLIST).
    """

    playlist_cid: str
    segment_cid: str
    index: int
    duration: float
    segment_count: int
    ended: bool


UpdateCallback = Callable[[PlaylistUpdate], Awaitable[None]]
"""Awaited after each published playlist; its failures are counted, never raised."""


@dataclass(slots=True)
class OutputStats:
    """Counters for monitoring; slow consumers show up here, not as stalls."""

    frames: int = 0
    segments_local: int = 0
    parts_local: int = 0
    segments_uploaded: int = 0
    upload_failures: int = 0
    playlist_upload_failures: int = 0
    callback_failures: int = 0
    queue_high_water: int = 0
    backpressure_waits: int = 0
    upload_backlog_high_water: int = 0
    first_segment_seconds: float | None = None
    mirrors: tuple[MirrorStats, ...] = ()


@dataclass(frozen=True, slots=True)
class HLSResult:
    """What ``finish()`` returns.

    Attributes:
        playlist_path: The local playlist file.
        segments: Every segment in order.
        duration: Total duration in seconds.
        stats: Final counters.
        ipfs_playlist_cid: CID of the final IPFS playlist (IPFS output, all uploaded).
        ipfs_complete: True when every segment reached IPFS before the timeout.
        mirrors_complete: Per mirror, True when every file (and the final
            playlist) reached it before the timeout.
    """

    playlist_path: Path
    segments: tuple[Segment, ...]
    duration: float
    stats: OutputStats
    ipfs_playlist_cid: str | None = None
    ipfs_complete: bool = False
    mirrors_complete: tuple[bool, ...] = ()
