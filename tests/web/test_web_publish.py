"""The Publish buttons of the media and run pages: a form post without JavaScript (asked
first on a confirmation page), the htmx dialog with it; the state shows on both pages.

The L2 is a closed loopback port: the publication stays queued (``publishing``)
and then fails, which is all these pages need to show.
"""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from streamer.auth import tokens
from streamer.db import runs as runs_db
from streamer.embedded.stack import free_port
from tests.api.conftest import LiveServer
from tests.api.test_cache import make_video
from tests.web.conftest import HTML

pytestmark = pytest.mark.timeout(180)

Factory = Callable[..., contextlib.AbstractAsyncContextManager[LiveServer]]


@pytest_asyncio.fixture(loop_scope="session")
async def l2_down(live_factory: Factory) -> AsyncIterator[LiveServer]:
    async with live_factory(
        L2_SERVER=f"http://127.0.0.1:{free_port()}",
        ARTDAG_ALLOW_PRIVATE_ENDPOINTS="true",  # a loopback L2
        L2_DELIVERY_ATTEMPTS="2",
        L2_RETRY_SECONDS="30",  # the second try waits: the state stays "publishing"
    ) as live:
        yield live


async def _video(live: LiveServer, folder: Path) -> str:
    data = make_video(folder / f"v-{uuid.uuid4().hex[:6]}.mkv") + uuid.uuid4().bytes
    resp = await live.client.post(
        "/cache/upload", files={"file": ("clip.mkv", data, "video/x-matroska")}
    )
    assert resp.status_code == 201, resp.text
    return str(resp.json()["cid"])


def _card(page: str, cid: str) -> str:
    found = re.search(rf'<li class="card[^"]*" data-cid="{cid}".*?</li>', page, re.S)
    assert found, f"no card of {cid} on the page"
    return found[0]


async def test_publish_without_javascript_from_the_media_and_run_pages(
    l2_down: LiveServer, tmp_path: Path
) -> None:
    live = l2_down
    cid = await _video(live, tmp_path)
    card = _card((await live.client.get("/media", headers=HTML)).text, cid)
    assert f'action="/web/media/{cid}/publish"' in card and "data-publish-state" not in card

    # the first post asks (no JavaScript), the confirmed one queues it and goes back
    asked = await live.client.post(f"/web/media/{cid}/publish", data={"next": "/media"})
    assert asked.status_code == 200 and "data-confirm" in asked.text
    assert str(live.settings.federation.l2_server) in asked.text
    done = await live.client.post(
        f"/web/media/{cid}/publish", data={"next": "/media", "confirmed": "1"}
    )
    assert done.status_code == 303 and done.headers["location"] == "/media"
    card = _card((await live.client.get("/media", headers=HTML)).text, cid)
    assert 'data-publish-state="publishing"' in card or 'data-publish-state="failed"' in card

    # the run page of a run that made it shows its state and the button
    run = await runs_db.create_run(live.db, recipe_id=None, inputs={}, owner="tester")
    await runs_db.update_run(live.db, run["id"], status="completed", output_cid=cid)
    page = (await live.client.get(f"/run/{run['id']}", headers=HTML)).text
    status = page[page.index('id="run-status"') :]
    assert f'action="/web/media/{cid}/publish"' in status and "data-publish-state" in status
    assert f'value="/run/{run["id"]}"' in status  # back to the run page afterwards

    # a problem is shown on the confirmation page with its status
    text = await live.client.post(
        "/cache/upload", files={"file": ("n.txt", uuid.uuid4().bytes, "text/plain")}
    )
    other = text.json()["cid"]
    refused = await live.client.post(f"/web/media/{other}/publish", data={"confirmed": "1"})
    assert refused.status_code == 422 and "video, audio and images" in refused.text


async def test_without_l2_server_there_is_no_button_and_the_form_says_why(
    live_factory: Factory, tmp_path: Path
) -> None:
    async with live_factory() as live:
        cid = await _video(live, tmp_path)
        card = _card((await live.client.get("/media", headers=HTML)).text, cid)
        assert "/publish" not in card
        refused = await live.client.post(f"/web/media/{cid}/publish", data={"confirmed": "1"})
        assert refused.status_code == 409 and "L2_SERVER" in refused.text


async def test_publish_with_javascript_from_the_media_page(
    l2_down: LiveServer, browser: Any, tmp_path: Path
) -> None:
    live = l2_down
    cid = await _video(live, tmp_path)
    ctx = await browser.new_context(extra_http_headers={"Authorization": f"Bearer {live.token}"})
    page = await ctx.new_page()
    await page.goto(f"{live.url}/media")
    page.on("dialog", lambda dialog: dialog.accept())
    await page.click(f'li[data-cid="{cid}"] form[data-action=publish] button')
    badge = page.locator(f'li[data-cid="{cid}"] [data-publish-state]')
    await badge.wait_for(state="visible", timeout=15_000)
    assert await badge.get_attribute("data-publish-state") in ("publishing", "failed")
    state = (await live.client.get(f"/cache/{cid}/publish")).json()
    assert state["activity"] == "Create" and state["attempts"] >= 0
    await ctx.close()


async def test_publishing_needs_the_publish_scope(l2_down: LiveServer, tmp_path: Path) -> None:
    live = l2_down
    cid = await _video(live, tmp_path)
    key = tokens.cluster_key(live.settings)
    only_cache, _ = tokens.mint_token(key, "tester", scopes=["cache:write"])
    only_publish, _ = tokens.mint_token(key, "tester", scopes=["publish"])
    form = {"confirmed": "1", "next": "/media"}
    for path, body in ((f"/cache/{cid}/publish", None), (f"/web/media/{cid}/publish", form)):
        refused = await live.client.post(
            path, data=body, headers={"Authorization": f"Bearer {only_cache}"}
        )
        assert refused.status_code == 403 and "publish" in refused.text, path
    done = await live.client.post(
        f"/web/media/{cid}/publish", data=form, headers={"Authorization": f"Bearer {only_publish}"}
    )
    assert done.status_code == 303
    api = await live.client.post(
        f"/cache/{cid}/publish", headers={"Authorization": f"Bearer {only_publish}"}
    )
    assert api.status_code == 202 and api.json()["activity"] == "Update"
