"""Pure HLS media playlist model (RFC 8216) rendered with the ``m3u8`` package.

No I/O: the writers own files; this module only decides what the playlist says.
An EVENT playlist only ever appends, so the media sequence stays at its start
value and a segment once listed is never dropped or renamed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import m3u8

from hls.errors import PlaylistError

__all__ = ["MediaPlaylist", "Segment"]


@dataclass(frozen=True, slots=True)
class Segment:
    """One media segment as the playlist sees it.

    Attributes:
        uri: The segment's name (its content id plus extension); rendered through
            ``resolve_uri``.
        duration: Exact duration in seconds (from frame counts / pts).
        index: Zero-based position in the stream.
        start_time: Presentation start in seconds from the stream start.
    """

    uri: str
    duration: float
    index: int
    start_time: float


class MediaPlaylist:
    """An append-only EVENT media playlist that gains ENDLIST at the end.

    Args:
        target_duration: Nominal target in seconds; the rendered
            EXT-X-TARGETDURATION is ``max(ceil(target_duration), ceil(max EXTINF))``.
            Pass the longest possible segment so the tag never changes while live.
        start: Wall-clock time of the first frame, for EXT-X-PROGRAM-DATE-TIME
            (timezone-aware).
        init_uri: Name of the fMP4 init segment; ``None`` for MPEG-TS.
        media_sequence: EXT-X-MEDIA-SEQUENCE of the first segment.
    """

    def __init__(
        self,
        target_duration: float,
        start: datetime,
        init_uri: str | None = None,
        media_sequence: int = 0,
    ) -> None:
        if target_duration <= 0:
            raise PlaylistError(f"target_duration must be positive, got {target_duration!r}")
        if start.tzinfo is None:
            raise PlaylistError("start must be timezone-aware for EXT-X-PROGRAM-DATE-TIME")
        if media_sequence < 0:
            raise PlaylistError(f"media_sequence must be >= 0, got {media_sequence}")
        self._nominal = target_duration
        self._start = start
        self._init_uri = init_uri
        self._media_sequence = media_sequence
        self._segments: list[Segment] = []
        self._ended = False

    @property
    def segments(self) -> tuple[Segment, ...]:
        """Segments in stream order."""
        return tuple(self._segments)

    @property
    def ended(self) -> bool:
        """True once :meth:`end` was called (EXT-X-ENDLIST is rendered)."""
        return self._ended

    @property
    def media_sequence(self) -> int:
        """EXT-X-MEDIA-SEQUENCE; constant for an EVENT playlist."""
        return self._media_sequence

    @property
    def init_uri(self) -> str | None:
        """The fMP4 init segment name, if any."""
        return self._init_uri

    @property
    def version(self) -> int:
        """EXT-X-VERSION for the features used.

        3 for decimal EXTINF; 7 with fMP4 (EXT-X-MAP outside I-frame playlists
        needs 6, Apple's fMP4 rules ask for 7).
        """
        return 7 if self._init_uri is not None else 3

    @property
    def target_duration(self) -> int:
        """EXT-X-TARGETDURATION: ceil of the longest EXTINF, never below the nominal."""
        longest = max((s.duration for s in self._segments), default=0.0)
        # Round away float noise (2.0000000001) before ceil so 2 s stays 2.
        return max(math.ceil(round(self._nominal, 6)), math.ceil(round(longest, 6)), 1)

    @property
    def duration(self) -> float:
        """Sum of all segment durations in seconds."""
        return math.fsum(s.duration for s in self._segments)

    def set_init_uri(self, uri: str) -> None:
        """Set the fMP4 init segment name (once, before the first segment)."""
        if self._segments and self._init_uri != uri:
            raise PlaylistError("the init segment cannot change after segments were added")
        self._init_uri = uri

    def add(self, segment: Segment) -> None:
        """Append the next segment.

        Raises:
            PlaylistError: After :meth:`end`, out of order, or a non-positive duration.
        """
        if self._ended:
            raise PlaylistError(f"segment {segment.index} added after ENDLIST")
        expected = len(self._segments)
        if segment.index != expected:
            raise PlaylistError(f"segment index {segment.index} out of order, expected {expected}")
        if not segment.duration > 0:
            raise PlaylistError(f"segment {segment.index}: duration {segment.duration!r} <= 0")
        if not segment.uri:
            raise PlaylistError(f"segment {segment.index}: empty uri")
        self._segments.append(segment)

    def end(self) -> None:
        """Mark the stream complete: EXT-X-ENDLIST is rendered from now on."""
        self._ended = True

    def render(
        self,
        resolve_uri: Callable[[str], str] = str,
        count: int | None = None,
        ended: bool | None = None,
    ) -> str:
        """Render the playlist text.

        Args:
            resolve_uri: Maps a segment or init name to the URI written in the
                playlist (identity for local files, ``/ipfs/<cid>`` for IPFS).
            count: List only the first ``count`` segments (a prefix, never a gap);
                ``None`` lists all.
            ended: Override whether ENDLIST is written; by default only when the
                model is ended and every segment is listed.

        Returns:
            The playlist as text, newline-terminated.
        """
        segments = self._segments if count is None else self._segments[: max(count, 0)]
        if ended is None:
            ended = self._ended and len(segments) == len(self._segments)
        pl = m3u8.M3U8()
        pl.version = self.version
        pl.is_independent_segments = True
        pl.target_duration = self.target_duration
        pl.media_sequence = self._media_sequence
        pl.playlist_type = "event"
        pl.is_endlist = ended
        init = {"uri": resolve_uri(self._init_uri)} if self._init_uri is not None else None
        for seg in segments:
            pl.add_segment(
                m3u8.Segment(
                    uri=resolve_uri(seg.uri),
                    duration=round(seg.duration, 6),
                    program_date_time=self._start + timedelta(seconds=seg.start_time),
                    init_section=init,
                )
            )
        text: str = pl.dumps(infspec="microseconds")
        return text if text.endswith("\n") else text + "\n"
