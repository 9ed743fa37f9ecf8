"""IPFS-primary live runs: L1 nodes with separate CACHE_DIRs sharing only Redis, PostgreSQL, IPFS.

- A chunked run uploaded and started through a server node S is rendered by
  two worker processes, nodes A and B, whose caches start empty: each reads
  the input it lacks from IPFS (the run's owner also the analysis a
  reference run computed), both render chunks, every segment and the
  playlist are pinned on IPFS, and the playlist text and segment bytes equal
  the single-node reference run's.
- A (non-chunked) live run uploaded on node A renders on node B's empty
  cache: input read from IPFS, analysis and plan added and recorded.
- The plan and the analysis are on IPFS, their CIDs recorded in PostgreSQL.
- With the IPFS node down, a node lacking an input fails the run with a
  clear message after a bounded retry, never hangs.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from cache.cid import cid_of_bytes, normalise_cid
from cache.ipfs import IPFSStore, open_ipfs_client
from cache.local import LocalStore
from interpreter.analysis.analyze import resolve_features
from interpreter.ids import analysis_id
from streamer.content.ingest import IncomingFile, store_upload
from streamer.content.primary import PLAN_RECORD
from streamer.content.stores import hls_dir
from streamer.db import content as content_db
from streamer.db import runs as runs_db
from streamer.embedded.stack import free_port
from streamer.jobs.chunk_state import parse_done
from streamer.keys import RedisKeys
from streamer.recipes.store import RecipeRef
from streamer.resources import Resources, open_resources, resources_of
from streamer.runs.service import RunSpec, start_run
from streamer.settings import Settings
from tests.interpreter.stream.stream_media import make_clip
from tests.streamer.worker_harness import in_process_worker, store_recipe

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.timeout(300)]

# a SEGMENT of a file input (seeked), a temporal effect, an analysis-driven parameter
RECIPE = """\
name: ipfs-primary-run
version: '1.0'
steps:
- {id: video, type: SOURCE, config: {input: video}}
- {id: cut, type: SEGMENT, inputs: [video], config: {start: 0.6, duration: 6}}
- {id: features, type: ANALYZE, inputs: [video], config: {features: [beats, energy]}}
- {id: trail, type: EFFECT, inputs: [cut], config: {effect: echo, frames: 5}}
- id: pulse
  type: EFFECT
  inputs: [trail, features]
  config: {effect: vignette, amount: 'clamp(0.2 + energy, 0, 1)'}
output: pulse
"""
FEATURES = ["beats", "energy"]

_WORKER = (
    "import logging\n"
    "from streamer.entry.worker import create_worker\n"
    "from streamer.settings import Settings\n"
    "logging.basicConfig(level=logging.INFO)\n"
    "create_worker(Settings.from_env(), max_jobs=2).run()\n"
)


def _env(pg_dsn: str, redis_url: str, ipfs_api: str, root: Path, queue: str) -> dict[str, str]:
    return {
        "DATABASE_URL": pg_dsn,
        "REDIS_URL": redis_url,
        "ARTDAG_DATA_DIR": str(root / "data"),
        "CACHE_DIR": str(root / "cache"),
        "IPFS_API": ipfs_api,
        "IPFS_PRIMARY": "true",
        "ARTDAG_QUEUE": queue,
        "ARTDAG_CHUNK_SEGMENTS": "2",
        "HLS_SEGMENT_SECONDS": "0.5",
    }


@pytest_asyncio.fixture(loop_scope="session")
async def ipfs(ipfs_api: str) -> AsyncIterator[IPFSStore]:
    client = open_ipfs_client(ipfs_api)
    try:
        yield IPFSStore(client)
    finally:
        await client.close()


@contextlib.contextmanager
def _workers(
    envs: list[dict[str, str]], logs: list[Path]
) -> Iterator[list[subprocess.Popen[bytes]]]:
    root = Path(__file__).resolve().parents[2]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WORKER],
            env={**os.environ, **env},
            cwd=root,
            stderr=log.open("wb"),
        )
        for env, log in zip(envs, logs, strict=True)
    ]
    try:
        yield procs
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=10)


async def _ready(res: Resources, count: int, timeout: float = 60) -> None:
    """Wait until ``count`` workers of the queue wrote their health record."""
    prefix = res.keys.worker_records
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [k async for k in res.redis.scan_iter(match=prefix + "*")]
        if len(found) >= count:
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"{count} workers did not start")


async def _upload(res: Resources, clip: Path) -> str:
    async def chunks() -> AsyncIterator[bytes]:
        yield clip.read_bytes()

    stored = await store_upload(res, IncomingFile(chunks(), "clip.mp4"), media_only=True)
    assert stored.ipfs is not None and stored.ipfs.added, stored.ipfs  # IPFS-primary upload
    return stored.entry.cid


async def _wait_done(res: Resources, run_id: str, timeout: float = 200) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = await runs_db.get_run(res.db, run_id)
        assert row is not None
        if row["status"] in ("completed", "failed", "cancelled"):
            return dict(row)
        await asyncio.sleep(0.2)
    raise AssertionError(f"run {run_id} did not finish")


def _without_dates(text: str) -> str:
    return "\n".join(x for x in text.splitlines() if not x.startswith("#EXT-X-PROGRAM-DATE-TIME"))


def _names(text: str) -> list[str]:
    return [x for x in text.splitlines() if x and not x.startswith("#")]


async def _node_run(
    settings: Settings, clip: Path, workers: list[dict[str, str]], logs: list[Path]
) -> tuple[dict[str, Any], str, set[str], list[int]]:
    """Upload + start through ``settings``' services, render with ``workers``.

    Returns (row, upload CID, the workers that rendered chunks, their pids).
    """
    async with open_resources(settings, db_max_size=3) as res:
        cid = await _upload(res, clip)
        with _workers(workers, logs) as procs:
            await _ready(res, len(procs))
            run = await start_run(res, RunSpec(RecipeRef(text=RECIPE), {"video": cid}))
            row = await _wait_done(res, str(run["id"]))
            redis: Any = res.redis  # redis-py's stubs type every command as sync or async
            table = await redis.hgetall(res.keys.chunks(str(run["id"])))
            rendered = {d.worker for d in parse_done(table).values()}
            pids = [p.pid for p in procs]
    return row, cid, rendered, pids


async def test_two_nodes_with_separate_caches_render_one_chunked_run_through_ipfs(
    pg_dsn: str,
    redis_url: str,
    redis_prefix: str,
    ipfs_api: str,
    ipfs: IPFSStore,
    tmp_path: Path,
) -> None:
    clip = make_clip(tmp_path / "clip.mp4", width=160, height=120, seconds=8)

    # the reference: one node, one worker
    queue = f"{redis_prefix}primary:{uuid.uuid4().hex[:8]}"
    ref_env = _env(pg_dsn, redis_url, ipfs_api, tmp_path / "ref", queue)
    ref = Settings.from_env(ref_env)
    row, cid, _, _ = await _node_run(ref, clip, [ref_env], [tmp_path / "ref.log"])
    assert row["status"] == "completed", row
    ref_text = (hls_dir(ref, str(row["id"])) / "playlist.m3u8").read_text()
    assert ref_text.rstrip().endswith("#EXT-X-ENDLIST")
    ref_bytes = [(hls_dir(ref, str(row["id"])) / n).read_bytes() for n in _names(ref_text)]

    # the upload and the run through a server node S; workers on nodes A and B, empty caches
    queue = f"{redis_prefix}primary:{uuid.uuid4().hex[:8]}"
    env_s = _env(pg_dsn, redis_url, ipfs_api, tmp_path / "s", queue)
    env_a = _env(pg_dsn, redis_url, ipfs_api, tmp_path / "a", queue)
    env_b = _env(pg_dsn, redis_url, ipfs_api, tmp_path / "b", queue)
    server, a, b = (Settings.from_env(e) for e in (env_s, env_a, env_b))
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    try:
        row, cid_s, rendered, pids = await _node_run(server, clip, [env_a, env_b], logs)
        assert row["status"] == "completed", row
    except AssertionError:
        for f in logs:
            print("LOG", f, f.read_text()[-4000:])
        raise
    run_id = str(row["id"])
    assert cid_s == cid and LocalStore(server.storage.cache_dir).has(cid)
    # neither worker node was given the input: each read it from IPFS into its own cache
    for settings, log in zip((a, b), logs, strict=True):
        assert LocalStore(settings.storage.cache_dir).has(cid), settings.storage.cache_dir
        assert f"input 'video': {cid} fetched from IPFS" in log.read_text(), log
    # both nodes rendered chunks (tokens are host:pid)
    assert {w.rsplit(":", 1)[1] for w in rendered} == {str(p) for p in pids}, rendered

    # the same bytes as one node: playlist text, segment names (CIDs) and bytes, all on IPFS
    assert row["playlist_cid"], row
    playlist = (await ipfs.cat(row["playlist_cid"])).decode()
    assert _without_dates(playlist) == _without_dates(ref_text)
    assert await ipfs.is_pinned(row["playlist_cid"])
    for name, data in zip(_names(ref_text), ref_bytes, strict=True):
        seg_cid = name.rsplit(".", 1)[0]
        assert await ipfs.is_pinned(seg_cid), name
        assert await ipfs.cat(seg_cid) == data, name
    # the completing node gathered every segment into its HLS folder
    done = [s for s in (a, b) if (hls_dir(s, run_id) / "playlist.m3u8").is_file()]
    assert any(all((hls_dir(s, run_id) / n).is_file() for n in _names(ref_text)) for s in done)

    # plan and analysis: on IPFS (pinned), CIDs in PostgreSQL, the analysis read by B from IPFS
    async with open_resources(server, db_max_size=2) as res:
        plan_cid = await content_db.get_step_cache(res.db, str(row["plan_id"]))
        aid = analysis_id(cid, resolve_features(FEATURES))
        analysis_cid = await content_db.get_step_cache(res.db, aid)
        kinds = await res.db.fetch(
            "SELECT kind FROM cache_items WHERE cid = ANY($1::text[])", [plan_cid, analysis_cid]
        )
        step_types = await res.db.fetch(
            "SELECT cache_id, step_type FROM step_cache WHERE cache_id = ANY($1::text[])",
            [str(row["plan_id"]), aid],
        )
    assert plan_cid is not None and analysis_cid is not None
    assert {r["kind"] for r in kinds} == {"plan", "analysis"}
    assert {r["step_type"] for r in step_types} == {PLAN_RECORD, "ANALYZE"}
    for doc in (plan_cid, analysis_cid):
        assert await ipfs.is_pinned(doc)
        assert normalise_cid(cid_of_bytes(await ipfs.cat(doc))) == normalise_cid(doc)
    assert b'"plan_id"' in await ipfs.cat(plan_cid)
    # the reference run computed the analysis; the two-node run's owner read it from IPFS
    fetched = f"analysis {aid[:12]}: {analysis_cid} fetched from IPFS"
    assert any(fetched in f.read_text() for f in logs), fetched


async def test_an_input_missing_here_with_ipfs_down_fails_the_run_clearly(
    pg_dsn: str, redis_url: str, redis_prefix: str, tmp_path: Path
) -> None:
    queue = f"{redis_prefix}primary-down:{uuid.uuid4().hex[:8]}"
    env = _env(pg_dsn, redis_url, f"/ip4/127.0.0.1/tcp/{free_port()}", tmp_path, queue)
    settings = Settings.from_env(env)
    missing = cid_of_bytes(b"an input only another node had")
    async with open_resources(settings, db_max_size=3) as res:
        text = RECIPE.replace("features: [beats, energy]", "features: [energy]")
        rid = await store_recipe(res.db, text)
        run_id = str(
            (await runs_db.create_run(res.db, recipe_id=rid, inputs={"video": missing}))["id"]
        )
        async with in_process_worker(settings, queue, 2):
            job = await res.arq.enqueue_job(
                "render_run", run_id, _queue_name=queue, _job_id=RedisKeys.render_job_id(run_id)
            )
            assert job is not None
            t0 = time.monotonic()
            row = await _wait_done(res, run_id, timeout=60)
            took = time.monotonic() - t0
    assert row["status"] == "failed", row
    error = str(row["error"])
    assert "input 'video'" in error and missing in error, error
    assert "IPFS node did not answer" in error, error
    assert took < 30  # bounded retries, no hang


async def test_a_live_run_uploaded_on_node_a_renders_on_node_b_with_an_empty_cache(
    pg_dsn: str,
    redis_url: str,
    redis_prefix: str,
    ipfs_api: str,
    ipfs: IPFSStore,
    tmp_path: Path,
) -> None:
    clip = make_clip(tmp_path / "clip.mp4", width=160, height=120, seconds=3)
    queue = f"{redis_prefix}primary-single:{uuid.uuid4().hex[:8]}"
    env_a = {
        **_env(pg_dsn, redis_url, ipfs_api, tmp_path / "a", queue),
        "ARTDAG_CHUNK_SEGMENTS": "0",
    }
    env_b = {**env_a, "CACHE_DIR": str(tmp_path / "b" / "cache")}
    a, b = Settings.from_env(env_a), Settings.from_env(env_b)
    text = RECIPE.replace("duration: 6", "duration: 2").replace("[beats, energy]", "[energy]")
    async with open_resources(a, db_max_size=3) as res:
        cid = await _upload(res, clip)  # node A's server: its cache and IPFS
        async with in_process_worker(b, queue, 2) as worker:
            run = await start_run(res, RunSpec(RecipeRef(text=text), {"video": cid}))
            row = await _wait_done(res, str(run["id"]), timeout=120)
            fetched = resources_of(worker.ctx).stores.read_through.fetched
        aid = analysis_id(cid, resolve_features(["energy"]))
        analysis_cid = await content_db.get_step_cache(res.db, aid)
        plan_cid = await content_db.get_step_cache(res.db, str(row["plan_id"]))
    assert row["status"] == "completed", row
    assert LocalStore(b.storage.cache_dir).has(cid)  # node B read the upload from IPFS
    assert not (tmp_path / "a" / "cache" / "hls" / str(row["id"])).exists()  # B rendered it
    assert fetched >= 1  # node B's read-through fetched (the input) from IPFS
    # B computed the analysis (no other node had it) and added it to IPFS; the plan too
    assert analysis_cid is not None and plan_cid is not None
    assert await ipfs.is_pinned(analysis_cid) and await ipfs.is_pinned(plan_cid)
    assert LocalStore(b.storage.cache_dir).has(analysis_cid)
    # the output: the live playlist and its segments on IPFS, pinned
    assert row["playlist_cid"] and await ipfs.is_pinned(row["playlist_cid"])
    playlist = (await ipfs.cat(row["playlist_cid"])).decode()
    assert playlist.rstrip().endswith("#EXT-X-ENDLIST")
    names = _names(playlist)
    assert names
    for name in names:  # the IPFS playlist names /ipfs/<cid>?filename=<cid>.ts
        seg = name.split("?", 1)[0].rsplit("/", 1)[-1].rsplit(".", 1)[0]
        assert await ipfs.is_pinned(seg), name
