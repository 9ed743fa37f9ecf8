"""The run page's copies card in a real Chromium: it appears when the run completes and
follows each copy to its end state without a reload (htmx, as the status card)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.api.conftest import LiveServer
from tests.web.conftest import start_run

pytestmark = pytest.mark.timeout(180)


async def test_copies_card_follows_the_copies_live(live_server: LiveServer, browser: Any) -> None:
    live = live_server
    folder = live.settings.storage.data_dir / f"web-replicas-{uuid.uuid4().hex[:6]}"
    body = {
        "type": "local",
        "name": f"web-copy-{uuid.uuid4().hex[:6]}",
        "config": {"path": str(folder)},
    }
    resp = await live.client.post("/storage/add", json=body)
    assert resp.status_code == 201, resp.text
    provider = resp.json()
    try:
        run_id = await start_run(live, 4.0, pace=1.0, name="web-replicas")
        page = await browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        await page.goto(f"{live.url}/run/{run_id}", wait_until="domcontentloaded")
        card = page.locator("#run-replicas")
        assert await card.count() == 1
        run = (await live.client.get(f"/api/run/{run_id}")).json()
        assert run["status"] in ("pending", "running") and run["replicas"] == []
        assert "once the run completes" in await card.inner_text()
        # no reload: the card refreshes when the run ends and until the copy settles
        row = f'#run-replicas tr[data-replica="{provider["id"]}"][data-state="done"]'
        await page.wait_for_selector(row, timeout=60_000)
        cells = await page.locator(row).inner_text()
        assert provider["name"] in cells and "local" in cells
        run = (await live.client.get(f"/api/run/{run_id}")).json()
        copy = next(r for r in run["replicas"] if r["provider_id"] == provider["id"])
        assert copy["state"] == "done"
        objects = f"{copy['objects_done']} / {copy['objects_total']}"
        assert await page.locator(f'{row} [data-field="replica-objects"]').inner_text() == objects
        assert not errors, errors
    finally:
        await live.client.delete(f"/storage/{provider['id']}")
