"""Listing and supervising a chunked live run; whoever can, does.

:func:`list_ready` writes the run's playlist for the complete prefix of
chunks (segments strictly in order, an EVENT playlist that only grows,
ENDLIST once every chunk is done) under a short Redis lock, then updates the
run row and publishes a playlist event per new segment. It is idempotent and
runs after every finished chunk and in the owner's loop, so the stream goes
on when the owner's worker dies. The caller that lists the last segment
completes the run (:func:`complete`: segments kept, provenance, ``completed``).

:func:`supervise` re-enqueues a chunk whose worker stopped renewing its claim
(a claimed chunk with no live claim and no result) under a new job id (arq's
own lock on the dead job lasts its timeout).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from pathlib import Path
from typing import Any

from arq.constants import in_progress_key_prefix

from cache.errors import StorageError
from hls.playlist import MediaPlaylist, Segment
from hls.segment_files import atomic_write
from streamer.content.primary import SharedDocs
from streamer.content.provenance import record_render_provenance
from streamer.content.stores import hls_dir
from streamer.db import runs as runs_db
from streamer.jobs.chunk_state import (
    CHUNK_CLAIM_TTL,
    MAX_CHUNK_TRIES,
    ChunkDone,
    ChunkMeta,
    SegmentRecord,
    as_text,
    done_chunks,
    load_meta,
    parse_done,
)
from streamer.jobs.claims import claim, new_token, release
from streamer.jobs.render_inputs import keep_segments
from streamer.jobs.replicate import replicate_after_completion
from streamer.jobs.wake import enqueue_job
from streamer.keys import RedisKeys
from streamer.resources import Resources
from streamer.runs.events import PlaylistEvent, StatusEvent, publish_event
from streamer.runs.status import TERMINAL_STATUSES, RunStatus

__all__ = [
    "PLAYLIST_NAME",
    "STATE_TTL_SECONDS",
    "Listing",
    "close_listing",
    "complete",
    "list_ready",
    "supervise",
]

log = logging.getLogger(__name__)

PLAYLIST_NAME = "playlist.m3u8"
STATE_TTL_SECONDS = 24 * 3600
"""How long a finished run's chunk state stays in Redis (``waiting_for_worker``, debugging)."""
_LOCK_WAIT = 10.0
COMPLETE_GUARD_SECONDS = 60.0
"""How long one caller of :func:`complete` has before another may complete the run."""


class Listing:
    """What :func:`list_ready` found: segments listed and whether the stream ended.

    ``next_due`` is, for a paced run holding back rendered segments, the seconds
    until the next one may be listed (None: nothing held back).
    """

    def __init__(
        self, listed: int, ended: bool, newly_ended: bool, next_due: float | None = None
    ) -> None:
        self.listed = listed
        self.ended = ended
        self.newly_ended = newly_ended
        self.next_due = next_due


async def _redis_now(redis: Any) -> float:
    """Redis's clock (one clock for every node of the cluster)."""
    sec, usec = await redis.time()
    return float(sec) + float(usec) / 1e6


async def _paced(
    redis: Any, keys: RedisKeys, run_id: str, meta: ChunkMeta, segments: list[SegmentRecord]
) -> tuple[list[SegmentRecord], float | None]:
    """The share of ``segments`` a run paced at ``meta.pace`` may list now, and when the
    next one is due (seconds; None when none is held back).

    As a single-job paced run: the first segment is listed as soon as it is
    rendered (the pacing starts then, ``paced_from`` in the chunk table), each
    next one once its end is due, ``(end - first end) / pace`` seconds after.
    """
    if meta.pace is None or not segments:
        return segments, None
    now = await _redis_now(redis)
    table = keys.chunks(run_id)
    await redis.hsetnx(table, "paced_from", repr(now))
    start = float(as_text(await redis.hget(table, "paced_from")))
    first_end = segments[0].start_time + segments[0].duration
    media_now = (now - start) * meta.pace + first_end + 1e-6
    allowed = [s for s in segments if s.start_time + s.duration <= media_now]
    allowed = allowed or segments[:1]
    if len(allowed) == len(segments):
        return allowed, None
    held = segments[len(allowed)]
    return allowed, max(0.0, (held.start_time + held.duration - media_now) / meta.pace)


def _prefix(meta: ChunkMeta, done: dict[int, Any]) -> tuple[list[SegmentRecord], bool]:
    segments: list[SegmentRecord] = []
    for i in range(meta.chunks):
        if i not in done:
            return segments, False
        segments.extend(done[i].segments)
    return segments, True


def _init_name(done: dict[int, ChunkDone]) -> str | None:
    """The fMP4 init segment's file name (chunk 0's; every chunk writes the same)."""
    first = done.get(0)
    return None if first is None else first.init


def playlist_text(
    meta: ChunkMeta, segments: list[SegmentRecord], ended: bool, init: str | None = None
) -> str:
    """The playlist listing ``segments`` (a complete prefix), ENDLIST when ``ended``;
    ``init``: the fMP4 init segment (EXT-X-MAP)."""
    started = dt.datetime.fromisoformat(meta.started)
    playlist = MediaPlaylist(meta.target_duration, started, init_uri=init)
    for s in segments:
        playlist.add(
            Segment(uri=s.name, duration=s.duration, index=s.index, start_time=s.start_time)
        )
    if ended:
        playlist.end()
    return playlist.render()


async def _lock(res: Resources, run_id: str, token: str) -> bool:
    key = res.keys.chunk_listing(run_id)
    deadline = asyncio.get_running_loop().time() + _LOCK_WAIT
    while not await res.redis.set(key, token, nx=True, px=round(_LOCK_WAIT * 1000)):
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


async def list_ready(res: Resources, run_id: str) -> Listing:
    """List every segment of the complete prefix of chunks; see the module doc."""
    redis: Any = res.redis  # redis-py's stubs type every command as sync or async
    keys = res.keys
    meta = await load_meta(redis, keys, run_id)
    if meta is None:
        return Listing(0, False, False)
    token = new_token()
    if not await _lock(res, run_id, token):
        return Listing(0, False, False)  # a stuck lister: the next call lists
    try:
        if await redis.hexists(keys.chunks(run_id), "closed"):  # cancelled or failed
            return Listing(0, False, False)
        done = await done_chunks(redis, keys, run_id)
        rendered, ended = _prefix(meta, done)
        segments, next_due = await _paced(redis, keys, run_id, meta, rendered)
        ended = ended and len(segments) == len(rendered)
        before = int(await redis.hget(keys.chunks(run_id), "listed") or 0)
        if len(segments) < before or (len(segments) == before and not ended):
            return Listing(before, False, False, next_due)
        was_ended = bool(await redis.hexists(keys.chunks(run_id), "ended"))
        text = playlist_text(meta, segments, ended, _init_name(done))
        out_dir = hls_dir(res.settings, run_id)
        await asyncio.to_thread(out_dir.mkdir, parents=True, exist_ok=True)
        await asyncio.to_thread(atomic_write, out_dir / PLAYLIST_NAME, text.encode())
        await redis.hset(keys.chunks(run_id), "listed", str(len(segments)))
        if ended:
            await redis.hset(keys.chunks(run_id), "ended", "1")
    finally:
        await release(redis, keys.chunk_listing(run_id), token)
    playlist_cid = await _share_playlist(res, run_id, text.encode())
    # a slower lister must not set an older playlist over a newer one (complete() sets the
    # final one)
    if playlist_cid is not None and not ended and await _listed(res, run_id) != len(segments):
        playlist_cid = None
    await _announce(res, run_id, meta, segments, before, ended, playlist_cid)
    return Listing(len(segments), ended, ended and not was_ended, next_due)


async def _listed(res: Resources, run_id: str) -> int:
    redis: Any = res.redis
    return int(await redis.hget(res.keys.chunks(run_id), "listed") or 0)


async def _share_playlist(res: Resources, run_id: str, playlist: bytes) -> str | None:
    """IPFS-primary: the playlist on IPFS too (pinned); its CID, or None (off, or IPFS down:
    the local listing stands and the next listing adds its own playlist)."""
    try:
        return await SharedDocs(res.stores, res.db, res.settings.ipfs.primary).add(
            playlist, f"run {run_id} playlist"
        )
    except StorageError as exc:
        log.warning("run %s: playlist not added to IPFS: %s", run_id, exc)
        return None


async def _gather_segments(res: Resources, run_id: str, out_dir: Path, playlist: bytes) -> None:
    """IPFS-primary: copy into ``out_dir`` the listed segments other nodes rendered.

    Segment names are their CIDs: each is read through the local cache from IPFS.

    Raises:
        StorageError: a segment is neither here nor on IPFS (or the node did not answer).
    """
    if not res.settings.ipfs.primary:
        return
    for line in playlist.decode().splitlines():
        if line.startswith("#EXT-X-MAP:"):  # fMP4: the init segment, named by its CID too
            line = line.split('URI="', 1)[1].split('"', 1)[0]
        if not line or line.startswith("#"):
            continue
        target = out_dir / line
        if await asyncio.to_thread(target.is_file):
            continue
        path = await res.stores.read_through.path(line.rsplit(".", 1)[0], f"run {run_id} {line}")
        data = await asyncio.to_thread(path.read_bytes)
        await asyncio.to_thread(atomic_write, target, data)


async def _announce(
    res: Resources,
    run_id: str,
    meta: ChunkMeta,
    segments: list[SegmentRecord],
    before: int,
    ended: bool,
    playlist_cid: str | None = None,
) -> None:
    fields: dict[str, Any] = {"segment_count": len(segments)}
    if playlist_cid is not None:
        fields["playlist_cid"] = playlist_cid
    if segments:  # the listed share of the output
        v = meta.video_format
        seconds = meta.total_frames * v.fps_den / v.fps_num
        last = segments[-1]
        fields["progress"] = min(1.0, (last.start_time + last.duration) / seconds)
    run = await runs_db.get_run(res.db, run_id)
    if run is not None and run["status"] == RunStatus.PENDING:
        fields["status"] = RunStatus.RUNNING
    await runs_db.update_run(res.db, run_id, **fields)
    for s in segments[before:]:
        event = PlaylistEvent(
            playlist_cid=playlist_cid,
            segment_cid=s.name.rsplit(".", 1)[0],
            index=s.index,
            duration=s.duration,
            segment_count=s.index + 1,
            ended=ended and s.index == len(segments) - 1,
            ipfs=playlist_cid is not None,
        )
        try:
            await publish_event(res.redis, res.keys, run_id, event)
        except Exception as exc:  # live subscribers are optional
            log.warning("run %s: playlist event not published: %s", run_id, exc)


async def close_listing(res: Resources, run_id: str) -> None:
    """A run stopped early (cancelled, failed): ENDLIST after what is listed; state expires."""
    redis: Any = res.redis
    keys = res.keys
    meta = await load_meta(redis, keys, run_id)
    if meta is not None:
        token = new_token()
        if await _lock(res, run_id, token):
            try:
                done = await done_chunks(redis, keys, run_id)
                segments, _ = _prefix(meta, done)
                listed = int(await redis.hget(keys.chunks(run_id), "listed") or 0)
                text = playlist_text(meta, segments[:listed], True, _init_name(done))
                path = hls_dir(res.settings, run_id) / PLAYLIST_NAME
                if listed:
                    await asyncio.to_thread(atomic_write, path, text.encode())
                await redis.hset(keys.chunks(run_id), "closed", "1")
            finally:
                await release(redis, keys.chunk_listing(run_id), token)
    await redis.expire(keys.chunks(run_id), STATE_TTL_SECONDS)


async def complete(res: Resources, run_id: str, job_id: str) -> dict[str, Any]:
    """The stream ended: keep its segments, record provenance, mark the run ``completed``.

    One caller at a time does it (a short claim: one that died meanwhile is
    followed by the next caller once the claim lapsed).
    """
    redis: Any = res.redis
    guard = f"{res.keys.chunks(run_id)}:complete"
    if not await claim(redis, guard, new_token(), COMPLETE_GUARD_SECONDS):
        return {"run_id": run_id, "status": "completing elsewhere"}
    await redis.expire(res.keys.chunks(run_id), STATE_TTL_SECONDS)
    out_dir = hls_dir(res.settings, run_id)
    run = await runs_db.get_run(res.db, run_id)
    if run is None or run["status"] in TERMINAL_STATUSES:
        return {"run_id": run_id, "status": None if run is None else run["status"]}
    playlist = await asyncio.to_thread((out_dir / PLAYLIST_NAME).read_bytes)
    try:
        await _gather_segments(res, run_id, out_dir, playlist)
    except StorageError as exc:  # IPFS-primary: what other nodes rendered cannot be read
        error = f"the run's segments could not be gathered from IPFS: {exc}"
        log.error("run %s: %s", run_id, error)
        await runs_db.update_run(res.db, run_id, status=RunStatus.FAILED, error=error[:2000])
        return {"run_id": run_id, "status": str(RunStatus.FAILED), "error": error}
    try:
        await keep_segments(res.stores, out_dir)
    except OSError as exc:
        log.warning("run %s: segments not copied into the content store: %s", run_id, exc)
    item = await res.stores.local.aput_bytes(playlist, suffix=".m3u8")
    final: dict[str, Any] = {}
    if (playlist_cid := await _share_playlist(res, run_id, playlist)) is not None:
        final["playlist_cid"] = playlist_cid  # the ended playlist, whoever listed last
    try:
        await record_render_provenance(res, run, item.cid, job_id=job_id)
    except Exception as exc:  # the render succeeded; a missing record is logged
        log.exception("run %s: provenance not recorded: %s", run_id, exc)
    await runs_db.update_run(
        res.db, run_id, status=RunStatus.COMPLETED, output_cid=item.cid, progress=1.0, **final
    )
    try:
        await publish_event(
            res.redis, res.keys, run_id, StatusEvent(RunStatus.COMPLETED, output_cid=item.cid)
        )
    except Exception as exc:
        log.warning("run %s: status event not published: %s", run_id, exc)
    await replicate_after_completion(res, run_id)  # copies to storage providers
    return {"run_id": run_id, "status": str(RunStatus.COMPLETED), "output_cid": item.cid}


async def _abandoned(
    redis: Any, keys: RedisKeys, run_id: str, i: int, fields: dict[str, str]
) -> bool:
    """Whether unclaimed chunk ``i`` lost its worker; True for exactly one caller.

    Either a worker claimed it and stopped renewing (or failed) without a
    result, or a worker picked its job and died before claiming it (arq's
    in-progress lock then holds the job for its whole timeout): a job seen in
    progress without a claim for longer than a claim lives. ``fields`` is the
    run's chunk table as read this round: a field it lacks is not asked for
    again (a queued chunk costs one ``EXISTS``); the decisions stay atomic
    ``HDEL``s, and a field set since is seen next round.
    """
    table = keys.chunks(run_id)
    if f"started:{i}" in fields and await redis.hdel(table, f"started:{i}") == 1:
        return True
    attempt = int(fields.get(f"tries:{i}") or 0)
    job = keys.chunk_job_id(run_id, i, attempt)
    if not await redis.exists(in_progress_key_prefix + job):
        if f"orphan:{i}" in fields:
            await redis.hdel(table, f"orphan:{i}")
        return False
    now = time.time()
    await redis.hsetnx(table, f"orphan:{i}", str(now))
    seen = float(await redis.hget(table, f"orphan:{i}") or now)
    return now - seen > CHUNK_CLAIM_TTL and await redis.hdel(table, f"orphan:{i}") == 1


async def supervise(res: Resources, run_id: str) -> int | None:
    """Re-enqueue abandoned chunks; returns a chunk that ran out of tries."""
    redis: Any = res.redis  # redis-py's stubs type every command as sync or async
    keys = res.keys
    meta = await load_meta(redis, keys, run_id)
    if meta is None:
        return None
    # one HGETALL for the table and one MGET for the claims, not a few calls per chunk
    # (the owner looks every OWNER_POLL_SECONDS; bench/distributed.py counts the calls)
    table = await redis.hgetall(keys.chunks(run_id))
    done = parse_done(table)
    left = [i for i in range(meta.chunks) if i not in done]
    claims = await redis.mget([keys.chunk_claim(run_id, i) for i in left]) if left else []
    fields = {as_text(k): as_text(v) for k, v in table.items()}
    for i, claimed in zip(left, claims, strict=True):
        if claimed is not None or not await _abandoned(redis, keys, run_id, i, fields):
            continue
        attempt = int(await redis.hincrby(keys.chunks(run_id), f"tries:{i}", 1))
        if attempt >= MAX_CHUNK_TRIES:
            return i
        log.info("run %s: chunk %d abandoned; enqueued again (attempt %d)", run_id, i, attempt)
        # ahead of the queue: arq takes due jobs by score, and the run's other chunks
        # (scored when the run was planned) must not hold back the live edge
        await enqueue_job(
            res.arq,
            keys,
            "render_chunk",
            run_id,
            i,
            _job_id=keys.chunk_job_id(run_id, i, attempt),
            _defer_until=dt.datetime.fromisoformat(meta.started),
            _expires=STATE_TTL_SECONDS,
        )
    return None
