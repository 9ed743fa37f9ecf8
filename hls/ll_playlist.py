"""Low-Latency HLS (RFC 8216bis) additions to a media playlist: pure, no I/O.

:class:`LowLatencyParts` remembers the partial segments of the last segments
and renders the origin's playlist: the standard text of
:class:`hls.playlist.MediaPlaylist` plus ``EXT-X-SERVER-CONTROL``
(``CAN-BLOCK-RELOAD=YES``, ``PART-HOLD-BACK`` three part targets),
``EXT-X-PART-INF``, the ``EXT-X-PART`` tags of the last segments and of the
segment being written, and an ``EXT-X-PRELOAD-HINT`` naming the next part.
Part names are predictable (a hint names a part before it exists) and carry a
token of the stream so that a re-rendered run never reuses one.

An ended playlist is the standard one: the stream is complete, nothing is
worth waiting for. :func:`playlist_progress` reads back what a rendered
playlist holds, for blocking playlist reloads (``_HLS_msn``/``_HLS_part``).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from hls.errors import PlaylistError
from hls.playlist import MediaPlaylist

__all__ = [
    "PART_SEGMENTS",
    "SKIP_TARGETS",
    "LowLatencyParts",
    "PartEntry",
    "PlaylistProgress",
    "delta_update",
    "playlist_progress",
]

#: Delta updates skip segments older than this many target durations (the RFC's minimum).
SKIP_TARGETS = 6

#: Complete segments whose parts stay listed (with 2 s segments: 4 s, within the
#: three target durations RFC 8216bis allows).
PART_SEGMENTS = 2


@dataclass(frozen=True, slots=True)
class PartEntry:
    """A partial segment as the playlist lists it."""

    segment: int
    index: int
    uri: str
    duration: float
    independent: bool
    last: bool


def _decimal(value: float, *, up: bool = False) -> str:
    """Seconds with at most 5 decimals (rounded up when a bound must hold)."""
    scaled = value * 100000
    return f"{(math.ceil(scaled - 1e-6) if up else round(scaled)) / 100000:.5f}"


class LowLatencyParts:
    """The parts of a stream being written and the LL-HLS playlist they make.

    Args:
        part_target: Seconds of a full part (no part is longer).
        token: Alphanumeric token of this stream, part of every part name.
    """

    def __init__(self, part_target: float, token: str) -> None:
        if not part_target > 0:
            raise PlaylistError(f"part_target must be positive, got {part_target!r}")
        if not token.isalnum():
            raise PlaylistError(f"part name token {token!r} must be alphanumeric")
        self.part_target = part_target
        self._token = token
        self._parts: list[PartEntry] = []
        self._next = (0, 0)
        # the standard text, by segment count, and the joined lines before the parts
        self._cached: tuple[int, tuple[list[str], list[int], bool]] | None = None
        self._prefix: tuple[int, str] | None = None

    def part_uri(self, segment: int, index: int) -> str:
        """The name of part ``index`` of ``segment``."""
        return f"ll{self._token}s{segment}p{index}.m4s"

    def add(
        self, segment: int, index: int, duration: float, independent: bool, last: bool
    ) -> PartEntry:
        """Record the next part (in stream order) and return its entry.

        Raises:
            PlaylistError: Out of order, or longer than the part target.
        """
        if (segment, index) != self._next:
            raise PlaylistError(f"part {segment}.{index} out of order, expected {self._next}")
        if duration > self.part_target + 1e-9 or not duration > 0:
            raise PlaylistError(
                f"part {segment}.{index}: duration {duration!r} outside (0, {self.part_target}]"
            )
        entry = PartEntry(
            segment, index, self.part_uri(segment, index), duration, independent, last
        )
        self._parts.append(entry)
        self._next = (segment + 1, 0) if last else (segment, index + 1)
        return entry

    def prune(self, complete: int | None) -> list[str]:
        """Forget the parts of segments no longer listed; their names (files to delete).

        Args:
            complete: Segments complete (listed with EXTINF) now; ``None``: the
                stream ended, forget every part.
        """
        if complete is None:
            gone, self._parts = [p.uri for p in self._parts], []
            return gone
        keep_from = complete - PART_SEGMENTS
        gone = [p.uri for p in self._parts if p.segment < keep_from]
        self._parts = [p for p in self._parts if p.segment >= keep_from]
        return gone

    def render(self, playlist: MediaPlaylist) -> str:
        """The playlist with the LL-HLS tags; the standard text once it has ended.

        The standard text (and everything before the first segment with parts
        listed) is kept until a segment is added: a part costs only its tail.
        """
        if playlist.ended:
            return playlist.render()
        lines, extinf, has_map = self._base(playlist)
        by_segment: dict[int, list[str]] = {}
        for p in self._parts:
            tag = f'#EXT-X-PART:DURATION={_decimal(p.duration)},URI="{p.uri}"'
            by_segment.setdefault(p.segment, []).append(
                tag + (",INDEPENDENT=YES" if p.independent else "")
            )
        first = min(by_segment, default=playlist.media_sequence + len(extinf))
        cut = len(lines)
        if first - playlist.media_sequence < len(extinf):
            cut = extinf[max(first - playlist.media_sequence, 0)]
        if self._prefix is None or self._prefix[0] != cut:
            self._prefix = (cut, "".join(line + "\n" for line in lines[:cut]))
        out: list[str] = []
        seg = playlist.media_sequence + sum(1 for i in extinf if i < cut)
        for line in lines[cut:]:
            if line.startswith("#EXTINF:"):
                out += by_segment.pop(seg, [])
                seg += 1
            out.append(line)
        if not has_map:  # no complete segment yet: the model rendered no EXT-X-MAP
            if playlist.init_uri is None:
                raise PlaylistError("a playlist with parts needs its init segment (EXT-X-MAP)")
            out.append(f'#EXT-X-MAP:URI="{playlist.init_uri}"')
        out += by_segment.pop(playlist.media_sequence + len(extinf), [])
        out.append(f'#EXT-X-PRELOAD-HINT:TYPE=PART,URI="{self.part_uri(*self._next)}"')
        return self._prefix[1] + "\n".join(out) + "\n"

    def _base(self, playlist: MediaPlaylist) -> tuple[list[str], list[int], bool]:
        """The standard text's lines with the LL header tags, its EXTINF line numbers, and
        whether it has EXT-X-MAP; rebuilt when a segment was added."""
        count = len(playlist.segments)
        if self._cached is not None and self._cached[0] == count:
            return self._cached[1]
        lines: list[str] = []
        for line in playlist.render().rstrip("\n").split("\n"):
            lines.append(line)
            if line.startswith("#EXT-X-TARGETDURATION:"):
                target = _decimal(self.part_target, up=True)
                lines.append(
                    "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,"
                    f"PART-HOLD-BACK={_decimal(3 * float(target), up=True)},"
                    f"CAN-SKIP-UNTIL={SKIP_TARGETS * playlist.target_duration}"
                )
                lines.append(f"#EXT-X-PART-INF:PART-TARGET={target}")
        extinf = [i for i, line in enumerate(lines) if line.startswith("#EXTINF:")]
        has_map = any(line.startswith("#EXT-X-MAP") for line in lines)
        self._cached = (count, (lines, extinf, has_map))
        self._prefix = None
        return self._cached[1]


@dataclass(frozen=True, slots=True)
class PlaylistProgress:
    """What a rendered playlist holds, for blocking reloads.

    Attributes:
        low_latency: It advertises ``CAN-BLOCK-RELOAD=YES``.
        next_msn: Media sequence number of the first segment not listed complete.
        parts: Parts listed of segment ``next_msn`` (the one being written).
        ended: It has ``EXT-X-ENDLIST``.
        target_duration: ``EXT-X-TARGETDURATION`` seconds (0 if absent).
    """

    low_latency: bool
    next_msn: int
    parts: int
    ended: bool
    target_duration: int

    def has(self, msn: int, part: int | None) -> bool:
        """Whether segment ``msn`` (and its part ``part``) is in the playlist (or it ended)."""
        if self.ended or msn < self.next_msn:
            return True
        return part is not None and msn == self.next_msn and part < self.parts


_SEQUENCE = re.compile(rb"^#EXT-X-MEDIA-SEQUENCE:(\d+)", re.M)
_TARGET = re.compile(rb"^#EXT-X-TARGETDURATION:(\d+)", re.M)


def playlist_progress(text: bytes) -> PlaylistProgress:
    """Read :class:`PlaylistProgress` from a media playlist's bytes (any playlist parses).

    Header tags are looked for in the first 4 KiB, ENDLIST in the last bytes: a live
    playlist grows long and this runs for every blocking request.
    """
    head = text[:4096]
    sequence = _SEQUENCE.search(head)
    target = _TARGET.search(head)
    last_uri = text.rfind(b"\n#EXTINF:")
    tail = text[last_uri:] if last_uri >= 0 else text
    if last_uri >= 0:  # the parts after the last complete segment's URI line
        uri_end = tail.find(b"\n", tail.find(b"\n", 1) + 1)
        tail = tail[uri_end:] if uri_end >= 0 else b""
    return PlaylistProgress(
        low_latency=b"CAN-BLOCK-RELOAD=YES" in head,
        next_msn=(int(sequence.group(1)) if sequence else 0) + text.count(b"\n#EXTINF:"),
        parts=tail.count(b"\n#EXT-X-PART:"),
        ended=b"\n#EXT-X-ENDLIST" in text[-64:],
        target_duration=int(target.group(1)) if target else 0,
    )


_SKIP_UNTIL = re.compile(rb"CAN-SKIP-UNTIL=([0-9.]+)")
_SEGMENT_START = ("#EXT-X-MAP", "#EXT-X-PROGRAM-DATE-TIME", "#EXTINF", "#EXT-X-PART:")


def delta_update(text: bytes) -> bytes | None:
    """The delta update (``_HLS_skip=YES``) of a rendered LL playlist; None: nothing to skip.

    The segments that start more than ``CAN-SKIP-UNTIL`` seconds before the
    playlist's end are replaced by ``EXT-X-SKIP:SKIPPED-SEGMENTS=n`` (version 9);
    the init segment's ``EXT-X-MAP`` moves to the first segment kept.
    """
    until = _SKIP_UNTIL.search(text)
    if until is None or b"\n#EXT-X-ENDLIST" in text:
        return None
    lines = text.decode().rstrip("\n").split("\n")
    first = next((i for i, line in enumerate(lines) if line.startswith(_SEGMENT_START)), len(lines))
    header, blocks, block = lines[:first], [], []
    for line in lines[first:]:
        block.append(line)
        if line and not line.startswith("#"):  # a segment's URI closes its block
            blocks.append(block)
            block = []
    durations = [
        float(next(x for x in b if x.startswith("#EXTINF:"))[8:].split(",")[0]) for b in blocks
    ]
    keep, span = len(blocks), 0.0
    while keep > 0 and span < float(until.group(1)):
        keep -= 1
        span += durations[keep]
    if keep == 0:
        return None
    maps = [x for b in blocks[:keep] for x in b if x.startswith("#EXT-X-MAP")]
    kept = [[x for x in b if not x.startswith("#EXT-X-MAP")] for b in blocks[keep:]]
    header = ["#EXT-X-VERSION:9" if x.startswith("#EXT-X-VERSION:") else x for x in header]
    out = [*header, f"#EXT-X-SKIP:SKIPPED-SEGMENTS={keep}", *maps[-1:]]
    out += [x for b in kept for x in b] + block
    return ("\n".join(out) + "\n").encode()
