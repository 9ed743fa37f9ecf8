"""Publishing to an independent L2: bovine-herd (a maintained ActivityPub server) on loopback.

The real app, worker, PostgreSQL and Redis publish a video; bovine finds alice
by WebFinger, fetches this L1's actor to verify the HTTP Signature of every
delivery, stores the Create, applies the Update and the Delete. What bovine
kept is read back as alice would (her inbox; the object by its id through her
``proxyUrl``) and from its store. Also: an L2 that is down at first gets the
activity once it is up; a user L2 does not know fails for good, with why.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from streamer.auth import tokens
from streamer.content.provenance import build_provenance
from streamer.db import content as content_db
from streamer.db import runs as runs_db
from streamer.embedded.stack import free_port
from streamer.federation.activities import PUBLIC
from tests.api.conftest import LiveServer, live_factory  # noqa: F401 - fixture
from tests.streamer.federation.bovine_l2 import BovineL2
from tests.streamer.federation.test_fed_publish_queue import upload_video, wait_state

pytestmark = pytest.mark.timeout(240)

Factory = Callable[..., contextlib.AbstractAsyncContextManager[LiveServer]]
ARTDAG = "https://artdag.rose-ash.com/ns#"


@pytest_asyncio.fixture(loop_scope="session")
async def l2(tmp_path: Path) -> AsyncIterator[BovineL2]:
    server = BovineL2(tmp_path / "l2", free_port())
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


def _stack(live_factory: Factory, l2: BovineL2, **env: str) -> Any:
    """An L1 stack signed in as alice, publishing to ``l2`` (loopback: allowed explicitly)."""
    port = free_port()
    return live_factory(
        user="alice",
        port=port,
        L1_PUBLIC_URL=f"http://127.0.0.1:{port}",
        L2_SERVER=l2.url,
        ARTDAG_ALLOW_PRIVATE_ENDPOINTS="true",
        L2_RETRY_SECONDS="0.5",
        **env,
    )


def _term(doc: dict[str, Any], name: str) -> Any:
    """A property of a document bovine stored (its own context writes ours as full IRIs)."""
    value = doc.get(name, doc.get(ARTDAG + name))
    return value.get("@value", value) if isinstance(value, dict) else value


async def _made_by_a_run(live: LiveServer, cid: str) -> tuple[str, dict[str, Any]]:
    """Record a completed run whose output is ``cid``, with its provenance record."""
    run = await runs_db.create_run(
        live.db, recipe_id=None, inputs={"video": "QmInputVideo"}, owner="alice"
    )
    await runs_db.update_run(live.db, run["id"], status="completed", output_cid=cid)
    record = build_provenance(
        task_id="render-job-1",
        output_name="dog.mp4",
        output_cid=cid,
        inputs={"video": "QmInputVideo"},
        effects=[{"name": "invert", "version": "0.1.0"}],
        rendered_by="@alice@l2",
        software={"name": "artdag-l1", "version": "test"},
        hardware={"hostname": "test-box"},
    )
    await content_db.record_provenance(live.db, run_id=run["id"], cid=cid, record=record)
    return str(run["id"]), record


async def _published(live: LiveServer, cid: str, activity: str) -> dict[str, Any]:
    state = await wait_state(
        live, cid, lambda s: s["activity"] == activity and s["state"] != "publishing"
    )
    assert state["state"] == "published", state
    return state


async def test_publish_update_delete_through_bovine(
    live_factory: Factory, l2: BovineL2, tmp_path: Path
) -> None:
    alice = l2.info
    async with _stack(live_factory, l2) as live:
        cid = await upload_video(live, tmp_path)
        run_id, record = await _made_by_a_run(live, cid)
        await live.client.patch(f"/cache/{cid}/meta", json={"title": "First title"})
        object_id = f"{live.url}/cache/{cid}/object"

        resp = await live.client.post(f"/cache/{cid}/publish")
        assert resp.status_code == 202, resp.text
        assert resp.json()["state"] == "publishing" and resp.json()["activity"] == "Create"
        state = await _published(live, cid, "Create")
        assert state["remote_id"] == object_id == state["object_id"]
        assert state["target_inbox"] == alice["inbox"]
        assert state["user_actor"] == alice["actor_id"]
        assert state["error"] is None and state["attempts"] == 1

        # bovine verified our signature (else it stores nothing) and put the Create in
        # alice's inbox; the object is retrievable from L2 by its id
        stored = await l2.wait_stored(object_id, lambda d: d.get("type") == "Video")
        inbox = await l2.inbox()
        assert state["activity_id"] in [i if isinstance(i, str) else i.get("id") for i in inbox]
        fetched = await l2.fetch(object_id)
        assert fetched is not None and fetched["type"] == "Video"
        assert fetched["name"] == "First title"
        # attributed to the sending actor, as receivers require (bovine embeds its document)
        attributed = fetched["attributedTo"]
        assert (attributed.get("id") if isinstance(attributed, dict) else attributed) == (
            f"{live.url}/actor"
        )
        assert alice["actor_id"] in fetched["cc"]
        assert _term(stored, "provenance") == record
        assert _term(stored, "cid") == cid and _term(stored, "run") == run_id
        assert stored["duration"].startswith("PT2")
        hrefs = [link["href"] for link in stored["url"]]
        assert f"{live.settings.ipfs.gateway_url}/{cid}" in hrefs and f"ipfs://{cid}" in hrefs
        assert stored["icon"]["url"] == f"{live.url}/cache/{cid}/poster.jpg"

        # our outbox lists what L2 accepted, as it was sent: bovine shows an actor's
        # followers collection to its owner only, so the Create went to Public, with
        # alice in cc
        outbox = (await live.client.get("/outbox")).json()
        sent = {a["id"]: a for a in outbox["orderedItems"]}[state["activity_id"]]
        assert sent["to"] == [PUBLIC] and alice["actor_id"] in sent["cc"]
        assert alice["followers"] not in sent["to"] + sent["cc"]

        # our copy of the object
        ours = await live.client.get(f"/cache/{cid}/object")
        assert ours.status_code == 200
        assert ours.headers["content-type"].startswith("application/activity+json")
        assert ours.json()["name"] == "First title" and ours.json()["id"] == object_id

        # publishing again after an edit is an Update, applied by L2
        await live.client.patch(f"/cache/{cid}/meta", json={"title": "Second title"})
        again = (await live.client.post(f"/cache/{cid}/publish")).json()
        assert again["activity"] == "Update"
        await _published(live, cid, "Update")
        updated = await l2.wait_stored(object_id, lambda d: d.get("name") == "Second title")
        assert updated["type"] == "Video"

        # deleting the item (its run first: a run's output cannot be deleted) sends a Delete
        assert (await live.client.delete(f"/runs/{run_id}")).status_code == 200
        assert (await live.client.delete(f"/cache/{cid}")).status_code == 200
        await _published(live, cid, "Delete")
        await l2.wait_stored(object_id, lambda d: d.get("type") == "Tombstone")
        tomb = await live.client.get(f"/cache/{cid}/object")
        assert tomb.status_code == 410 and tomb.json()["type"] == "Tombstone"
        assert tomb.json()["formerType"] == "Video"

        # a user L2 does not know: failed at once, with why (no retries)
        token, _ = tokens.mint_token(tokens.cluster_key(live.settings), "bob", ttl=600)
        other = await upload_video(live, tmp_path)
        bob = {"Authorization": f"Bearer {token}"}
        assert (await live.client.post(f"/cache/{other}/publish", headers=bob)).status_code == 202
        failed = await wait_state(live, other, lambda s: s["state"] != "publishing")
        assert failed["state"] == "failed" and failed["attempts"] == 1
        assert "knows no account acct:bob@" in failed["error"]


async def test_l2_down_then_up_delivers_the_queued_activity(
    live_factory: Factory, tmp_path: Path
) -> None:
    l2 = BovineL2(tmp_path / "l2", free_port())
    await l2.start()  # registers alice
    await l2.stop()
    try:
        async with _stack(live_factory, l2, L2_DELIVERY_ATTEMPTS="20") as live:
            cid = await upload_video(live, tmp_path)
            resp = await live.client.post(f"/cache/{cid}/publish")
            assert resp.status_code == 202 and resp.json()["state"] == "publishing"
            waiting = await wait_state(live, cid, lambda s: s["attempts"] >= 2)
            assert waiting["state"] == "publishing" and "could not be reached" in waiting["error"]
            await l2.start()
            state = await wait_state(live, cid, lambda s: s["state"] != "publishing", timeout=90)
            assert state["state"] == "published", state
            assert state["attempts"] > waiting["attempts"]
            stored = await l2.wait_stored(state["object_id"], lambda d: "type" in d)
            assert stored["type"] == "Video"
    finally:
        await l2.stop()
