"""App and worker startup remove stale partial cache writes (``LocalStore.cleanup_tmp``)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from litestar.testing import AsyncTestClient

from streamer.entry.app import create_app
from streamer.entry.worker import worker_settings
from streamer.settings import Settings


def _partials(settings: Settings) -> tuple[Path, Path]:
    """A stale partial write (two hours old) and a fresh one (maybe a live writer's)."""
    tmp = Path(settings.storage.cache_dir) / ".tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    stale, fresh = tmp / "put-crashed", tmp / "put-live"
    stale.write_bytes(b"half a file")
    fresh.write_bytes(b"being written")
    old = time.time() - 7200
    os.utime(stale, (old, old))
    return stale, fresh


async def test_app_startup_removes_stale_partials(service_settings: Settings) -> None:
    stale, fresh = _partials(service_settings)
    async with AsyncTestClient(app=create_app(service_settings)) as client:
        assert (await client.get("/health")).status_code == 200
        assert not stale.exists()
        assert fresh.exists()


async def test_worker_startup_removes_stale_partials(service_settings: Settings) -> None:
    stale, fresh = _partials(service_settings)
    ws = worker_settings(service_settings, queue_name="test-startup-cleanup", burst=True)
    ctx: dict[str, Any] = dict(ws["ctx"])
    await ws["on_startup"](ctx)
    try:
        assert not stale.exists()
        assert fresh.exists()
    finally:
        await ws["on_shutdown"](ctx)
