"""Distributed live runs (ARTDAG_CHUNK_SEGMENTS): real arq workers, Redis and PostgreSQL.

- 1 worker and 3 workers give byte-identical segments and playlist text
  (less PROGRAM-DATE-TIME), segment names included, for a SEGMENT of a file
  input with its audio, a temporal effect and a beat-driven parameter;
- a worker SIGKILLed while it renders a chunk: the chunk is taken over after
  its claim lapses, the run completes, segments listed before the kill keep
  their names, and the stream has its exact frame count;
- a worker with one job slot renders a chunked run alone (the owner holds no slot);
- a paced run lists its segments no faster than real time;
- fMP4 (HLS_CONTAINER=fmp4): one init segment, the same bytes from 1 worker or 2.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

import pytest
from arq import create_pool
from arq.connections import ArqRedis, RedisSettings

from cache.local import LocalStore
from streamer.content.stores import hls_dir
from streamer.db import runs as runs_db
from streamer.db.pool import apply_migrations
from streamer.db.pool import create_pool as create_db_pool
from streamer.embedded.stack import free_port
from streamer.entry.worker import create_worker
from streamer.jobs.chunk_state import waiting_for_worker
from streamer.keys import RedisKeys
from streamer.settings import Settings
from tests.interpreter.stream.stream_media import make_clip
from tests.streamer.worker_harness import in_process_worker, store_recipe

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.timeout(300)]

# a SEGMENT (seeked), a temporal effect (pre-roll), a time-driven parameter, audio
RECIPE = """\
name: chunked-run
version: '1.0'
steps:
- id: video
  type: SOURCE
  config: {generator: testsrc, duration: 6, width: 160, height: 120, fps: 25}
- id: cut
  type: SEGMENT
  inputs: [video]
  config: {start: 0.6, duration: 4}
- id: trail
  type: EFFECT
  inputs: [cut]
  config: {effect: echo, frames: 5}
- id: tint
  type: EFFECT
  inputs: [trail]
  config: {effect: hue, degrees: 45 * t}
- id: beat
  type: SOURCE
  config: {generator: clicks, duration: 4, bpm: 150}
- id: show
  type: MUX
  inputs: [tint, beat]
output: show
"""
FRAMES = 100  # 4 s at 25 fps

# a SEGMENT of a file input with its audio, a temporal effect, a beat-driven parameter
FILE_RECIPE = """\
name: chunked-file-run
version: '1.0'
steps:
- {id: video, type: SOURCE, config: {input: video}}
- {id: cut, type: SEGMENT, inputs: [video], config: {start: 0.6, duration: 4}}
- {id: features, type: ANALYZE, inputs: [video], config: {features: [beats, energy]}}
- {id: trail, type: EFFECT, inputs: [cut], config: {effect: echo, frames: 5}}
- id: pulse
  type: EFFECT
  inputs: [trail, features]
  config: {effect: vignette, amount: 'clamp(0.2 + decay(6), 0, 1)'}
output: pulse
"""
BEATS = {"features": {"beats": [0.4 * i for i in range(15)], "duration": 6.0}}


def _settings(pg_dsn: str, redis_url: str, root: Path, queue: str, **extra: str) -> Settings:
    return Settings.from_env({**_env(pg_dsn, redis_url, root, queue), **extra})


def _env(pg_dsn: str, redis_url: str, root: Path, queue: str) -> dict[str, str]:
    return {
        "DATABASE_URL": pg_dsn,
        "REDIS_URL": redis_url,
        "ARTDAG_DATA_DIR": str(root / "data"),
        "CACHE_DIR": str(root / "cache"),
        "IPFS_API": f"/ip4/127.0.0.1/tcp/{free_port()}",  # closed: local output only
        "ARTDAG_QUEUE": queue,
        "ARTDAG_CHUNK_SEGMENTS": "2",
        "HLS_SEGMENT_SECONDS": "0.5",
    }


@contextlib.asynccontextmanager
async def _pools(pg_dsn: str, redis_url: str) -> AsyncIterator[tuple[Any, ArqRedis]]:
    db = await create_db_pool(pg_dsn, max_size=3)
    await apply_migrations(db)
    arq = await create_pool(RedisSettings.from_dsn(redis_url))
    try:
        yield db, arq
    finally:
        await arq.aclose()
        await db.close()


async def _start(
    db: Any,
    arq: ArqRedis,
    queue: str,
    text: str = RECIPE,
    inputs: dict[str, str] | None = None,
    analysis: dict[str, Any] | None = None,
    pace: float | None = None,
) -> str:
    rid = await store_recipe(db, text)
    run_id = str((await runs_db.create_run(db, recipe_id=rid, inputs=inputs or {}))["id"])
    if analysis is not None:
        await runs_db.update_run(db, run_id, analysis=analysis)
    kwargs: dict[str, Any] = {} if pace is None else {"pace": pace}
    job_id = RedisKeys.render_job_id(run_id)
    # the run's job on its row, as streamer.jobs.requeue.enqueue_run records it: the
    # workers' owner sweep (resume_owners) finds a run by it when its owner chain died
    record = {"function": "render_run", "job_id": job_id, "queue": queue, "kwargs": kwargs}
    await runs_db.update_run(db, run_id, job=record)
    job = await arq.enqueue_job("render_run", run_id, _queue_name=queue, _job_id=job_id, **kwargs)
    assert job is not None
    return run_id


async def _wait_done(db: Any, run_id: str, timeout: float = 200) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = await runs_db.get_run(db, run_id)
        assert row is not None
        if row["status"] in ("completed", "failed", "cancelled"):
            return dict(row)
        await asyncio.sleep(0.2)
    raise AssertionError(f"run {run_id} did not finish")


def _listing(settings: Settings, run_id: str) -> tuple[str, list[str]]:
    text = (hls_dir(settings, run_id) / "playlist.m3u8").read_text()
    lines = [x for x in text.splitlines() if not x.startswith("#EXT-X-PROGRAM-DATE-TIME")]
    return "\n".join(lines), [x for x in lines if x and not x.startswith("#")]


async def _render_with_workers(
    pg_dsn: str, redis_url: str, root: Path, prefix: str, workers: int, clip: Path, **extra: str
) -> tuple[str, list[bytes]]:
    queue = f"{prefix}chunks:{uuid.uuid4().hex[:8]}"
    settings = _settings(pg_dsn, redis_url, root, queue, **extra)
    cid = LocalStore(settings.storage.cache_dir).put_file(clip, suffix=".mp4").cid
    async with _pools(pg_dsn, redis_url) as (db, arq):
        pool = [
            create_worker(settings, handle_signals=False, queue_name=queue, max_jobs=2)
            for _ in range(workers)
        ]
        tasks = [asyncio.create_task(w.main()) for w in pool]
        try:
            run_id = await _start(db, arq, queue, FILE_RECIPE, {"video": cid}, BEATS)
            row = await _wait_done(db, run_id)
        finally:
            for w in pool:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(w.close(), 30)
            for t in tasks:
                t.cancel()
                with contextlib.suppress(BaseException):
                    await t
    assert row["status"] == "completed", row
    text, names = _listing(settings, run_id)
    assert text.rstrip().endswith("#EXT-X-ENDLIST")
    files = [
        n.split('URI="')[1].rstrip('"') for n in text.splitlines() if n.startswith("#EXT-X-MAP")
    ]
    return text, [(hls_dir(settings, run_id) / n).read_bytes() for n in files + names]


async def test_one_worker_and_three_give_the_same_bytes(
    pg_dsn: str, redis_url: str, redis_prefix: str, tmp_path: Path, ffprobe: str
) -> None:
    clip = make_clip(tmp_path / "clip.mp4", width=160, height=120, seconds=6)
    one = await _render_with_workers(pg_dsn, redis_url, tmp_path / "one", redis_prefix, 1, clip)
    three = await _render_with_workers(pg_dsn, redis_url, tmp_path / "three", redis_prefix, 3, clip)
    assert one[0] == three[0]  # playlist text, segment names (CIDs) included
    assert one[1] == three[1]
    stream = tmp_path / "stream.ts"
    stream.write_bytes(b"".join(one[1]))
    assert _frame_count(ffprobe, stream) == FRAMES


def _frame_count(ffprobe: str, path: Path) -> int:
    args = ["-count_frames", "-select_streams", "v:0", "-show_entries", "stream=nb_read_frames"]
    out = subprocess.run(
        [ffprobe, "-v", "error", *args, "-of", "csv=p=0", str(path)],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    return int(out.split()[0])  # a TS lists the stream under its program too


async def _next_listing(settings: Settings, run_id: str, listed: int, timeout: float) -> float:
    """When the playlist first lists more than ``listed`` segments (monotonic time)."""
    deadline = time.monotonic() + timeout
    path = hls_dir(settings, run_id) / "playlist.m3u8"
    while time.monotonic() < deadline:
        if path.exists() and len(_listing(settings, run_id)[1]) > listed:
            return time.monotonic()
        await asyncio.sleep(0.1)
    raise AssertionError(f"nothing listed after segment {listed}")


_WORKER = (
    "from streamer.entry.worker import create_worker\n"
    "from streamer.settings import Settings\n"
    "create_worker(Settings.from_env(), max_jobs=2).run()\n"
)


async def _claimed_pid(arq: ArqRedis, queue: str, run_id: str, pids: set[int]) -> int | None:
    keys = RedisKeys(queue=queue)
    for i in range(20):
        raw = await arq.get(keys.chunk_claim(run_id, i))
        if raw is not None:
            pid = int(raw.decode().split("/")[0].rsplit(":", 1)[1])
            if pid in pids:
                return pid
    return None


async def test_a_worker_killed_mid_chunk_is_taken_over(
    pg_dsn: str, redis_url: str, redis_prefix: str, tmp_path: Path, ffprobe: str
) -> None:
    queue = f"{redis_prefix}chunks:{uuid.uuid4().hex[:8]}"
    env = {**os.environ, **_env(pg_dsn, redis_url, tmp_path, queue)}
    settings = Settings.from_env(env)
    root = Path(__file__).resolve().parents[2]
    logs = [tmp_path / f"worker{i}.log" for i in range(2)]
    procs = [
        subprocess.Popen([sys.executable, "-c", _WORKER], env=env, cwd=root, stderr=f.open("wb"))
        for f in logs
    ]
    try:
        async with _pools(pg_dsn, redis_url) as (db, arq):
            run_id = await _start(db, arq, queue)
            pids = {p.pid for p in procs}
            victim = None
            deadline = time.monotonic() + 120
            while victim is None and time.monotonic() < deadline:
                victim = await _claimed_pid(arq, queue, run_id, pids)
                await asyncio.sleep(0.02)
            assert victim is not None, "no chunk was ever claimed"
            playlist = hls_dir(settings, run_id) / "playlist.m3u8"
            before = _listing(settings, run_id)[1] if playlist.exists() else []
            os.kill(victim, signal.SIGKILL)
            killed_at = time.monotonic()
            try:
                resumed = await _next_listing(settings, run_id, len(before), timeout=60)
                assert resumed - killed_at < 20  # the stream goes on within 20 s of the kill
                row = await _wait_done(db, run_id, timeout=90)
            except AssertionError:
                state = await arq.hgetall(RedisKeys(queue=queue).chunks(run_id))  # type: ignore[misc]
                print("STATE", {k.decode(): v.decode()[:80] for k, v in state.items()})
                print("VICTIM", victim, [p.pid for p in procs])
                for f in logs:
                    print("LOG", f, f.read_text()[-3000:])
                raise
            assert row["status"] == "completed", row
            assert time.monotonic() - killed_at < 120
            assert not await waiting_for_worker(arq, RedisKeys(queue=queue), run_id)
        names = _listing(settings, run_id)[1]
        assert names[: len(before)] == before  # listed segments keep their names
        stream = tmp_path / "stream.ts"
        stream.write_bytes(b"".join((hls_dir(settings, run_id) / n).read_bytes() for n in names))
        assert _frame_count(ffprobe, stream) == FRAMES
    finally:
        for p in procs:
            with contextlib.suppress(ProcessLookupError):
                p.kill()
            p.wait(timeout=30)


async def test_waiting_for_worker_means_chunks_left_and_no_live_claim(
    redis_url: str, redis_prefix: str
) -> None:
    from streamer.jobs.chunk_state import ChunkDone, ChunkMeta, mark_done, save_meta

    keys = RedisKeys(queue=f"{redis_prefix}chunks:{uuid.uuid4().hex[:8]}")
    arq = await create_pool(RedisSettings.from_dsn(redis_url))
    try:
        assert not await waiting_for_worker(arq, keys, "r1")  # not a chunked run
        meta = ChunkMeta(2, 2, 50, 0.52, "2026-12-06T00:00:00+00:00", (160, 120, 25, 1, 1, 1), None)
        assert await save_meta(arq, keys, "r1", meta)
        assert not await save_meta(arq, keys, "r1", meta)  # the first plan stays
        assert await waiting_for_worker(arq, keys, "r1")
        await arq.set(keys.chunk_claim("r1", 1), "w/1", px=15000)
        assert not await waiting_for_worker(arq, keys, "r1")  # a worker renders chunk 1
        await arq.delete(keys.chunk_claim("r1", 1))
        await arq.set(keys.chunk_owner("r1"), "w/2", px=15000)
        assert not await waiting_for_worker(arq, keys, "r1")  # the owner is alive
        await arq.delete(keys.chunk_owner("r1"))
        for i in range(2):
            await mark_done(arq, keys, "r1", ChunkDone(i, (), "w"))
        assert not await waiting_for_worker(arq, keys, "r1")  # nothing left
    finally:
        await arq.delete(keys.chunks("r1"))
        await arq.aclose()


async def test_waiting_for_worker_is_false_while_redis_is_down() -> None:
    from redis.asyncio import Redis

    # nothing listens on a freed port: the run view still answers from PostgreSQL
    redis = Redis(host="127.0.0.1", port=free_port(), socket_connect_timeout=1)
    try:
        assert not await waiting_for_worker(redis, RedisKeys(queue="q"), "r1")
    finally:
        await redis.aclose()


async def test_worker_status_lists_claimed_chunks_with_their_heartbeat_age(
    redis_url: str, redis_prefix: str
) -> None:
    from streamer.entry.commands.worker import format_status
    from streamer.jobs.monitor import worker_status

    queue = f"{redis_prefix}chunks:{uuid.uuid4().hex[:8]}"
    keys = RedisKeys(queue=queue)
    arq = await create_pool(RedisSettings.from_dsn(redis_url))
    try:
        await arq.set(keys.chunk_claim("run-a", 3), "vm:42/abc", px=15000)
        await arq.set(keys.chunk_claim("run-a", 12), "vm:43/def", px=9000)  # renewed 6 s ago
        await arq.hset(keys.chunks("run-a"), "meta", "{}")  # type: ignore[misc]  # not a claim
        status = await worker_status(arq, queue, recent=0)
        chunks = status["chunks"]
        assert [(c["run_id"], c["index"], c["worker"]) for c in chunks] == [
            ("run-a", 3, "vm:42"),
            ("run-a", 12, "vm:43"),
        ]
        assert 0 <= chunks[0]["heartbeat_age_s"] < 2 and 5 < chunks[1]["heartbeat_age_s"] < 8
        text = format_status(status)
        assert "run run-a chunk 12  vm:43  heartbeat 6" in text
    finally:
        await arq.delete(keys.chunk_claim("run-a", 3), keys.chunk_claim("run-a", 12))
        await arq.delete(keys.chunks("run-a"))
        await arq.aclose()


LONG = RECIPE.replace("duration: 6", "duration: 40").replace("duration: 4", "duration: 30")


async def test_a_cancelled_chunked_run_ends_its_playlist(
    pg_dsn: str, redis_url: str, redis_prefix: str, tmp_path: Path
) -> None:
    from streamer.runs.events import request_cancel

    queue = f"{redis_prefix}chunks:{uuid.uuid4().hex[:8]}"
    settings = _settings(pg_dsn, redis_url, tmp_path, queue)
    keys = RedisKeys(queue=queue)
    async with _pools(pg_dsn, redis_url) as (db, arq), in_process_worker(settings, queue, 2):
        run_id = await _start(db, arq, queue, LONG)
        await _next_listing(settings, run_id, 0, timeout=60)
        await request_cancel(arq, keys, run_id)
        row = await _wait_done(db, run_id, timeout=60)
        assert row["status"] == "cancelled", row
        text, names = _listing(settings, run_id)
        assert text.rstrip().endswith("#EXT-X-ENDLIST") and 0 < len(names) < 60
        assert 0 < await arq.ttl(keys.chunks(run_id)) <= 24 * 3600  # the state expires
        await asyncio.sleep(1.5)  # chunk jobs still running list nothing more
        assert _listing(settings, run_id) == (text, names)


async def test_a_worker_with_one_slot_renders_a_chunked_run(
    pg_dsn: str, redis_url: str, redis_prefix: str, tmp_path: Path, ffprobe: str
) -> None:
    queue = f"{redis_prefix}chunks:{uuid.uuid4().hex[:8]}"
    settings = _settings(pg_dsn, redis_url, tmp_path, queue)
    async with _pools(pg_dsn, redis_url) as (db, arq), in_process_worker(settings, queue, 1):
        run_id = await _start(db, arq, queue)
        row = await _wait_done(db, run_id, timeout=150)
        assert row["status"] == "completed", row
        keys = RedisKeys(queue=queue)
        deadline = time.monotonic() + 10
        while await arq.get(keys.chunk_owner(run_id)) is not None:  # the owner chain ends
            assert time.monotonic() < deadline, "the owner chain never ended"
            await asyncio.sleep(0.1)
    text, names = _listing(settings, run_id)
    assert text.rstrip().endswith("#EXT-X-ENDLIST") and len(names) == 8
    stream = tmp_path / "stream.ts"
    stream.write_bytes(b"".join((hls_dir(settings, run_id) / n).read_bytes() for n in names))
    assert _frame_count(ffprobe, stream) == FRAMES


def _listed_seconds(settings: Settings, run_id: str) -> tuple[float, bool]:
    """Seconds of media the playlist lists, and whether it ended."""
    path = hls_dir(settings, run_id) / "playlist.m3u8"
    if not path.exists():
        return 0.0, False
    text = path.read_text()
    seconds = sum(float(x[8:].split(",")[0]) for x in text.splitlines() if x.startswith("#EXTINF:"))
    return seconds, "#EXT-X-ENDLIST" in text


async def test_a_paced_chunked_run_lists_no_faster_than_real_time(
    pg_dsn: str, redis_url: str, redis_prefix: str, tmp_path: Path
) -> None:
    queue = f"{redis_prefix}chunks:{uuid.uuid4().hex[:8]}"
    settings = _settings(pg_dsn, redis_url, tmp_path, queue)
    pace = 2.0
    samples: list[tuple[float, float]] = []  # (monotonic time, seconds listed)
    async with _pools(pg_dsn, redis_url) as (db, arq), in_process_worker(settings, queue, 2):
        run_id = await _start(db, arq, queue, pace=pace)
        deadline = time.monotonic() + 120
        ended = False
        while not ended and time.monotonic() < deadline:
            seconds, ended = _listed_seconds(settings, run_id)
            if seconds:
                samples.append((time.monotonic(), seconds))
            await asyncio.sleep(0.05)
        assert ended, "the run never ended its playlist"
        row = await _wait_done(db, run_id, timeout=30)
        assert row["status"] == "completed", row
    first_at, first = samples[0]  # the first segment is listed at once (0.5 s)
    assert first == pytest.approx(0.5, abs=0.05)
    for at, seconds in samples:  # never ahead of real time (x pace) since then
        assert seconds - first <= (at - first_at) * pace + 0.3, (at - first_at, seconds)
    assert samples[-1][0] - first_at >= (4.0 - first) / pace - 0.3


async def test_fmp4_chunked_runs_give_one_init_segment_and_the_same_bytes(
    pg_dsn: str, redis_url: str, redis_prefix: str, tmp_path: Path, ffprobe: str
) -> None:
    clip = make_clip(tmp_path / "clip.mp4", width=160, height=120, seconds=6)
    fmp4 = {"HLS_CONTAINER": "fmp4"}
    one = await _render_with_workers(
        pg_dsn, redis_url, tmp_path / "one", redis_prefix, 1, clip, **fmp4
    )
    two = await _render_with_workers(
        pg_dsn, redis_url, tmp_path / "two", redis_prefix, 2, clip, **fmp4
    )
    assert one == two  # playlist text (init and segment names) and every file's bytes
    text, files = one
    maps = [x for x in text.splitlines() if x.startswith("#EXT-X-MAP:URI=")]
    assert len(maps) == 1 and maps[0].endswith('.mp4"') and ".m4s" in text
    assert files[0][4:8] == b"ftyp"  # the init segment, then moof+mdat segments
    stream = tmp_path / "stream.mp4"
    stream.write_bytes(b"".join(files))
    assert _frame_count(ffprobe, stream) == FRAMES


async def test_a_taken_over_chunk_is_queued_ahead_of_the_backlog(
    redis_url: str, redis_prefix: str
) -> None:
    """arq takes due jobs by score: a dead worker's chunk must not wait behind the run's
    queued chunks, so its new job is scored at the run's plan time."""
    from types import SimpleNamespace

    from streamer.jobs.chunk_listing import supervise
    from streamer.jobs.chunk_state import ChunkMeta, save_meta

    queue = f"{redis_prefix}chunks:{uuid.uuid4().hex[:8]}"
    keys = RedisKeys(queue=queue)
    arq = await create_pool(RedisSettings.from_dsn(redis_url))
    res: Any = SimpleNamespace(redis=arq, arq=arq, keys=keys)
    run = f"r-{uuid.uuid4().hex[:8]}"  # arq job ids are global: unique per test run
    try:
        meta = ChunkMeta(
            4, 2, 100, 0.52, "2026-12-06T00:00:00+00:00", (160, 120, 25, 1, 1, 1), None
        )
        assert await save_meta(arq, keys, run, meta)
        for i in (1, 2, 3):  # the backlog, queued when the run was planned
            job_id = keys.chunk_job_id(run, i, 0)
            assert await arq.enqueue_job("render_chunk", run, i, _queue_name=queue, _job_id=job_id)
        await arq.hset(keys.chunks(run), "started:0", "dead/token")  # type: ignore[misc]
        assert await supervise(res, run) is None  # chunk 0: claimed, no claim now, no result
        retry = keys.chunk_job_id(run, 0, 1)
        order = [k.decode() for k in await arq.zrange(queue, 0, -1)]
        assert order[0] == retry and len(order) == 4
        assert await supervise(res, run) is None and await arq.zcard(queue) == 4  # once
    finally:
        jobs = [f"arq:job:{keys.chunk_job_id(run, i, 0)}" for i in (1, 2, 3)]
        await arq.delete(queue, keys.chunks(run), f"arq:job:{keys.chunk_job_id(run, 0, 1)}", *jobs)
        await arq.aclose()


async def test_a_worker_starting_resumes_runs_whose_owner_chain_died(
    pg_dsn: str, redis_url: str, redis_prefix: str
) -> None:
    """Every worker died (the last owner look with them): the next worker to start
    gives each running chunked run of its queue a new owner chain."""
    from types import SimpleNamespace

    from streamer.jobs.chunk_state import ChunkMeta, save_meta
    from streamer.jobs.chunk_supervisor import resume_owners

    queue = f"{redis_prefix}chunks:{uuid.uuid4().hex[:8]}"
    keys = RedisKeys(queue=queue)
    async with _pools(pg_dsn, redis_url) as (db, arq):
        res: Any = SimpleNamespace(db=db, redis=arq, arq=arq, keys=keys)
        rid = await store_recipe(db, RECIPE)
        job = {"function": "render_run", "job_id": "x", "queue": queue, "kwargs": {}}
        chunked, single = [
            str((await runs_db.create_run(db, recipe_id=rid, inputs={}))["id"]) for _ in range(2)
        ]
        for run_id in (chunked, single):
            await runs_db.update_run(db, run_id, status="running", job=job)
        meta = ChunkMeta(2, 2, 50, 0.52, "2026-12-06T00:00:00+00:00", (160, 120, 25, 1, 1, 1), None)
        await save_meta(arq, keys, chunked, meta)
        try:
            assert await resume_owners(res) == 1  # the chunked run; the single one is not
            assert await arq.get(keys.chunk_owner(chunked)) is not None
            assert await arq.get(keys.chunk_owner(single)) is None
            looks = [k.decode() for k in await arq.zrange(queue, 0, -1)]
            assert len(looks) == 1 and looks[0].startswith(f"own:{chunked}:")
            assert await resume_owners(res) == 0  # its chain lives: no second one
        finally:
            looks = [f"arq:job:{k.decode()}" for k in await arq.zrange(queue, 0, -1)]
            await arq.delete(queue, keys.chunks(chunked), keys.chunk_owner(chunked), *looks)
            for run_id in (chunked, single):
                await runs_db.update_run(db, run_id, status="cancelled")


async def test_an_owner_look_that_fails_queues_the_next_one(
    redis_url: str, redis_prefix: str, tmp_path: Path
) -> None:
    """PostgreSQL away during a look: the chain goes on (a later look finds it back)."""
    from streamer.jobs.chunk_supervisor import RETRY_LOOK_SECONDS, own_chunked
    from streamer.resources import RESOURCES_KEY, Resources

    class _NoDatabase:
        async def fetchrow(self, *args: Any, **kwargs: Any) -> Any:
            raise ConnectionRefusedError("PostgreSQL is away")

    queue = f"{redis_prefix}chunks:{uuid.uuid4().hex[:8]}"
    keys = RedisKeys(queue=queue)
    arq = await create_pool(RedisSettings.from_dsn(redis_url))
    none: Any = None
    res = Resources(
        settings=_settings("postgresql://x@127.0.0.1:1/x", redis_url, tmp_path, queue),
        db=cast(Any, _NoDatabase()),
        redis=arq,
        arq=arq,
        stores=none,
        keys=keys,
        token_key=b"k",
    )
    run = f"r-{uuid.uuid4().hex[:8]}"
    try:
        await arq.set(keys.chunk_owner(run), "me/1", px=15000)
        before = time.time()
        result = await own_chunked({RESOURCES_KEY: res}, run, "me/1")
        assert result["status"] == "look failed" and "away" in result["error"]
        [(look, score)] = await arq.zrange(queue, 0, -1, withscores=True)
        assert look.decode().startswith(f"own:{run}:")
        assert score / 1000 >= before + RETRY_LOOK_SECONDS - 0.5  # deferred, not at once
        assert await arq.get(keys.chunk_owner(run)) == b"me/1"  # the chain still owns it
    finally:
        looks = [f"arq:job:{k.decode()}" for k in await arq.zrange(queue, 0, -1)]
        await arq.delete(queue, keys.chunk_owner(run), *looks)
        await arq.aclose()


async def test_a_worker_sweep_replaces_an_owner_chain_that_died(
    pg_dsn: str, redis_url: str, redis_prefix: str, tmp_path: Path
) -> None:
    """The owner's look died with its worker (no next look queued, its claim lapsing):
    a live worker's sweep starts a new chain, whose looks supervise the run."""
    from streamer.jobs.chunk_state import ChunkMeta, save_meta

    queue = f"{redis_prefix}chunks:{uuid.uuid4().hex[:8]}"
    keys = RedisKeys(queue=queue)
    settings = _settings(pg_dsn, redis_url, tmp_path, queue)
    async with _pools(pg_dsn, redis_url) as (db, arq):
        rid = await store_recipe(db, RECIPE)
        run_id = str((await runs_db.create_run(db, recipe_id=rid, inputs={}))["id"])
        job = {"function": "render_run", "job_id": "x", "queue": queue, "kwargs": {}}
        await runs_db.update_run(db, run_id, status="running", job=job)
        meta = ChunkMeta(2, 2, 50, 0.52, "2026-12-06T00:00:00+00:00", (160, 120, 25, 1, 1, 1), None)
        await save_meta(arq, keys, run_id, meta)
        await arq.set(keys.chunk_owner(run_id), "dead/1", px=300)  # its last renewal
        try:
            async with in_process_worker(settings, queue, 1):
                deadline = time.monotonic() + 10
                while (await arq.get(keys.chunk_owner(run_id))) in (None, b"dead/1"):
                    assert time.monotonic() < deadline, "no new owner chain"
                    await asyncio.sleep(0.1)
                token = await arq.get(keys.chunk_owner(run_id))
                await asyncio.sleep(1.5)  # its looks renew the claim
                assert await arq.get(keys.chunk_owner(run_id)) == token
                assert 10_000 < await arq.pttl(keys.chunk_owner(run_id)) <= 15_000
                await runs_db.update_run(db, run_id, status="cancelled")  # the chain ends
                await asyncio.sleep(1.5)
                assert await arq.get(keys.chunk_owner(run_id)) is None
        finally:
            await runs_db.update_run(db, run_id, status="cancelled")
            await arq.delete(keys.chunks(run_id), keys.chunk_owner(run_id))
