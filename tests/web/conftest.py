"""Web UI fixtures: the live app + worker + HTTP server of the API tests, and Chromium."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from tests.api.conftest import (  # noqa: F401  (fixtures shared with the API tests)
    LiveServer,
    live_factory,
    live_server,
    live_server_ipfs,
)
from tests.api.live_media import live_recipe

CHROMIUM = os.environ.get("ARTDAG_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


async def start_run(
    live: LiveServer, seconds: float, *, pace: float | None = None, name: str = "web-live"
) -> str:
    """POST a generated recipe of ``seconds`` of 320x240 output; returns the run id."""
    body: dict[str, Any] = {"recipe": live_recipe(seconds, name=name)}
    if pace is not None:
        body["pace"] = pace
    resp = await live.client.post("/runs", json=body)
    assert resp.status_code == 201, resp.text
    return str(resp.json()["run_id"])


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def completed_run(live_server: LiveServer) -> dict[str, Any]:
    """A short run rendered to the end (local HLS), as ``GET /api/run/{id}`` returns it."""
    run_id = await start_run(live_server, 2.0, name="web-pages")
    run = await live_server.wait_run(run_id, lambda r: r["status"] in ("completed", "failed"))
    assert run["status"] == "completed", run
    return run


@pytest_asyncio.fixture(loop_scope="session")
async def browser() -> AsyncIterator[Any]:
    """A headless Chromium (the system one; never downloaded by Playwright)."""
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        b = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            await b.close()
