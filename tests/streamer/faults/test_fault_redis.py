"""Redis restarted mid-run: the worker process survives, the live run completes,
its events resume, the run queued before the restart is not lost and nothing
renders twice.

The Redis here keeps nothing on disk, so its restart forgets arq's queue: the
worker notices the new Redis (``run_id``) and queues again the pending runs
PostgreSQL still lists (:mod:`streamer.jobs.requeue`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis
from arq import ArqRedis, create_pool
from arq.connections import RedisSettings

from streamer.entry.worker import create_worker
from streamer.jobs.wake import enqueue_job
from streamer.settings import Settings
from tests.api.live_media import ffprobe_json, live_recipe, parse_playlist
from tests.streamer.faults.services import (
    AppServer,
    PrivateRedis,
    WorkerProcess,
    serve_app,
    wait_for,
)

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.timeout(150)]

SECONDS, FPS = 8.0, 25
SECOND_SECONDS = 2.0


async def _collect_events(app: AppServer, run_id: str, into: list[dict[str, Any]]) -> None:
    """Read the run's SSE stream into ``into`` (``event`` and ``data``) until it ends."""
    async with app.client.stream("GET", f"/runs/{run_id}/events", timeout=None) as resp:
        assert resp.status_code == 200
        event = ""
        async for line in resp.aiter_lines():
            if line.startswith("event:"):
                event = line.split(":", 1)[1].strip()
            elif line.startswith("data:"):
                into.append({"event": event, "data": json.loads(line.split(":", 1)[1])})


async def _frames(ffprobe: str, url: str) -> int:
    probe = await ffprobe_json(
        ffprobe, url, "-select_streams", "v:0", "-count_frames", "-show_streams"
    )
    return int(probe["streams"][0]["nb_read_frames"])


async def test_redis_restart_mid_run(
    private_redis: PrivateRedis,
    fresh_dsn: str,
    fault_env: Callable[..., dict[str, str]],
    tmp_path: Path,
    ffprobe: str,
) -> None:
    env = fault_env(fresh_dsn, private_redis.url)
    settings = Settings.from_env(env)
    worker = WorkerProcess(env, tmp_path / "worker.log", max_jobs=1)
    async with serve_app(settings) as app:
        worker.start()
        try:
            await _restart_mid_run(app, private_redis, worker, ffprobe)
        finally:
            worker.stop()


async def _restart_mid_run(
    app: AppServer, redis: PrivateRedis, worker: WorkerProcess, ffprobe: str
) -> None:
    c = app.client
    resp = await c.post("/runs", json={"recipe": live_recipe(SECONDS, FPS), "pace": 1.0})
    assert resp.status_code == 201, resp.text
    first = resp.json()["run_id"]
    events: list[dict[str, Any]] = []
    reader = asyncio.create_task(_collect_events(app, first, events))
    try:
        await _restart_with_reader(app, redis, worker, ffprobe, first, events, reader)
    finally:
        reader.cancel()
        with contextlib.suppress(BaseException):
            await reader


async def _restart_with_reader(
    app: AppServer,
    redis: PrivateRedis,
    worker: WorkerProcess,
    ffprobe: str,
    first: str,
    events: list[dict[str, Any]],
    reader: asyncio.Task[None],
) -> None:
    c = app.client
    # the worker takes one job at a time: the second run waits in arq's queue
    resp = await c.post("/runs", json={"recipe": live_recipe(SECOND_SECONDS, FPS, "second")})
    assert resp.status_code == 201, resp.text
    second = resp.json()["run_id"]
    # worker start-up (imports) plus the first segments
    await app.wait_run(first, lambda r: r["segment_count"] >= 2, timeout=60)
    assert (await app.run_row(second))["status"] == "pending"
    before = len(events)
    assert any(e["event"] == "playlist" for e in events), events

    await asyncio.to_thread(redis.stop)
    await asyncio.sleep(1.5)
    # the API answers while Redis is away: rows from PostgreSQL; what needs Redis
    # (here the token check of a write) is a 503 to retry
    async with httpx.AsyncClient(base_url=app.url) as anonymous:
        row = await anonymous.get(f"/api/run/{first}")
    assert row.status_code == 200 and row.json()["status"] == "running", row.text
    cancel = await c.post(f"/runs/{second}/cancel")
    assert cancel.status_code == 503 and cancel.json()["status"] == 503, cancel.text
    assert cancel.headers.get("retry-after")
    assert worker.alive(), worker.text()[-3000:]
    await asyncio.to_thread(redis.start)  # same port, empty

    run = await app.wait_run(first, lambda r: r["status"] != "running", timeout=60)
    assert run["status"] == "completed", run
    await asyncio.wait_for(reader, 20)  # the stream ends with the final status
    after = events[before:]
    # events resumed after the restart (new segments listed) and the stream saw the end
    assert any(e["event"] == "playlist" for e in after), after
    assert events[-1]["event"] == "status" and events[-1]["data"]["status"] == "completed"
    run2 = await app.wait_run(second, lambda r: r["status"] not in ("pending", "running"), 60)
    assert run2["status"] == "completed", run2
    assert worker.alive(), worker.text()[-3000:]

    log = worker.text()
    # busy with the first run, the worker may not meet the outage at all: it sees the new Redis
    assert "Redis restarted (new run_id)" in log, log[-3000:]
    assert f"queued again 1 run(s) whose job Redis no longer had: {second}" in log, log[-3000:]
    # each run rendered once: one job, one first segment
    for run_id in (first, second):
        assert log.count(f"run {run_id} first segment listed") == 1, log[-3000:]
        assert "another job renders it already" not in log

    for run_id, seconds in ((first, SECONDS), (second, SECOND_SECONDS)):
        url = f"{app.url}/runs/{run_id}/playlist.m3u8"
        pl = parse_playlist((await c.get(url)).text)
        assert pl["endlist"], pl
        assert abs(sum(d for _, d in pl["segments"]) - seconds) < 1e-3
        assert await _frames(ffprobe, url) == round(seconds * FPS)


async def test_worker_requeues_pending_runs_at_start_up(
    private_redis: PrivateRedis,
    fresh_dsn: str,
    fault_env: Callable[..., dict[str, str]],
    tmp_path: Path,
) -> None:
    """A run queued while no worker ran, then Redis restarted: the next worker finds it."""
    env = fault_env(fresh_dsn, private_redis.url)
    settings = Settings.from_env(env)
    worker = WorkerProcess(env, tmp_path / "worker.log")
    async with serve_app(settings) as app:
        resp = await app.client.post("/runs", json={"recipe": live_recipe(1.0, FPS)})
        assert resp.status_code == 201, resp.text
        run_id = resp.json()["run_id"]
        await asyncio.to_thread(private_redis.stop)
        await asyncio.to_thread(private_redis.start)  # the queue is gone
        worker.start()
        try:
            run = await app.wait_run(run_id, lambda r: r["status"] not in ("pending", "running"))
            assert run["status"] == "completed", run
            await wait_for(lambda: "queued again 1 run(s)" in worker.text(), "the log line", 10)
        finally:
            worker.stop()


async def test_idle_worker_outlives_a_redis_restart(
    private_redis: PrivateRedis, fresh_dsn: str, fault_env: Callable[..., dict[str, str]]
) -> None:
    """arq's loop alone exits on the first connection error; ours waits and polls again."""
    settings = Settings.from_env(fault_env(fresh_dsn, private_redis.url))
    worker = create_worker(settings, handle_signals=False)
    main = asyncio.create_task(worker.main(), name="faults-worker")
    pool: ArqRedis | None = None
    try:
        await wait_for(
            lambda: worker.waker is not None and worker.waker.subscribed.is_set(), "start-up", 60
        )
        await asyncio.to_thread(private_redis.stop)
        await wait_for(lambda: worker.redis_outages == 1, "the outage noticed", 10)
        await asyncio.sleep(1.5)  # several failed polls
        assert not main.done()
        await asyncio.to_thread(private_redis.start)
        pool = await create_pool(
            RedisSettings.from_dsn(private_redis.url),
            default_queue_name=settings.services.queue_name,
        )
        job = await enqueue_job(pool, settings.services.keys, "ping", "after")
        assert job is not None
        result = await job.result(timeout=30, poll_delay=0.1)
        assert result["pong"] == "after" and result["redis"] is True and result["database"] == 1
        assert not main.done() and worker.redis_outages == 1
        waker = worker.waker
        assert waker is not None
        await wait_for(waker.subscribed.is_set, "the wake channel subscribed again", 15)
    finally:
        if pool is not None:
            await pool.aclose()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(worker.close(), 20)
        main.cancel()
        with contextlib.suppress(BaseException):
            await main


# two slow steps (level 1; a worker with two slots runs the pipeline and one of them,
# the other waits in the queue), then a join over both (level 2)
BATCH = """\
name: faults-batch
version: '1.0'
steps:
- id: src
  type: SOURCE
  config: {generator: testsrc, duration: 8, width: 1280, height: 720, fps: 25}
- id: slow_a
  type: EFFECT
  inputs: [src]
  config: {effect: blur, radius: 6}
- id: slow_b
  type: EFFECT
  inputs: [src]
  config: {effect: blur, radius: 4}
- id: join
  type: SEQUENCE
  inputs: [slow_a, slow_b]
output: join
"""
STEPS = ("slow_a", "slow_b", "join")


async def test_batch_run_outlives_a_redis_restart_and_runs_each_step_once(
    private_redis: PrivateRedis,
    fresh_dsn: str,
    fault_env: Callable[..., dict[str, str]],
) -> None:
    """Redis restarts while one step executes and another waits in the queue: both
    jobs are forgotten. The running one's result is found; the queued one, which
    nobody claims, is queued again after the grace; no step executes twice."""
    records = _Records()
    jobs_log = logging.getLogger("streamer.jobs")
    jobs_log.addHandler(records)
    try:
        await _batch_restart(private_redis, fresh_dsn, fault_env)
    finally:
        jobs_log.removeHandler(records)
    text = "\n".join(records.lines)
    # the queued step surely; the running one too unless its result came first
    assert 1 <= text.count("Redis lost its job") <= 2, text[-3000:]
    assert text.count("nobody has it; queued again") == 1, text[-3000:]
    for step in STEPS:
        executed = re.findall(rf"step {step} \(\w+\) executed by", text)
        assert len(executed) == 1, (step, text[-3000:])


class _Records(logging.Handler):
    """Keeps the messages of the logger it is added to (the app's logging config
    replaces the root handlers that ``caplog`` relies on)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


async def _batch_restart(
    private_redis: PrivateRedis, fresh_dsn: str, fault_env: Callable[..., dict[str, str]]
) -> None:
    settings = Settings.from_env(fault_env(fresh_dsn, private_redis.url))
    claims = f"{settings.services.keys.queue}:claim:*"
    async with serve_app(settings) as app:
        worker = create_worker(settings, handle_signals=False, max_jobs=2)
        main = asyncio.create_task(worker.main(), name="faults-worker")
        probe = aioredis.Redis.from_url(private_redis.url)
        try:
            resp = await app.client.post("/api/run-recipe", json={"recipe": BATCH})
            assert resp.status_code == 201, resp.text
            run_id = resp.json()["run_id"]

            async def claimed() -> bool:
                return bool([k async for k in probe.scan_iter(match=claims)])

            await wait_for(claimed, "a step claimed", 60, interval=0.05)
            await asyncio.to_thread(private_redis.stop)
            await asyncio.sleep(1.5)
            await asyncio.to_thread(private_redis.start)

            run = await app.wait_run(
                run_id, lambda r: r["status"] not in ("pending", "running"), timeout=100
            )
            assert run["status"] == "completed", run
            assert not main.done()
        finally:
            await probe.aclose()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(worker.close(), 20)
            main.cancel()
            with contextlib.suppress(BaseException):
                await main
