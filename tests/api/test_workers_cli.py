"""``artdag worker status`` against real Redis and a real in-process arq worker.

The CLI runs in a thread (its own event loop, as from a shell) while the
worker runs on the test loop; it prints what ``GET /api/workers`` answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from arq import create_pool
from arq.connections import RedisSettings

from streamer.embedded.stack import free_port
from streamer.entry.cli import main
from streamer.entry.worker import MonitoredWorker

pytestmark = pytest.mark.timeout(120)


async def nap(ctx: dict[str, Any], seconds: float) -> float:
    """Test job: sleeps, returns the time slept."""
    await asyncio.sleep(seconds)
    return seconds


@contextlib.asynccontextmanager
async def running_worker(redis_url: str, queue: str) -> AsyncIterator[MonitoredWorker]:
    worker = MonitoredWorker(
        functions=[nap],
        redis_settings=RedisSettings.from_dsn(redis_url),
        queue_name=queue,
        handle_signals=False,
        max_jobs=3,
        health_check_interval=1,
        poll_delay=0.05,
    )
    task = asyncio.create_task(worker.main(), name=f"cli-worker-{queue}")
    try:
        yield worker
    finally:
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await asyncio.wait_for(worker.close(), 30)
        task.cancel()
        with contextlib.suppress(BaseException):
            await task


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, redis_url: str, tmp_path: Any) -> str:
    """Environment for the CLI: the test Redis; a DATABASE_URL so no embedded stack is sought."""
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/unused")
    monkeypatch.setenv("ARTDAG_DATA_DIR", str(tmp_path / "data"))
    return redis_url


async def cli(*argv: str) -> int:
    return await asyncio.to_thread(main, ["worker", "status", *argv])


async def test_status_json_text_local_and_exit_codes(
    cli_env: str, redis_prefix: str, capsys: pytest.CaptureFixture[str]
) -> None:
    queue = f"{redis_prefix}cli:{uuid.uuid4().hex[:8]}"
    assert await cli("--queue", queue) == 1  # nobody consumes this queue yet
    out = capsys.readouterr().out
    assert f"queue {queue}: 0 queued, 0 in progress" in out
    assert "workers: none reporting" in out and "worker: none reported" in out

    pool = await create_pool(RedisSettings.from_dsn(cli_env), default_queue_name=queue)
    job_ids: list[str] = []
    try:
        async with running_worker(cli_env, queue) as worker:
            quick = await pool.enqueue_job("nap", 0.0)
            assert quick is not None
            job_ids.append(quick.job_id)
            assert await quick.result(timeout=30, poll_delay=0.05) == 0.0
            slow = await pool.enqueue_job("nap", 30.0)
            assert slow is not None
            job_ids.append(slow.job_id)
            for _ in range(200):  # until the worker has started it
                if await pool.exists(f"arq:in-progress:{slow.job_id}"):
                    break
                await asyncio.sleep(0.05)

            assert await cli("--queue", queue, "--json", "--recent", "5") == 0
            status = json.loads(capsys.readouterr().out)
            assert status["queue"] == queue and status["in_progress"] == 1
            assert status["in_progress_jobs"][0]["job_id"] == slow.job_id
            assert status["in_progress_jobs"][0]["args"] == [30.0]
            assert [w["worker_id"] for w in status["workers"]] == [worker.worker_id]
            assert status["recent"][0]["job_id"] == quick.job_id
            assert status["recent"][0]["result"] == 0.0 and status["recent"][0]["success"]
            assert status["worker_health"] == status["arq_health"]["line"]

            assert await cli("--queue", queue) == 0
            text = capsys.readouterr().out
            assert "workers (1):" in text and worker.worker_id in text
            assert f"{slow.job_id}  nap  try 1" in text
            assert f"ok    nap  {quick.job_id}" in text

            # the container health check: a worker of this host is reporting
            assert worker.host == socket.gethostname()
            assert await cli("--queue", queue, "--local") == 0
            capsys.readouterr()

            assert await cli("--queue", queue, "--json", "--watch", "0.1", "--iterations", "3") == 0
            lines = capsys.readouterr().out.strip().splitlines()
            assert len(lines) == 3
            checked = [json.loads(line)["checked_at"] for line in lines]
            assert checked == sorted(checked) and checked[0] < checked[-1]

        assert await cli("--queue", queue, "--local") == 1  # the worker removed its record
        capsys.readouterr()
    finally:
        await pool.delete(*(f"arq:result:{j}" for j in job_ids), *(f"arq:job:{j}" for j in job_ids))
        await pool.delete(queue)
        await pool.aclose()


async def test_status_unreachable_redis_is_exit_2(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    port = free_port()
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{port}/0")
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/unused")
    monkeypatch.setenv("ARTDAG_DATA_DIR", str(tmp_path))
    assert await cli() == 2
    err = capsys.readouterr().err
    assert f"127.0.0.1:{port}" in err and "artdag worker status" in err


@pytest.mark.parametrize(
    "argv",
    [["--watch", "0"], ["--watch", "-1"], ["--recent", "500"], ["--iterations", "0"]],
)
def test_status_rejects_bad_options(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["worker", "status", *argv])
    assert exc.value.code == 2
    assert "expected" in capsys.readouterr().err
