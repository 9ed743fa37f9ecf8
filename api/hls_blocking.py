"""Blocking playlist reloads of Low-Latency HLS (RFC 8216bis 6.2.5.2): what to wait for.

A player asks for ``playlist.m3u8?_HLS_msn=M[&_HLS_part=N]``: the answer is the
first playlist that holds segment ``M`` (and its part ``N``), or any later one.
This module checks the parameters against the playlist served now and says
what to wait for and how long (three target durations); the wait itself is
:meth:`streamer.content.live_hls.LiveHlsFiles.wait_playlist`. A playlist that is
not Low-Latency (no ``CAN-BLOCK-RELOAD=YES``) or has ended is answered at once.
A request for the part an ``EXT-X-PRELOAD-HINT`` names, before it exists, waits
for it the same way (:func:`hinted_part_wait`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Annotated

from litestar.params import QueryParameter

from api.errors import BadRequest
from api.openapi_errors import error_answers
from hls.ll_playlist import delta_update, playlist_progress
from streamer.content.live_hls import HlsFile

__all__ = [
    "ADVANCE_PART_LIMIT",
    "BLOCKING_ANSWERS",
    "SKIP_VALUES",
    "BlockingWait",
    "HlsMsnQuery",
    "HlsPartQuery",
    "HlsSkipQuery",
    "blocking_request",
    "delta_file",
    "hinted_part_wait",
]

#: Parts beyond the last one listed a request may ask for (RFC 8216bis: 400 beyond).
ADVANCE_PART_LIMIT = 3

HlsMsnQuery = Annotated[
    int | None,
    QueryParameter(
        query="_HLS_msn",
        ge=0,
        le=2**31,
        description="LL-HLS blocking reload: answer once the playlist holds this media "
        "sequence number (at most two past the last one; 400 beyond).",
    ),
]
HlsPartQuery = Annotated[
    int | None,
    QueryParameter(
        query="_HLS_part",
        ge=0,
        le=2**31,
        description="With `_HLS_msn`: answer once that segment's part of this index is listed.",
    ),
]
HlsSkipQuery = Annotated[
    str | None,
    QueryParameter(
        query="_HLS_skip",
        max_length=8,
        description="`YES` or `v2`: a delta update (RFC 8216bis `EXT-X-SKIP`) when the "
        "playlist advertises `CAN-SKIP-UNTIL` and has segments older than that; other values "
        "are ignored.",
    ),
]

BLOCKING_ANSWERS = error_answers(
    (400, "`_HLS_part` without `_HLS_msn`, or a segment/part too far ahead of the playlist"),
    (503, "the requested segment or part did not appear within three target durations"),
)


@dataclass(frozen=True, slots=True)
class BlockingWait:
    """What a blocking reload waits for: ``ready`` on a playlist version, ``timeout`` s at most."""

    ready: Callable[[HlsFile], bool]
    timeout: float


#: The name of a part (:meth:`hls.ll_playlist.LowLatencyParts.part_uri`).
PART_NAME = re.compile(r"^ll[0-9a-f]{8}s[0-9]{1,9}p[0-9]{1,6}\.m4s$")


def hinted_part_wait(file: HlsFile, name: str) -> BlockingWait | None:
    """The wait for a part requested before it exists (a preload hint); ``None``: 404 now.

    Only a part the live LL playlist hints (or will list soon) is waited for.
    """
    body = file.body or b""
    progress = playlist_progress(body)
    if not PART_NAME.match(name) or not progress.low_latency or progress.ended:
        return None
    if f'#EXT-X-PRELOAD-HINT:TYPE=PART,URI="{name}"'.encode() not in body:
        return None
    listed = re.compile(rb'^#EXT-X-PART:[^\n]*URI="' + re.escape(name.encode()) + rb'"', re.M)

    def ready(version: HlsFile) -> bool:
        text = version.body or b""
        return listed.search(text) is not None or b"#EXT-X-ENDLIST" in text

    return BlockingWait(ready, 3.0 * max(progress.target_duration, 1))


def blocking_request(file: HlsFile, msn: int | None, part: int | None) -> BlockingWait | None:
    """The wait a request asks for; ``None``: answer ``file`` now.

    Raises:
        BadRequest: ``_HLS_part`` without ``_HLS_msn``, or a request too far ahead.
    """
    if msn is None:
        if part is not None:
            raise BadRequest("_HLS_part needs _HLS_msn", field="_HLS_part")
        return None
    progress = playlist_progress(file.body or b"")
    if not progress.low_latency or progress.has(msn, part):
        return None
    if msn > progress.next_msn + 1:
        raise BadRequest(
            f"_HLS_msn={msn} is more than two segments past the playlist's last one "
            f"({progress.next_msn - 1})",
            field="_HLS_msn",
        )
    listed = progress.parts if msn == progress.next_msn else 0
    if part is not None and part > listed + ADVANCE_PART_LIMIT:
        raise BadRequest(
            f"_HLS_part={part} is more than {ADVANCE_PART_LIMIT} parts past the last one listed",
            field="_HLS_part",
        )

    def ready(version: HlsFile) -> bool:
        return playlist_progress(version.body or b"").has(msn, part)

    return BlockingWait(ready, 3.0 * max(progress.target_duration, 1))


#: ``_HLS_skip`` values that ask for a delta update.
SKIP_VALUES = ("YES", "v2")


def delta_file(file: HlsFile) -> HlsFile:
    """The delta update of the playlist ``file`` (``EXT-X-SKIP``), or ``file`` without one.

    The delta has an ETag of its own (the full playlist's, marked), so a 304 never
    confuses the two.
    """
    delta = delta_update(file.body) if file.body is not None else None
    if delta is None:
        return file
    return replace(file, body=delta, etag=file.etag[:-1] + '-skip"', size=len(delta))
