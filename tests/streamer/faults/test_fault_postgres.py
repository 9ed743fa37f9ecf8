"""PostgreSQL restarted: the API answers 503 (JSON, ``Retry-After``) while it is
down and recovers by itself within 5 s after, with no process restart; a run
that completes during the outage is written ``completed`` once it is back."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

import pytest

from streamer.content.stores import hls_dir
from streamer.entry.worker import create_worker
from streamer.settings import Settings
from tests.api.live_media import live_recipe, parse_playlist
from tests.streamer.faults.services import AppServer, PrivatePostgres, serve_app, wait_for

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.timeout(150)]

SECONDS, FPS = 5.0, 25
#: The API must answer 200 again within this many seconds of PostgreSQL accepting connections.
RECOVERY_SECONDS = 5.0


async def _status_of(app: AppServer, path: str) -> int:
    return (await app.client.get(path)).status_code


async def test_postgres_restart(
    private_pg: PrivatePostgres, redis_url: str, fault_env: Callable[..., dict[str, str]]
) -> None:
    dsn = await private_pg.new_database()
    settings = Settings.from_env(fault_env(dsn, redis_url))
    async with serve_app(settings) as app:
        worker = create_worker(settings, handle_signals=False, max_jobs=1)
        main = asyncio.create_task(worker.main(), name="faults-worker")
        try:
            await _outage_during_a_run(app, private_pg)
            assert not main.done()  # the worker lived through it
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(worker.close(), 20)
            main.cancel()
            with contextlib.suppress(BaseException):
                await main


async def _outage_during_a_run(app: AppServer, pg: PrivatePostgres) -> None:
    c = app.client
    resp = await c.post("/runs", json={"recipe": live_recipe(SECONDS, FPS), "pace": 1.0})
    assert resp.status_code == 201, resp.text
    run_id = resp.json()["run_id"]
    await app.wait_run(run_id, lambda r: r["segment_count"] >= 1, timeout=60)

    await asyncio.to_thread(pg.stop)
    stopped = time.monotonic()
    # every request that needs the database: a JSON 503 to retry, quickly, not a 500 or a hang
    for path in ("/runs", f"/runs/{run_id}", f"/api/run/{run_id}"):
        resp = await c.get(path)
        assert resp.status_code == 503, (path, resp.status_code, resp.text)
        doc = resp.json()
        assert doc["status"] == 503 and doc["detail"] == "database unavailable, retry", doc
        assert int(resp.headers["retry-after"]) > 0
    assert time.monotonic() - stopped < 5.0

    # the render goes on without PostgreSQL and ends while it is still down
    playlist = hls_dir(app.settings, run_id) / "playlist.m3u8"
    await wait_for(
        lambda: playlist.exists() and parse_playlist(playlist.read_text())["endlist"],
        "the render's end",
        30,
    )
    await asyncio.sleep(1.0)  # the job now retries its final row
    assert await _status_of(app, "/runs") == 503

    await asyncio.to_thread(pg.start)
    back = time.monotonic()
    await wait_for(lambda: _ok(app), "GET /runs answering 200", RECOVERY_SECONDS, interval=0.1)
    assert time.monotonic() - back <= RECOVERY_SECONDS

    # the row the job wrote after the outage: completed, with everything it held back
    run = await app.wait_run(run_id, lambda r: r["status"] != "running", timeout=30)
    assert run["status"] == "completed", run
    final = parse_playlist(playlist.read_text())
    assert run["segment_count"] == len(final["segments"]) and run["progress"] == 1.0
    assert run["output_cid"]
    records = (await c.get(f"/api/run/{run_id}/provenance")).json()["records"]
    assert records and records[0]["cid"] == run["output_cid"]


async def _ok(app: AppServer) -> bool:
    return await _status_of(app, "/runs") == 200
