"""IPFS-primary mode: two L1 nodes (separate CACHE_DIRs) executing one recipe through IPFS.

The input exists only on IPFS; the plan, the analysis JSON and every step
output are added to IPFS, and each node reads what it lacks from there.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from cache.ipfs import IPFSStore, open_ipfs_client
from cache.local import LocalStore
from interpreter.analysis import AnalysisResult
from interpreter.planner import ExecutionPlan
from streamer.content.stores import Stores
from streamer.db import content as content_db
from streamer.db import runs as runs_db
from streamer.jobs.phases import analyze
from streamer.resources import RESOURCES_KEY, Resources
from tests.streamer.test_exec_workers import Stack, open_stack, stack_settings, write_clicks

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.timeout(240)]

RECIPE = """\
name: ipfs-primary-test
version: '1.0'
inputs:
  audio: {type: audio, description: click track}
steps:
- id: analyze_audio
  type: ANALYZE
  inputs: [audio]
  config: {features: [beats]}
- id: v
  type: SOURCE
  config: {generator: testsrc, duration: 3, width: 112, height: 80, fps: 10}
- id: w
  type: SOURCE
  config: {generator: gradient, duration: 3, width: 112, height: 80, fps: 10}
- id: synced
  type: BEAT_SYNC
  inputs: [v, analyze_audio]
  config: {mode: cut}
- id: tinted
  type: EFFECT
  inputs: [w]
  config: {effect: invert}
- id: out
  type: SEQUENCE
  inputs: [synced, tinted]
output: out
"""


@pytest_asyncio.fixture(loop_scope="session")
async def ipfs(ipfs_api: str) -> AsyncIterator[IPFSStore]:
    client = open_ipfs_client(ipfs_api)
    try:
        yield IPFSStore(client)
    finally:
        await client.close()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def nodes(
    pg_dsn: str,
    redis_url: str,
    redis_prefix: str,
    ipfs_api: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Stack]:
    env = {"IPFS_API": ipfs_api, "IPFS_PRIMARY": "true"}
    a = stack_settings(pg_dsn, redis_url, tmp_path_factory.mktemp("node-a"), **env)
    b = stack_settings(pg_dsn, redis_url, tmp_path_factory.mktemp("node-b"), **env)
    assert a.storage.cache_dir != b.storage.cache_dir and a.ipfs.primary
    queue = f"{redis_prefix}exec-ipfs:{uuid.uuid4().hex[:8]}"
    async with open_stack([a, b], queue, pg_dsn, redis_url) as st:
        st.settings_b = b  # type: ignore[attr-defined]
        yield st


async def test_two_nodes_share_inputs_plan_analysis_and_outputs_via_ipfs(
    nodes: Stack, ipfs: IPFSStore, tmp_path: Path
) -> None:
    wav = tmp_path / "clicks.wav"
    write_clicks(wav, seconds=3.0)
    audio_cid = await ipfs.add_bytes(wav.read_bytes())
    caches = [
        LocalStore(nodes.settings.storage.cache_dir),
        LocalStore(nodes.settings_b.storage.cache_dir),  # type: ignore[attr-defined]
    ]
    assert not any(c.has(audio_cid) for c in caches)  # only IPFS has the input

    result = await nodes.run(RECIPE, {"audio": audio_cid})
    assert result["status"] == "completed", result
    out = result["output_cid"]
    assert await ipfs.is_pinned(out)
    data = await ipfs.cat(out)
    assert data[4:8] == b"ftyp"  # the MP4 itself

    run = await runs_db.get_run(nodes.db, result["run_id"])
    assert run is not None
    p = ExecutionPlan.from_json(json.dumps(run["plan"]))
    for step in p.steps:
        if step.node_type in ("BEAT_SYNC", "EFFECT", "SEQUENCE"):
            cid = await content_db.get_step_cache(nodes.db, step.cache_id)
            assert cid is not None and await ipfs.is_pinned(cid), step.step_id

    # the plan is on IPFS (what another node reads)
    job = await nodes.arq.enqueue_job(
        "plan", RECIPE, inputs={"audio": audio_cid}, _queue_name=nodes.queue
    )
    assert job is not None
    planned = await job.result(timeout=60, poll_delay=0.05)
    assert planned["plan_cid"]
    assert ExecutionPlan.from_json(await ipfs.cat(planned["plan_cid"])).plan_id == p.plan_id
    # recorded by plan id: a node given only the id finds it (step_cache, PLAN; the first
    # stored JSON of the plan: a later one may differ in its steps' "cached" flags)
    recorded = await content_db.get_step_cache(nodes.db, p.plan_id)
    assert recorded is not None and await ipfs.is_pinned(recorded)
    assert ExecutionPlan.from_json(await ipfs.cat(recorded)).plan_id == p.plan_id

    # the analysis JSON is on IPFS too; on either node a repeat is a cache hit
    # (the node that did not analyse reads the other's result from IPFS)
    for settings, local in zip((nodes.settings, nodes.settings_b), caches, strict=True):  # type: ignore[attr-defined]
        resources = Resources(
            settings=settings,
            db=nodes.db,
            redis=nodes.arq,
            arq=nodes.arq,
            stores=Stores(local=local, ipfs=ipfs),
            keys=settings.services.keys,
            token_key=b"k" * 32,
        )
        res = await analyze({RESOURCES_KEY: resources}, audio_cid, ["beats"])
        assert res["cached"] is True and res["ipfs_cid"], settings.storage.cache_dir
        doc = AnalysisResult.from_json(await ipfs.cat(res["ipfs_cid"]))
        assert doc.analysis_id == res["analysis_id"] == p.analysis[0].analysis_id
        assert len(doc.beat_times) >= 4
        assert local.has_json("analysis", res["analysis_id"])
    # the input was fetched into a node cache from IPFS (read-through)
    assert any(c.has(audio_cid) for c in caches)
