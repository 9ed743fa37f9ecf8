"""Publishing when L2 is not configured or not there: clear 4xx, or a queued delivery that
retries with backoff and then fails with why; never a 500.

Real app, worker, PostgreSQL and Redis (``live_factory``); the "L2" is a closed
loopback port.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from streamer.embedded.stack import free_port
from streamer.jobs.federation import retry_delay
from tests.api.conftest import LiveServer, live_factory  # noqa: F401 - fixture
from tests.api.helpers import api_error
from tests.api.test_cache import make_video

pytestmark = pytest.mark.timeout(180)

Factory = Callable[..., contextlib.AbstractAsyncContextManager[LiveServer]]


async def upload(live: LiveServer, data: bytes, name: str, media_type: str) -> str:
    """Upload ``data``; its CID."""
    resp = await live.client.post("/cache/upload", files={"file": (name, data, media_type)})
    assert resp.status_code == 201, resp.text
    return str(resp.json()["cid"])


async def upload_video(live: LiveServer, folder: Path) -> str:
    """A fresh 2 s clip (unique bytes, so a unique CID)."""
    data = make_video(folder / f"clip-{uuid.uuid4().hex[:6]}.mkv") + uuid.uuid4().bytes
    return await upload(live, data, "clip.mkv", "video/x-matroska")


async def wait_state(
    live: LiveServer, cid: str, until: Callable[[dict[str, Any]], bool], timeout: float = 60.0
) -> dict[str, Any]:
    """Poll ``GET /cache/{cid}/publish`` until ``until(state)``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    state: dict[str, Any] = {}
    while loop.time() < deadline:
        resp = await live.client.get(f"/cache/{cid}/publish")
        assert resp.status_code == 200, resp.text
        state = resp.json()
        if until(state):
            return state
        await asyncio.sleep(0.1)
    raise AssertionError(f"publication of {cid} did not reach the condition: {state}")


@pytest.fixture
async def l2_down(live_factory: Factory) -> AsyncIterator[LiveServer]:
    """A stack whose L2_SERVER is a loopback port nothing listens on; 3 quick attempts."""
    closed = free_port()
    async with live_factory(
        L2_SERVER=f"http://127.0.0.1:{closed}",
        ARTDAG_ALLOW_PRIVATE_ENDPOINTS="true",  # a loopback L2
        L2_DELIVERY_ATTEMPTS="3",
        L2_RETRY_SECONDS="0.2",
    ) as live:
        yield live


async def test_without_l2_server_publishing_is_a_clear_409(
    live_factory: Factory, tmp_path: Path
) -> None:
    async with live_factory() as live:
        cid = await upload_video(live, tmp_path)
        state = (await live.client.get(f"/cache/{cid}/publish")).json()
        assert state["state"] == "unpublished" and state["l2_server"] is None
        body = api_error(await live.client.post(f"/cache/{cid}/publish"), 409)
        assert body["field"] == "L2_SERVER" and "L2_SERVER" in body["detail"]
        # nothing was recorded
        assert (await live.client.get(f"/cache/{cid}/publish")).json()["state"] == "unpublished"
        api_error(await live.client.get(f"/cache/{cid}/object"), 404)
        # the publish endpoint is a write: it needs a token
        api_error(
            await live.client.post(f"/cache/{cid}/publish", headers={"Authorization": ""}), 401
        )


async def test_l2_down_queues_retries_with_backoff_then_fails_with_why(
    l2_down: LiveServer, tmp_path: Path
) -> None:
    live = l2_down
    cid = await upload_video(live, tmp_path)
    resp = await live.client.post(f"/cache/{cid}/publish")
    assert resp.status_code == 202, resp.text
    queued = resp.json()
    assert queued["state"] == "publishing" and queued["activity"] == "Create"
    assert queued["object_id"] == f"{live.settings.server.public_url}/cache/{cid}/object"
    assert queued["l2_server"] == live.settings.federation.l2_server
    assert queued["links"]["self"] == f"/cache/{cid}/publish"

    # published again before L2 got it: an Update, queued behind the Create
    second = (await live.client.post(f"/cache/{cid}/publish")).json()
    assert second["activity"] == "Update" and second["state"] == "publishing"
    # the Create goes first; once it failed for good the Update is tried, as a Create
    # (L2 never got the object)
    tried = await wait_state(live, cid, lambda s: s["attempts"] >= 1)
    assert tried["activity_id"] == second["activity_id"] and tried["activity"] == "Create"
    first = await live.db.fetchrow(
        "SELECT state, attempts FROM federation_activities WHERE id = $1", queued["activity_id"]
    )
    assert (first["state"], first["attempts"]) == ("failed", 3)

    retrying = await wait_state(live, cid, lambda s: s["attempts"] >= 1 and s["error"])
    if retrying["state"] == "publishing":  # caught between two attempts
        assert retrying["error"].startswith(f"attempt {retrying['attempts']}/3")
        assert retrying["next_attempt_at"]
    failed = await wait_state(live, cid, lambda s: s["state"] == "failed")
    assert failed["attempts"] == 3
    assert "gave up after 3 attempts" in failed["error"]
    assert "WebFinger" in failed["error"] and "127.0.0.1" in failed["error"]
    assert failed["remote_id"] is None and failed["delivered_at"] is None
    api_error(await live.client.get(f"/cache/{cid}/object"), 404)  # L2 never got it

    # L2 never got the Create: publishing again is a Create again, not an Update
    again = (await live.client.post(f"/cache/{cid}/publish")).json()
    assert again["activity"] == "Create" and again["activity_id"] != queued["activity_id"]
    # deleting the item: nothing reached L2, so no Delete is queued
    await wait_state(live, cid, lambda s: s["state"] == "failed")
    assert (await live.client.delete(f"/cache/{cid}")).status_code == 200
    assert (await live.client.get(f"/cache/{cid}/publish")).json()["activity"] == "Create"


async def test_bad_requests_answer_4xx(l2_down: LiveServer, tmp_path: Path) -> None:
    live = l2_down
    api_error(await live.client.post("/cache/not-a-cid/publish"), 400)
    api_error(await live.client.get("/cache/not-a-cid/publish"), 400)
    api_error(await live.client.get("/cache/not-a-cid/object"), 400)
    missing = "Qm" + "Z" * 44
    api_error(await live.client.post(f"/cache/{missing}/publish"), 404)
    text = await upload(live, b"just text " + uuid.uuid4().bytes, "notes.txt", "text/plain")
    body = api_error(await live.client.post(f"/cache/{text}/publish"), 422)
    assert body["field"] == "cid" and "video, audio and images" in body["detail"]


def test_backoff_doubles_and_is_capped() -> None:
    assert [retry_delay(30, n) for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert retry_delay(30, 20) == 3600
