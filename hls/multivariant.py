"""Pure multivariant (master) playlist model for the ABR ladder, rendered with ``m3u8``.

No I/O: :class:`hls.ladder.LadderOutput` feeds it each rung's segments (bytes
and duration) and what :mod:`hls.segment_probe` measured; it renders the
EXT-X-STREAM-INF lines. BANDWIDTH is the peak segment bit rate and
AVERAGE-BANDWIDTH the mean over all segments so far (RFC 8216bis 4.4.6.2),
both of the whole segment (video and its muxed audio, container overhead
included), so they only grow more exact as segments arrive.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import m3u8

from hls.errors import PlaylistError

__all__ = ["MultivariantPlaylist", "VariantInfo", "VariantMeter"]


@dataclass(frozen=True, slots=True)
class VariantInfo:
    """One rendition as the multivariant playlist lists it.

    Attributes:
        uri: Its media playlist's name.
        width: RESOLUTION width.
        height: RESOLUTION height.
        codecs: CODECS value.
        frame_rate: FRAME-RATE (frames per second, measured).
        bandwidth: BANDWIDTH (peak bits/s).
        average_bandwidth: AVERAGE-BANDWIDTH (bits/s).
    """

    uri: str
    width: int
    height: int
    codecs: str
    frame_rate: float
    bandwidth: int
    average_bandwidth: int


@dataclass(slots=True)
class VariantMeter:
    """Bit rates of one rendition, segment by segment.

    Attributes:
        bits: Bits of all segments so far.
        seconds: Their total duration.
        peak: Highest single-segment bit rate (bits/s).
        frames: Video frames so far.
        sizes: Each segment's size in bytes, in order (how many were measured).
    """

    bits: int = 0
    seconds: float = 0.0
    peak: float = 0.0
    frames: int = 0
    sizes: list[int] = field(default_factory=list)

    def add(self, size: int, duration: float, frames: int) -> None:
        """Count one segment of ``size`` bytes lasting ``duration`` seconds."""
        if duration <= 0 or size < 0:
            raise PlaylistError(f"bad segment: {size} bytes over {duration!r} s")
        self.bits += size * 8
        self.seconds += duration
        self.peak = max(self.peak, size * 8 / duration)
        self.frames += frames
        self.sizes.append(size)

    @property
    def average(self) -> float:
        """Mean bits/s over every segment so far (0 before the first)."""
        return self.bits / self.seconds if self.seconds else 0.0

    @property
    def frame_rate(self) -> float:
        """Frames per second over every segment so far."""
        return self.frames / self.seconds if self.seconds else 0.0


class MultivariantPlaylist:
    """The ladder's multivariant playlist: one EXT-X-STREAM-INF per rendition, top first.

    Args:
        order: The media playlist names in the order to list them.
    """

    def __init__(self, order: tuple[str, ...]) -> None:
        if not order or len(set(order)) != len(order):
            raise PlaylistError(f"bad rendition list {order!r}")
        self._order = order
        self._variants: dict[str, VariantInfo] = {}

    @property
    def complete(self) -> bool:
        """True once every rendition has been measured (the playlist lists them all)."""
        return len(self._variants) == len(self._order)

    @property
    def variants(self) -> tuple[VariantInfo, ...]:
        """The measured renditions, in listing order."""
        return tuple(self._variants[n] for n in self._order if n in self._variants)

    def set(self, variant: VariantInfo) -> None:
        """Add or update one rendition's attributes."""
        if variant.uri not in self._order:
            raise PlaylistError(f"{variant.uri!r} is not a rendition of this ladder")
        self._variants[variant.uri] = variant

    def render(self, resolve_uri: Callable[[str], str] = str) -> str:
        """The playlist text (newline-terminated); media playlist names go through ``resolve_uri``."""
        pl = m3u8.M3U8()
        pl.version = 3
        pl.is_independent_segments = True
        for v in self.variants:
            pl.add_playlist(
                m3u8.Playlist(
                    resolve_uri(v.uri),
                    stream_info={
                        "bandwidth": max(v.bandwidth, 1),
                        "average_bandwidth": max(v.average_bandwidth, 1),
                        "resolution": f"{v.width}x{v.height}",
                        "codecs": v.codecs,
                        "frame_rate": round(v.frame_rate, 3),
                    },
                    media=[],
                    base_uri=None,
                )
            )
        text: str = pl.dumps()
        return text if text.endswith("\n") else text + "\n"
