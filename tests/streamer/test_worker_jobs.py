"""The arq worker runs the ping job against real Redis and PostgreSQL."""

from __future__ import annotations

import asyncio
import dataclasses

from arq import create_pool
from arq.connections import RedisSettings

from streamer.entry.commands.worker import queue_status
from streamer.entry.worker import create_worker, worker_settings
from streamer.jobs.functions import JOB_FUNCTIONS, ping
from streamer.keys import RedisKeys
from streamer.settings import Settings


def test_worker_settings_shape(service_settings: Settings) -> None:
    ws = worker_settings(service_settings, queue_name="q", burst=True, max_jobs=2)
    assert ws["functions"] == JOB_FUNCTIONS and ping in ws["functions"]
    assert ws["queue_name"] == "q"
    assert ws["burst"] is True and ws["max_jobs"] == 2
    # the jobs' Redis keys follow the queue the worker consumes
    services = dataclasses.replace(service_settings.services, queue_name="q")
    assert ws["ctx"]["settings"] == dataclasses.replace(service_settings, services=services)
    assert ws["max_tries"] >= 1 and ws["job_timeout"] > 0
    assert callable(ws["on_startup"]) and callable(ws["on_shutdown"])


async def test_ping_round_trip(service_settings: Settings, redis_prefix: str) -> None:
    queue = f"{redis_prefix}queue"
    pool = await create_pool(
        RedisSettings.from_dsn(service_settings.services.redis_url), default_queue_name=queue
    )
    try:
        job = await pool.enqueue_job("ping", "hello")
        assert job is not None
        before = await queue_status(service_settings.services.redis_url, queue)
        assert before["queued"] == 1
        assert before["healthy"] is False

        worker = create_worker(service_settings, handle_signals=False, queue_name=queue, burst=True)
        try:
            await asyncio.wait_for(worker.main(), 60)
            assert (
                await pool.get(RedisKeys(queue=queue).health_check) is not None
            )  # health line written
        finally:
            await worker.close()
        result = await job.result(timeout=10)
        assert result["pong"] == "hello"
        assert result["database"] == 1
        assert result["redis"] is True
        assert result["try"] == 1
        assert worker.jobs_complete == 1 and worker.jobs_failed == 0

        after = await queue_status(service_settings.services.redis_url, queue)
        assert after["queued"] == 0
    finally:
        await pool.delete(f"arq:result:{job.job_id}" if job else "none")
        await pool.aclose()
