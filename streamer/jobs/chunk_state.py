"""A chunked live run's shared state in Redis: its plan, finished chunks, claims.

One hash per run (:meth:`streamer.keys.RedisKeys.chunks`):

- ``meta``: the :class:`ChunkMeta` JSON (written once by the run's owner);
- ``done:<i>``: chunk ``i``'s segments (:class:`ChunkDone` JSON), written by
  whichever worker rendered it (a re-render writes the same bytes and names);
- ``started:<i>``: set when a worker claims chunk ``i``; a supervisor that
  finds it set with no live claim re-enqueues the chunk (deleting the field
  first, so one supervisor does);
- ``tries:<i>``: attempts enqueued (the next job id);
- ``listed``: segments listed in the playlist so far;
- ``paced_from``: a paced run's pacing start (Redis clock, when its first
  segment was listed).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from effects.frame import AudioFormat, VideoFormat
from streamer.jobs.claims import holder
from streamer.keys import RedisKeys

log = logging.getLogger(__name__)

__all__ = [
    "CHUNK_CLAIM_TTL",
    "MAX_CHUNK_TRIES",
    "ChunkDone",
    "ChunkMeta",
    "SegmentRecord",
    "as_text",
    "done_chunks",
    "load_meta",
    "mark_done",
    "parse_done",
    "save_meta",
    "waiting_for_worker",
]

CHUNK_CLAIM_TTL = 15.0
"""Seconds a chunk (or owner) claim lives without a heartbeat; renewed every third of it."""


MAX_CHUNK_TRIES = 5
"""Attempts at one chunk before the run fails (a chunk that always fails is a bad run)."""


@dataclass(frozen=True, slots=True)
class ChunkMeta:
    """The plan of a chunked run, fixed when it starts.

    Attributes:
        chunks: Number of chunks.
        chunk_segments: Segments per chunk.
        total_frames: Output frames.
        target_duration: Longest segment in seconds (EXT-X-TARGETDURATION).
        started: Wall-clock start (ISO 8601) for PROGRAM-DATE-TIME.
        video: The output's ``VideoFormat`` fields (width, height, fps_num,
            fps_den, sar_num, sar_den).
        audio: The output's ``AudioFormat`` fields (sample_rate, channels), or None.
        duration: The run's ``duration`` argument (None: the recipe's own length).
        segment_seconds: ``HLS_SEGMENT_SECONDS`` of the owner (every chunk
            uses the owner's, so workers configured otherwise still agree).
        preset: ``HLS_X264_PRESET`` of the owner.
        pace: The run's ``pace`` (list no faster than this multiple of real
            time; None: list as soon as rendered).
        container: ``mpegts`` or ``fmp4`` (``HLS_CONTAINER`` of the owner).
    """

    chunks: int
    chunk_segments: int
    total_frames: int
    target_duration: float
    started: str
    video: tuple[int, ...]
    audio: tuple[int, ...] | None
    duration: float | None = None
    segment_seconds: float = 2.0
    preset: str = "veryfast"
    pace: float | None = None
    container: str = "mpegts"

    @property
    def video_format(self) -> VideoFormat:
        """The output's video format."""
        return VideoFormat(*self.video)

    @property
    def audio_format(self) -> AudioFormat | None:
        """The output's audio format (None: no audio)."""
        return None if self.audio is None else AudioFormat(*self.audio)


@dataclass(frozen=True, slots=True)
class SegmentRecord:
    """One written segment: its file name (content id + extension) and timing."""

    name: str
    index: int
    duration: float
    start_time: float


@dataclass(frozen=True, slots=True)
class ChunkDone:
    """A finished chunk: its segments in order, who rendered it and, for fMP4, the file
    name of its init segment (every chunk's is the same)."""

    index: int
    segments: tuple[SegmentRecord, ...]
    worker: str
    init: str | None = None


def as_text(value: Any) -> str:
    """A Redis reply (bytes or str) as text."""
    return value.decode() if isinstance(value, bytes) else str(value)


async def save_meta(redis: Any, keys: RedisKeys, run_id: str, meta: ChunkMeta) -> bool:
    """Store the run's plan unless one exists; True when this call stored it."""
    return bool(await redis.hsetnx(keys.chunks(run_id), "meta", json.dumps(asdict(meta))))


async def load_meta(redis: Any, keys: RedisKeys, run_id: str) -> ChunkMeta | None:
    """The run's plan, or None before the owner stored it."""
    raw = await redis.hget(keys.chunks(run_id), "meta")
    if raw is None:
        return None
    body = json.loads(as_text(raw))
    body["video"] = tuple(body["video"])
    body["audio"] = None if body["audio"] is None else tuple(body["audio"])
    return ChunkMeta(**body)


async def mark_done(redis: Any, keys: RedisKeys, run_id: str, done: ChunkDone) -> None:
    """Record a finished chunk (idempotent: a re-render has the same segments)."""
    body = {
        "index": done.index,
        "worker": done.worker,
        "segments": [asdict(s) for s in done.segments],
        "init": done.init,
    }
    await redis.hset(keys.chunks(run_id), f"done:{done.index}", json.dumps(body))


async def done_chunks(redis: Any, keys: RedisKeys, run_id: str) -> dict[int, ChunkDone]:
    """Every finished chunk of the run by index."""
    return parse_done(await redis.hgetall(keys.chunks(run_id)))


def parse_done(fields: Mapping[Any, Any]) -> dict[int, ChunkDone]:
    """The finished chunks in a run's chunk table as read (``HGETALL``), by index."""
    out: dict[int, ChunkDone] = {}
    for name, raw in fields.items():
        if not as_text(name).startswith("done:"):
            continue
        body = json.loads(as_text(raw))
        segments = tuple(SegmentRecord(**s) for s in body["segments"])
        index, init = int(body["index"]), body.get("init")
        out[index] = ChunkDone(index, segments, str(body["worker"]), init)
    return out


async def waiting_for_worker(redis: Any, keys: RedisKeys, run_id: str) -> bool:
    """Whether a chunked run has chunks left and nobody holds a claim on it or them.

    False for a run that is not chunked (no plan stored) or whose chunks are all done,
    and while Redis is unreachable (unknown: the run's row in PostgreSQL still answers).
    """
    try:
        return await _waiting(redis, keys, run_id)
    except (RedisConnectionError, RedisTimeoutError) as exc:
        log.debug("run %s: chunk claims unknown while Redis is down: %s", run_id, exc)
        return False


async def _waiting(redis: Any, keys: RedisKeys, run_id: str) -> bool:
    meta = await load_meta(redis, keys, run_id)
    if meta is None:
        return False
    done = await done_chunks(redis, keys, run_id)
    left = [i for i in range(meta.chunks) if i not in done]
    if not left:
        return False
    if await holder(redis, keys.chunk_owner(run_id)) is not None:
        return False
    for i in left:
        if await holder(redis, keys.chunk_claim(run_id, i)) is not None:
            return False
    return True
