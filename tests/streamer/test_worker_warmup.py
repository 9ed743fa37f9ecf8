"""Worker start-up: the warm-up runs in its own thread (jobs run meanwhile, the loop keeps
turning, starting jobs pause it) and an enqueue wakes an idle worker at once."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator

import pytest
from arq import create_pool
from arq.connections import RedisSettings

import streamer.entry.worker as worker_mod
from streamer.entry.worker import MonitoredWorker, worker_settings
from streamer.jobs.wake import enqueue_job
from streamer.jobs.warmup import (
    WARMUP_KEY,
    Unit,
    Warmup,
    default_units,
    pause_warmup,
    recipe_units,
)
from streamer.keys import RedisKeys
from streamer.settings import Settings


def _units(log: list[str], gate: threading.Event) -> Callable[[], Iterator[Unit]]:
    def units() -> Iterator[Unit]:
        yield "first", lambda: log.append(threading.current_thread().name)
        yield "blocked", lambda: gate.wait(30)
        yield "last", lambda: log.append("last")

    return units


async def test_warmup_runs_in_its_own_thread_and_pauses_between_units() -> None:
    log: list[str] = []
    gate = threading.Event()
    warmup = Warmup(_units(log, gate))
    resume = warmup.pause()  # a job is starting before the warm-up does
    warmup.start()
    await asyncio.sleep(0.2)
    assert log == [] and not warmup.ready  # held back before its first unit
    resume()
    resume()  # idempotent
    for _ in range(200):
        if log:
            break
        await asyncio.sleep(0.01)
    assert log == ["artdag-warmup"]  # not the event loop's thread
    hold = warmup.pause()  # taken while "blocked" runs: "last" must wait for it
    gate.set()
    await asyncio.sleep(0.2)
    assert log == ["artdag-warmup"] and not warmup.ready
    hold()
    assert await warmup.wait(10)
    assert log == ["artdag-warmup", "last"]
    assert list(warmup.times) == ["first", "blocked", "last"] and warmup.paused_seconds > 0
    assert "paused for jobs" in warmup.summary()


async def test_a_failing_unit_is_reported_and_the_rest_still_run() -> None:
    ran: list[str] = []

    def boom() -> None:
        raise RuntimeError("no codec")

    def units() -> Iterator[Unit]:
        yield "codecs", boom
        yield "kernels", lambda: ran.append("kernels")

    warmup = Warmup(units)
    warmup.start()
    assert await warmup.wait(10)
    assert ran == ["kernels"] and warmup.errors == ["codecs: RuntimeError: no codec"]


def test_pause_warmup_without_a_running_warmup_is_a_no_op() -> None:
    pause_warmup({})()
    done = Warmup(lambda: iter(()))
    done.done.set()
    pause_warmup({WARMUP_KEY: done})()
    assert done._holds == 0


@pytest.mark.slow
@pytest.mark.timeout(600)
async def test_the_real_warmup_runs_every_unit() -> None:
    # the first run on a fresh checkout compiles every kernel (minutes); later ones load them
    warmup = Warmup(default_units)
    warmup.start()
    assert await warmup.wait(590)
    assert warmup.errors == []
    assert list(warmup.times) == ["imports", "recipe", "render", "kernels", "analysis"]


async def test_an_api_only_server_warms_its_recipe_tools() -> None:
    warmup = Warmup(recipe_units, "server")
    warmup.start()
    assert await warmup.wait(120)
    assert warmup.errors == [] and list(warmup.times) == ["imports", "recipe"]


@contextlib.asynccontextmanager
async def _worker(
    settings: Settings, queue: str, *, warm_up: bool, poll_delay: float | None = None
) -> AsyncIterator[MonitoredWorker]:
    kwargs = worker_settings(settings, queue_name=queue, warm_up=warm_up)
    if poll_delay is not None:
        kwargs["poll_delay"] = poll_delay
    worker = MonitoredWorker(handle_signals=False, **kwargs)
    task = asyncio.create_task(worker.main())
    try:
        yield worker
    finally:
        await worker.close()
        task.cancel()
        with contextlib.suppress(BaseException):
            await task


async def test_jobs_run_while_the_worker_warms_up_and_the_loop_keeps_turning(
    service_settings: Settings, redis_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    queue = f"{redis_prefix}warm-{uuid.uuid4().hex[:6]}"
    gate = threading.Event()
    busy_done = threading.Event()
    ticks = 0
    ticks_during: list[int] = []

    def busy() -> None:  # pure-Python work holding the GIL as imports do, for 1 s
        before = ticks
        end = time.monotonic() + 1.0
        while time.monotonic() < end:
            sum(range(1000))
        ticks_during.append(ticks - before)
        busy_done.set()

    def units() -> Iterator[Unit]:
        yield "busy", busy
        yield "blocked", lambda: gate.wait(60)

    warmup = Warmup(units)

    def start_warmup() -> Warmup:
        warmup.start()
        return warmup

    monkeypatch.setattr(worker_mod, "start_warmup", start_warmup)

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = asyncio.create_task(tick())
    pool = await create_pool(RedisSettings.from_dsn(service_settings.services.redis_url))
    try:
        async with _worker(service_settings, queue, warm_up=True) as worker:
            for _ in range(500):
                if busy_done.is_set():
                    break
                await asyncio.sleep(0.01)
            assert busy_done.is_set()
            # the loop turned while the warm-up unit ran (0 if it ran on the loop)
            assert ticks_during[0] >= 5, ticks_during
            job = await enqueue_job(pool, RedisKeys(queue=queue), "ping", "warming")
            assert job is not None
            result = await job.result(timeout=60, poll_delay=0.05)
            assert result["pong"] == "warming"
            assert not warmup.ready  # the job did not wait for the warm-up
            assert worker.ctx[WARMUP_KEY] is warmup
            gate.set()
            assert await warmup.wait(10)
    finally:
        gate.set()
        ticker.cancel()
        await pool.aclose()


async def test_a_worker_joins_the_warmup_its_process_started_before(
    service_settings: Settings, redis_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # artdag serve starts the warm-up before its worker; the worker's render jobs pause it
    running = Warmup(lambda: iter(()))
    monkeypatch.setattr(worker_mod, "current_warmup", lambda: running)
    queue = f"{redis_prefix}join-{uuid.uuid4().hex[:6]}"
    async with _worker(service_settings, queue, warm_up=False) as worker:
        for _ in range(1000):
            if worker.waker is not None:
                break
            await asyncio.sleep(0.01)
        assert worker.ctx[WARMUP_KEY] is running


async def test_an_enqueue_wakes_an_idle_worker_at_once(
    service_settings: Settings, redis_prefix: str
) -> None:
    queue = f"{redis_prefix}wake-{uuid.uuid4().hex[:6]}"
    keys = RedisKeys(queue=queue)
    pool = await create_pool(RedisSettings.from_dsn(service_settings.services.redis_url))
    try:
        # polling alone would find the job after a minute
        async with _worker(service_settings, queue, warm_up=False, poll_delay=60.0) as worker:
            for _ in range(1000):
                if worker.waker is not None and worker.waker.subscribed.is_set():
                    break
                await asyncio.sleep(0.01)
            assert worker.waker is not None and worker.waker.subscribed.is_set()
            await asyncio.sleep(0.3)  # the poll loop's first (immediate) poll is over
            job = await enqueue_job(pool, keys, "ping", "awake")
            assert job is not None
            result = await job.result(timeout=30, poll_delay=0.05)
            assert result["pong"] == "awake"
            assert worker.waker.wakeups >= 1
            assert worker.jobs_complete == 1
    finally:
        await pool.aclose()
