"""GET /api/workers on the live app, with real Redis and real in-process arq workers.

The stack's own worker answers the idle checks; a second
:class:`streamer.entry.worker.MonitoredWorker` on a queue of its own runs jobs that
wait on an event, so "in progress", "queued", "deferred" and the results are
exact at the moment they are read.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from arq.connections import RedisSettings

from streamer.embedded.stack import free_port
from streamer.entry.worker import MonitoredWorker
from streamer.jobs.monitor import parse_health_line

pytestmark = pytest.mark.timeout(120)


async def hold(ctx: dict[str, Any], tag: str) -> dict[str, str]:
    """Test job: finishes when the test opens the gate."""
    await ctx["gate"].wait()
    return {"tag": tag}


async def boom(ctx: dict[str, Any]) -> None:
    """Test job: always fails."""
    raise ValueError("boom on purpose")


@contextlib.asynccontextmanager
async def gated_worker(
    redis_url: str, queue: str
) -> AsyncIterator[tuple[MonitoredWorker, asyncio.Event]]:
    """A real arq worker (one job at a time, health every second) on ``queue``."""
    gate = asyncio.Event()
    worker = MonitoredWorker(
        functions=[hold, boom],
        redis_settings=RedisSettings.from_dsn(redis_url),
        queue_name=queue,
        ctx={"gate": gate},
        handle_signals=False,
        max_jobs=1,
        health_check_interval=1,
        poll_delay=0.05,
        keep_result=600,
    )
    task = asyncio.create_task(worker.main(), name=f"gated-worker-{queue}")
    try:
        yield worker, gate
    finally:
        gate.set()
        # a job still running at a failed assertion is cancelled by close()
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await asyncio.wait_for(worker.close(), 30)
        task.cancel()
        with contextlib.suppress(BaseException):
            await task


async def poll(
    client: Any,
    params: dict[str, Any],
    until: Callable[[dict[str, Any]], bool],
    timeout: float = 30,
) -> dict[str, Any]:
    """GET /api/workers until ``until(body)``; fail with the last body after ``timeout`` s."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    body: dict[str, Any] = {}
    while loop.time() < deadline:
        resp = await client.get("/api/workers", params=params)
        assert resp.status_code == 200, resp.text
        body = resp.json()
        if until(body):
            return body
        await asyncio.sleep(0.1)
    raise AssertionError(f"/api/workers never matched in {timeout}s: {body}")


def test_parse_health_line() -> None:
    line = "Nov-28 19:58:20 j_complete=3 j_failed=1 j_retried=0 j_ongoing=2 queued=5"
    parsed = parse_health_line(line)
    assert parsed == {
        "line": line,
        "time": "Nov-28 19:58:20",
        "j_complete": 3,
        "j_failed": 1,
        "j_retried": 0,
        "j_ongoing": 2,
        "queued": 5,
    }
    assert parse_health_line(None) is None
    assert parse_health_line("") is None


async def test_idle_stack_lists_its_worker_and_the_ping(live_server: Any) -> None:
    body = await poll(live_server.client, {}, lambda b: b["worker_count"] == 1)
    assert body["queue"] == live_server.queue_name
    assert body["queued"] == 0 and body["in_progress"] == 0 and body["in_progress_jobs"] == []
    assert body["healthy"] is True
    (record,) = body["workers"]
    assert record["worker_id"] == live_server.worker.worker_id
    assert record["host"] == socket.gethostname() and record["pid"] == os.getpid()
    assert record["queue"] == live_server.queue_name and record["max_jobs"] == 2
    assert 0 <= record["age_s"] < 30 and record["ttl_ms"] > 0
    assert body["arq_health"]["line"].startswith(body["arq_health"]["time"])
    assert "j_complete" in body["arq_health"]
    # the fixture's start-up round trip through the queue
    pings = [r for r in body["recent"] if r["function"] == "ping"]
    assert pings and pings[0]["success"] is True and pings[0]["result"]["pong"] == "ready"
    assert pings[0]["duration_s"] is not None and pings[0]["duration_s"] >= 0


async def test_in_progress_queued_deferred_and_results(
    live_server: Any, redis_url: str, redis_prefix: str
) -> None:
    queue = f"{redis_prefix}workers-test:{uuid.uuid4().hex[:8]}"
    arq = live_server.res.arq
    params = {"queue": queue, "recent": 10}
    job_ids = []
    for args in (("hold", "first"), ("hold", "second"), ("boom",)):
        job = await arq.enqueue_job(*args, _queue_name=queue)
        assert job is not None
        job_ids.append(job.job_id)
        await asyncio.sleep(0.01)  # distinct scores (ms): equal ones are ordered by job id
    later = await arq.enqueue_job("hold", "later", _queue_name=queue, _defer_by=3600)
    assert later is not None
    try:
        body = await poll(live_server.client, params, lambda b: True)
        assert body["queued"] == 4 and body["deferred"] == 1 and body["in_progress"] == 0
        assert body["workers"] == [] and body["healthy"] is False and body["arq_health"] is None

        async with gated_worker(redis_url, queue) as (worker, gate):
            body = await poll(
                live_server.client,
                params,
                lambda b: (
                    b["in_progress"] == 1 and b["workers"] and b["workers"][0]["jobs_ongoing"] == 1
                ),
            )
            (running,) = body["in_progress_jobs"]
            assert running["job_id"] == job_ids[0]
            assert running["function"] == "hold" and running["args"] == ["first"]
            assert running["try"] == 1 and running["enqueued_at"] > 0
            assert body["queued"] == 3 and body["deferred"] == 1
            (record,) = body["workers"]
            assert record["worker_id"] == worker.worker_id and record["max_jobs"] == 1
            assert record["running"] == [job_ids[0]]
            assert body["healthy"] is True and body["arq_health"]["queued"] == 4
            assert body["recent"] == []

            gate.set()
            body = await poll(
                live_server.client,
                params,
                lambda b: b["in_progress"] == 0 and len(b["recent"]) == 3,
            )
            assert body["queued"] == 1 and body["deferred"] == 1  # only the deferred job waits
            by_id = {r["job_id"]: r for r in body["recent"]}
            assert set(by_id) == set(job_ids)
            assert by_id[job_ids[0]]["success"] and by_id[job_ids[0]]["result"] == {"tag": "first"}
            assert by_id[job_ids[1]]["result"] == {"tag": "second"}
            failed = by_id[job_ids[2]]
            assert failed["success"] is False and failed["function"] == "boom"
            assert failed["error"] == "ValueError: boom on purpose" and "result" not in failed
            finished = [r["finished_at"] for r in body["recent"]]
            assert finished == sorted(finished, reverse=True)

            one = await live_server.client.get("/api/workers", params={**params, "recent": 1})
            assert one.status_code == 200
            assert [r["job_id"] for r in one.json()["recent"]] == [body["recent"][0]["job_id"]]
            none = await live_server.client.get("/api/workers", params={**params, "recent": 0})
            assert none.json()["recent"] == []

        # a closed worker drops its record and arq's health line at once
        body = await poll(live_server.client, params, lambda b: True)
        assert body["workers"] == [] and body["healthy"] is False and body["arq_health"] is None
    finally:
        await arq.delete(*(f"arq:result:{j}" for j in job_ids), f"arq:job:{later.job_id}", queue)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"recent": -1}, "recent"),
        ({"recent": 201}, "recent"),
        ({"queue": "bad queue*"}, "queue"),
        ({"queue": "x" * 201}, "queue"),
    ],
)
async def test_bad_parameters_are_400_with_the_field(
    live_server: Any, params: dict[str, Any], field: str
) -> None:
    resp = await live_server.client.get("/api/workers", params=params)
    assert resp.status_code == 400, resp.text
    body = resp.json()
    assert body["field"] == field and str(params[field])[:20] in body["detail"]


async def test_recent_is_not_a_number(live_server: Any) -> None:
    resp = await live_server.client.get("/api/workers", params={"recent": "many"})
    assert resp.status_code == 400, resp.text
    assert "recent" in resp.text


async def test_redis_down_is_503() -> None:
    """The route alone, on an app whose Redis client points at a closed port."""
    import redis.asyncio as aioredis
    from litestar import Litestar
    from litestar.di import Provide
    from litestar.testing import AsyncTestClient

    from api.errors import exception_handlers
    from api.workers import workers_router
    from streamer.keys import RedisKeys
    from streamer.resources import Resources
    from streamer.settings import Settings

    port = free_port()
    client = aioredis.from_url(f"redis://127.0.0.1:{port}/0", socket_connect_timeout=2)
    res = Resources(
        settings=Settings(),
        db=None,
        redis=client,
        arq=None,  # type: ignore[arg-type]
        stores=None,  # type: ignore[arg-type]
        keys=RedisKeys(),
        token_key=b"k" * 32,
    )
    app = Litestar(
        route_handlers=[workers_router],
        exception_handlers=exception_handlers(),
        dependencies={"res": Provide(lambda: res, sync_to_thread=False)},
    )
    try:
        async with AsyncTestClient(app) as http:
            resp = await http.get("/api/workers")
    finally:
        await client.aclose()
    assert resp.status_code == 503, resp.text
    body = resp.json()
    assert body["status"] == 503 and "Redis is not reachable" in body["detail"]


async def test_two_workers_on_one_queue_have_two_records(
    live_server: Any, redis_url: str, redis_prefix: str
) -> None:
    """arq's queue health key holds one line; each replica still shows up on its own."""
    queue = f"{redis_prefix}workers-pair:{uuid.uuid4().hex[:8]}"
    params = {"queue": queue, "recent": 0}
    async with gated_worker(redis_url, queue) as (a, _), gated_worker(redis_url, queue) as (b, _):
        body = await poll(live_server.client, params, lambda b: b["worker_count"] == 2)
        assert [w["worker_id"] for w in body["workers"]] == sorted([a.worker_id, b.worker_id])
        assert a.worker_id != b.worker_id and body["arq_health"] is not None
        assert all(w["ttl_ms"] > 0 and w["queue"] == queue for w in body["workers"])
        await a.close()
        body = await poll(live_server.client, params, lambda b: b["worker_count"] == 1)
        assert body["workers"][0]["worker_id"] == b.worker_id


async def test_close_finishes_when_a_job_ends_cancelled(redis_url: str, redis_prefix: str) -> None:
    """A job cancelled before arq's own ``try`` ends cancelled; close still finishes.

    arq's close gathers its jobs without ``return_exceptions``, so such a job's
    CancelledError used to abort it half-way (pool and record left open): CI met
    this when a worker was closed while a chunk job was still reading its record.
    """
    import redis.asyncio as aioredis

    queue = f"{redis_prefix}workers-close:{uuid.uuid4().hex[:8]}"
    redis = aioredis.from_url(redis_url)
    async with contextlib.aclosing(redis), gated_worker(redis_url, queue) as (worker, _):
        for _ in range(100):
            if worker._pool is not None and await redis.exists(worker.record_key):
                break
            await asyncio.sleep(0.05)
        assert await redis.exists(worker.record_key)
        # stands for arq's run_job cancelled while it awaits its first Redis round trip
        worker.tasks["cancelled-early"] = asyncio.create_task(asyncio.sleep(60))
        await asyncio.wait_for(worker.close(), 10)
        assert worker._pool is None and worker.tasks == {}
        assert not await redis.exists(worker.record_key)
