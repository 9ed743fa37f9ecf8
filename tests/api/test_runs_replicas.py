"""Completed runs copied to every enabled storage provider (real S3, IPFS, local folder).

A run's output, final playlist and segments land on each provider byte for byte
(on S3 in the run's folder, playable from the bucket; removed with the run);
a provider that is down delays nobody, is retried with backoff, ends ``failed``
with why when its attempts run out, and completes when it comes back in time;
the run stays ``completed`` and its files untouched throughout.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiobotocore.session
import pytest

from cache.cid import cid_of_bytes
from cache.providers import S3Backend
from cache.s3 import open_s3_client
from streamer.content.provider_config import open_backend
from streamer.content.stores import hls_dir
from streamer.db import replicas as replicas_db
from streamer.db import storage as storage_db
from streamer.embedded.stack import free_port
from streamer.jobs.replicate import replicate_run, requeue_lost_replicas
from streamer.resources import RESOURCES_KEY
from tests.api.conftest import LiveServer
from tests.api.live_media import ffprobe_json, live_recipe, parse_playlist

KEYS = ("testing", "testing")
ATTEMPTS = 6
#: retries after 0.5, 1, 2, 4, 8 s: the last attempt ends about 15 s after the first
REPLICA_ENV = {"ARTDAG_REPLICA_ATTEMPTS": str(ATTEMPTS), "ARTDAG_REPLICA_RETRY_SECONDS": "0.5"}

pytestmark = pytest.mark.timeout(240)

#: A 3-phase recipe whose steps no other test renders: the step cache (PostgreSQL) is
#: shared by the session's stacks, their content stores are not.
BATCH_RECIPE = """\
name: replicas-batch
version: '1.0'
steps:
- id: noise
  type: SOURCE
  config: {generator: noise, duration: 1, width: 80, height: 48, fps: 10, seed: 2929}
- id: inverted
  type: EFFECT
  inputs: [noise]
  config: {effect: invert}
output: inverted
"""

Factory = Callable[..., contextlib.AbstractAsyncContextManager[LiveServer]]


async def _bucket(endpoint: str) -> str:
    name = f"artdag-rep-{uuid.uuid4().hex[:10]}"
    async with open_s3_client(
        aiobotocore.session.get_session(), endpoint, "us-east-1", KEYS
    ) as client:
        await client.create_bucket(Bucket=name)
    return name


def _s3_config(endpoint: str, bucket: str) -> dict[str, str]:
    return {
        "bucket": bucket,
        "endpoint_url": endpoint,
        "access_key_id": KEYS[0],
        "secret_access_key": KEYS[1],
        "prefix": "runs/",
    }


async def _add(live: LiveServer, kind: str, config: dict[str, str]) -> dict[str, Any]:
    body = {"type": kind, "name": f"rep-{kind}-{uuid.uuid4().hex[:6]}", "config": config}
    resp = await live.client.post("/storage/add", json=body)
    assert resp.status_code == 201, resp.text
    return dict(resp.json())


async def _remove(live: LiveServer, providers: list[dict[str, Any]]) -> None:
    for p in providers:  # other tests of the session share the providers table
        await live.client.delete(f"/storage/{p['id']}")


def _sources(live: LiveServer, run_id: str) -> dict[str, tuple[bytes, int]]:
    """The run's HLS files: name -> (bytes, mtime in ns)."""
    folder = hls_dir(live.settings, run_id)
    return {
        p.name: (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(folder.iterdir())
        if p.is_file() and not p.name.startswith(".")
    }


async def _completed_run(live: LiveServer, seconds: float = 3.0) -> dict[str, Any]:
    resp = await live.client.post("/runs", json={"recipe": live_recipe(seconds)})
    assert resp.status_code == 201, resp.text
    run = await live.wait_run(
        resp.json()["run_id"], lambda r: r["status"] in ("completed", "failed")
    )
    assert run["status"] == "completed", run
    return run


def _replicas(run: dict[str, Any], providers: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    """The run's copies on ``providers`` (the session may hold other providers)."""
    mine = {p["id"] for p in providers}
    return {r["provider_id"]: r for r in run["replicas"] if r["provider_id"] in mine}


async def _wait_replicas(
    live: LiveServer,
    run_id: str,
    providers: list[dict[str, Any]],
    until: Callable[[dict[int, dict[str, Any]]], bool],
    timeout: float = 90.0,
) -> dict[str, Any]:
    """Poll the run JSON until ``until(copies)``; the run stays completed all along."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    run: dict[str, Any] = {}
    while loop.time() < deadline:
        run = (await live.client.get(f"/api/run/{run_id}")).json()
        assert run["status"] == "completed", run  # copies never change the run
        copies = _replicas(run, providers)
        if len(copies) == len(providers) and until(copies):
            return run
        await asyncio.sleep(0.1)
    raise AssertionError(f"copies of {run_id} did not reach the condition: {run.get('replicas')}")


async def _content(live: LiveServer, cid: str) -> bytes:
    """Bytes of ``cid`` at the source: the local content store or the IPFS node."""
    stores = live.res.stores
    if await asyncio.to_thread(stores.local.has, cid):
        return await stores.local.aread(cid)
    assert stores.ipfs is not None
    return await stores.ipfs.cat(cid)


async def _assert_copied(
    live: LiveServer,
    provider: dict[str, Any],
    sources: dict[str, bytes],
    output_cid: str,
    run_id: str,
) -> None:
    """Every source object is on ``provider``, byte for byte, read back through its backend
    (HLS files by name in the run's folder on S3, by CID elsewhere)."""
    config = dict(provider["config"])
    if "secret_access_key" in config:  # the API shows "***"
        config["secret_access_key"] = KEYS[1]
    async with open_backend(provider["type"], provider["name"], config) as backend:
        for name, data in sources.items():
            if isinstance(backend, S3Backend):
                got = await backend.store.get(backend.run_key(run_id, name))
            else:
                got = await backend.get(cid_of_bytes(data))
            assert got == data, (provider["name"], name)
        output = await _content(live, output_cid)
        assert await backend.get(output_cid) == output, (provider["name"], "output")


@pytest.fixture
async def replicating(
    live_factory: Factory, ipfs_api: str, ipfs_gateway: str
) -> AsyncIterator[LiveServer]:
    """A stack with the harness IPFS node and quick replica retries."""
    async with live_factory(ipfs_api=ipfs_api, gateway=ipfs_gateway, **REPLICA_ENV) as live:
        yield live


async def test_completed_run_is_copied_to_every_provider(
    replicating: LiveServer, s3_endpoint: str, ipfs_api: str, ffprobe: str
) -> None:
    live = replicating
    folder = live.settings.storage.data_dir / f"replicas-{uuid.uuid4().hex[:6]}"
    providers = [
        await _add(live, "s3", _s3_config(s3_endpoint, await _bucket(s3_endpoint))),
        await _add(live, "local", {"path": str(folder)}),
        await _add(live, "ipfs", {"api": ipfs_api}),
    ]
    disabled = await _add(live, "local", {"path": str(folder) + "-off"})
    resp = await live.client.patch(f"/storage/{disabled['id']}", json={"enabled": False})
    assert resp.status_code == 200, resp.text
    try:
        run = await _completed_run(live)
        run_id = run["run_id"]
        before = _sources(live, run_id)
        run = await _wait_replicas(
            live, run_id, providers, lambda c: all(r["state"] == "done" for r in c.values())
        )
        sources = {name: data for name, (data, _) in before.items()}
        playlist = parse_playlist(sources["playlist.m3u8"].decode())
        assert playlist["endlist"] and len(playlist["segments"]) == run["segment_count"] >= 2
        for name, _ in playlist["segments"]:
            assert name in sources, name
        total = len(sources) + 1  # the HLS files and the output (the IPFS playlist)
        copies = _replicas(run, providers)
        for p in providers:
            copy = copies[p["id"]]
            assert copy == {
                "provider_id": p["id"],
                "provider_name": p["name"],
                "kind": p["type"],
                "state": "done",
                "objects_done": total,
                "objects_total": total,
                "attempts": 1,
                "error": None,
                "updated_at": copy["updated_at"],
            }
            await _assert_copied(live, p, sources, run["output_cid"], run_id)
        assert disabled["id"] not in {r["provider_id"] for r in run["replicas"]}
        assert not Path(str(folder) + "-off").exists()
        # the bucket holds the output by CID and the HLS files in the run's folder, and
        # the copy plays from there (the playlist names its segments relatively)
        bucket = providers[0]["config"]["bucket"]
        assert await _bucket_keys(s3_endpoint, bucket) == {
            f"runs/{run['output_cid']}",
            *(f"runs/hls/{run_id}/{name}" for name in sources),
        }
        await _publish_folders(s3_endpoint, bucket, "runs/hls/")  # players fetch anonymously
        url = f"{s3_endpoint}/{bucket}/runs/hls/{run_id}/playlist.m3u8"
        probe = await ffprobe_json(
            ffprobe, url, "-select_streams", "v:0", "-count_frames", "-show_streams"
        )
        assert int(probe["streams"][0]["nb_read_frames"]) == 75  # 3 s at 25 fps
        # the run page shows each copy's state; a settled card stops polling
        page = (await live.client.get(f"/run/{run_id}", headers={"Accept": "text/html"})).text
        for p in providers:
            assert f'data-replica="{p["id"]}" data-state="done"' in page
        card = (await live.client.get(f"/web/run/{run_id}/replicas")).text
        assert 'id="run-replicas"' in card and "hx-trigger" not in card
        # idempotent: a copy done is not redone; one redone uploads nothing it has
        ctx = {RESOURCES_KEY: live.res}
        again = await replicate_run(ctx, run_id, providers[0]["id"])
        assert again["state"] == "settled"
        await live.db.execute(
            "UPDATE run_replicas SET state = 'pending' WHERE run_id = $1 AND provider_id = $2",
            run_id,
            providers[0]["id"],
        )
        again = await replicate_run(ctx, run_id, providers[0]["id"])
        assert again == {
            "run_id": run_id,
            "provider_id": providers[0]["id"],
            "state": "done",
            "uploaded": 0,
        }
        # a copy whose job Redis lost (pending in PostgreSQL only) is queued again
        late = await _add(live, "local", {"path": str(folder) + "-late"})
        providers.append(late)
        run = (await live.client.get(f"/api/run/{run_id}")).json()
        assert late["id"] not in {r["provider_id"] for r in run["replicas"]}  # added after
        assert await replicas_db.add_replicas(live.db, run_id, [late["id"]]) == [late["id"]]
        assert await requeue_lost_replicas(live.res) == 1
        run = await _wait_replicas(
            live, run_id, providers, lambda c: c[late["id"]]["state"] == "done"
        )
        await _assert_copied(live, late, sources, run["output_cid"], run_id)
        # nothing at the source changed
        assert _sources(live, run_id) == before
        # deleting the run removes its folder from the bucket; objects by CID stay
        assert (await live.client.delete(f"/runs/{run_id}")).status_code in (200, 204)
        deadline = asyncio.get_running_loop().time() + 30
        while await _bucket_keys(s3_endpoint, bucket) != {f"runs/{run['output_cid']}"}:
            assert asyncio.get_running_loop().time() < deadline, "the run's folder stayed"
            await asyncio.sleep(0.2)
    finally:
        await _remove(live, [*providers, disabled])


async def _publish_folders(endpoint: str, bucket: str, prefix: str) -> None:
    """The operator lets anyone read the run folders (as for the live S3 mirror)."""
    statement = {
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/{prefix}*",
    }
    policy = {"Version": "2012-10-17", "Statement": [statement]}
    async with open_s3_client(
        aiobotocore.session.get_session(), endpoint, "us-east-1", KEYS
    ) as client:
        await client.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))


async def _bucket_keys(endpoint: str, bucket: str) -> set[str]:
    async with open_s3_client(
        aiobotocore.session.get_session(), endpoint, "us-east-1", KEYS
    ) as client:
        listed = await client.list_objects_v2(Bucket=bucket)
    return {o["Key"] for o in listed.get("Contents", [])}


@contextlib.asynccontextmanager
async def _moto(port: int) -> AsyncIterator[str]:
    """A real S3 endpoint (moto_server) on ``port``, stopped on exit."""
    moto = Path(sys.executable).with_name("moto_server")
    proc = subprocess.Popen(
        [str(moto), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            with contextlib.suppress(OSError):
                _, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.close()
                break
            await asyncio.sleep(0.05)
        yield endpoint
    finally:
        proc.terminate()
        await asyncio.to_thread(proc.wait, 10)


async def test_provider_down_delays_nothing_and_loses_nothing(
    replicating: LiveServer, s3_endpoint: str
) -> None:
    live = replicating
    stays_down, comes_back = free_port(), free_port()
    up = await _add(live, "s3", _s3_config(s3_endpoint, await _bucket(s3_endpoint)))
    down = await _add(live, "s3", _s3_config(f"http://127.0.0.1:{stays_down}", "gone-bucket"))
    late = await _add(live, "s3", _s3_config(f"http://127.0.0.1:{comes_back}", "late-bucket"))
    providers = [up, down, late]
    try:
        run = await _completed_run(live)
        run_id = run["run_id"]
        before = _sources(live, run_id)

        # the provider that is up is done while the others still retry
        def up_done_others_retrying(c: dict[int, dict[str, Any]]) -> bool:
            return c[up["id"]]["state"] == "done" and all(
                c[p["id"]]["state"] in ("pending", "copying") for p in (down, late)
            )

        run = await _wait_replicas(live, run_id, providers, up_done_others_retrying)
        # two attempts failed and a third is due
        await _wait_replicas(
            live,
            run_id,
            providers,
            lambda c: c[late["id"]]["attempts"] >= 2 and c[late["id"]]["state"] == "pending",
            timeout=30,
        )
        run = (await live.client.get(f"/api/run/{run_id}")).json()
        late_copy = _replicas(run, providers)[late["id"]]
        assert late_copy["state"] in ("pending", "copying")
        assert late_copy["error"] and "Could not connect" in late_copy["error"], late_copy
        page = (await live.client.get(f"/run/{run_id}", headers={"Accept": "text/html"})).text
        assert f'data-replica="{up["id"]}" data-state="done"' in page
        assert 'hx-get="/web/run/' + run_id + '/replicas"' in page  # still polling

        # the late provider comes back before its attempts run out: it completes
        async with _moto(comes_back) as endpoint:
            await _bucket_named(endpoint, "late-bucket")
            run = await _wait_replicas(
                live,
                run_id,
                providers,
                lambda c: c[late["id"]]["state"] == "done" and c[down["id"]]["state"] == "failed",
                timeout=60,
            )
            sources = {name: data for name, (data, _) in before.items()}
            copies = _replicas(run, providers)
            late_copy, down_copy = copies[late["id"]], copies[down["id"]]
            assert 3 <= late_copy["attempts"] < ATTEMPTS and late_copy["error"] is None
            assert late_copy["objects_done"] == late_copy["objects_total"] == len(sources) + 1
            late["config"]["endpoint_url"] = endpoint
            await _assert_copied(live, late, sources, run["output_cid"], run_id)
        await _assert_copied(live, up, sources, run["output_cid"], run_id)
        # the one that stayed down gave up after its attempts, saying why
        assert down_copy["attempts"] == ATTEMPTS and down_copy["objects_done"] == 0
        error = down_copy["error"] or ""
        assert f"gave up after {ATTEMPTS} attempts" in error, error
        assert f"127.0.0.1:{stays_down}" in error, error
        page = (await live.client.get(f"/run/{run_id}", headers={"Accept": "text/html"})).text
        assert f'data-replica="{down["id"]}" data-state="failed"' in page
        assert f"gave up after {ATTEMPTS} attempts" in page
        assert _sources(live, run_id) == before  # nothing at the source changed
    finally:
        await _remove(live, providers)


async def _bucket_named(endpoint: str, name: str) -> None:
    async with open_s3_client(
        aiobotocore.session.get_session(), endpoint, "us-east-1", KEYS
    ) as client:
        await client.create_bucket(Bucket=name)


async def test_three_phase_run_output_is_copied(replicating: LiveServer) -> None:
    live = replicating
    folder = live.settings.storage.data_dir / f"replicas-{uuid.uuid4().hex[:6]}"
    providers = [await _add(live, "local", {"path": str(folder)})]
    try:
        resp = await live.client.post("/api/run-recipe", json={"recipe": BATCH_RECIPE})
        assert resp.status_code == 201, resp.text
        run_id = resp.json()["run_id"]
        run = await live.wait_run(
            run_id, lambda r: r["status"] in ("completed", "failed"), timeout=150
        )
        assert run["status"] == "completed", run
        run = await _wait_replicas(
            live, run_id, providers, lambda c: all(r["state"] == "done" for r in c.values())
        )
        copy = _replicas(run, providers)[providers[0]["id"]]
        assert copy["objects_done"] == copy["objects_total"] == 1  # the output; no HLS folder
        await _assert_copied(live, providers[0], {}, run["output_cid"], run_id)
    finally:
        await _remove(live, providers)


async def test_a_provider_refused_now_fails_at_once(replicating: LiveServer) -> None:
    """A stored config that is refused when the copy starts (here written past the API's
    checks) fails at once, before any connection or write."""
    live = replicating
    outside = Path("/tmp") / f"artdag-not-a-root-{uuid.uuid4().hex[:6]}"
    rows = [
        await storage_db.create_storage_provider(
            live.db,
            kind="s3",
            name=f"rep-meta-{uuid.uuid4().hex[:6]}",
            config={"bucket": "meta-bucket", "endpoint_url": "http://169.254.169.254"},
        ),
        await storage_db.create_storage_provider(
            live.db,
            kind="local",
            name=f"rep-out-{uuid.uuid4().hex[:6]}",
            config={"path": str(outside)},
        ),
    ]
    providers = rows
    try:
        run = await _completed_run(live)
        run = await _wait_replicas(
            live,
            run["run_id"],
            providers,
            lambda c: all(r["state"] == "failed" for r in c.values()),
            timeout=30,
        )
        copies = _replicas(run, providers)
        meta, out = copies[rows[0]["id"]], copies[rows[1]["id"]]
        assert meta["attempts"] == out["attempts"] == 1  # no retry can help
        assert "refused" in meta["error"] and "metadata" in meta["error"], meta
        assert "refused" in out["error"] and "config.path" in out["error"], out
        assert meta["objects_total"] == out["objects_total"] == 0  # nothing was tried
        assert not outside.exists()
    finally:
        await _remove(live, providers)


async def test_a_chunked_run_is_copied_too(live_factory: Factory) -> None:
    """A distributed run (ARTDAG_CHUNK_SEGMENTS) completes elsewhere than a live render:
    its copies are queued all the same."""
    env = {**REPLICA_ENV, "ARTDAG_CHUNK_SEGMENTS": "2", "HLS_SEGMENT_SECONDS": "0.5"}
    async with live_factory(**env) as live:
        folder = live.settings.storage.data_dir / f"replicas-{uuid.uuid4().hex[:6]}"
        providers = [await _add(live, "local", {"path": str(folder)})]
        try:
            run = await _completed_run(live)
            run_id = run["run_id"]
            sources = {name: data for name, (data, _) in _sources(live, run_id).items()}
            assert len(sources) == run["segment_count"] + 1 == 7  # six segments, the playlist
            run = await _wait_replicas(
                live, run_id, providers, lambda c: all(r["state"] == "done" for r in c.values())
            )
            copy = _replicas(run, providers)[providers[0]["id"]]
            assert copy["objects_done"] == copy["objects_total"] == len(sources) + 1
            await _assert_copied(live, providers[0], sources, run["output_cid"], run_id)
        finally:
            await _remove(live, providers)
