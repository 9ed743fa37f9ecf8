"""3-phase execution on two real arq workers (PostgreSQL + Redis of the harness).

One module-scoped stack: two ``arq.Worker`` instances in this event loop, each
with its own Redis pool and PostgreSQL pool, consuming one private queue, and
a shared CACHE_DIR (as two workers on one machine).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import pytest_asyncio
from arq import create_pool
from arq.connections import ArqRedis, RedisSettings
from arq.jobs import deserialize_result

from interpreter.canonical import canonical, recipe_id
from interpreter.ids import analysis_id
from interpreter.loader import detect_syntax, load_recipe
from interpreter.planner import ExecutionPlan
from streamer.content.provenance import descriptor_cid, hardware_descriptor, software_descriptor
from streamer.db import content as content_db
from streamer.db import recipes as recipes_db
from streamer.db import runs as runs_db
from streamer.db.pool import apply_migrations
from streamer.db.pool import create_pool as create_db_pool
from streamer.embedded.stack import free_port
from streamer.entry.worker import create_worker
from streamer.jobs.claims import claim
from streamer.keys import RedisKeys
from streamer.settings import Settings
from tests.media import write_wav

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.timeout(240)]


# four independent effect steps, two of them identical (one cache id), joined by a
# SEQUENCE tree: level 1 has 4 steps (3 distinct), level 2 two joins, level 3 the root
PARALLEL = """\
name: parallel-test
version: '1.0'
steps:
- id: a
  type: SOURCE
  config: {generator: testsrc, duration: 2, width: 160, height: 120, fps: 10}
- id: b
  type: SOURCE
  config: {generator: gradient, duration: 2, width: 160, height: 120, fps: 10}
- id: c
  type: SOURCE
  config: {generator: noise, duration: 2, width: 160, height: 120, fps: 10, seed: 3}
- id: fa
  type: EFFECT
  inputs: [a]
  config: {effect: hue, degrees: 90 * t}
- id: fb
  type: EFFECT
  inputs: [b]
  config: {effect: invert}
- id: fc
  type: EFFECT
  inputs: [c]
  config: {effect: blur, radius: 2}
- id: fd
  type: EFFECT
  inputs: [b]
  config: {effect: invert}
- id: seq
  type: SEQUENCE
  inputs: [fa, fb, fc, fd]
output: seq
"""

BEATS = """\
name: beats-test
version: '1.0'
inputs:
  audio: {type: audio, description: click track}
steps:
- id: analyze_audio
  type: ANALYZE
  inputs: [audio]
  config: {features: [beats, energy]}
- id: v
  type: SOURCE
  config: {generator: testsrc, duration: 4, width: 128, height: 96, fps: 10}
- id: synced
  type: BEAT_SYNC
  inputs: [v, analyze_audio]
  config: {mode: cut}
output: synced
"""


# ANALYZE over a generator: the click track is not materialised; its audio is
# rendered offline for the analysis, cached under the plan's id
GENERATED_BEATS = """\
name: generated-beats-test
version: '1.0'
steps:
- id: clicks
  type: SOURCE
  config: {generator: clicks, duration: 4, bpm: 120}
- id: beats
  type: ANALYZE
  inputs: [clicks]
  config: {features: [beats, energy]}
- id: v
  type: SOURCE
  config: {generator: testsrc, duration: 4, width: 128, height: 96, fps: 10}
- id: synced
  type: BEAT_SYNC
  inputs: [v, beats]
  config: {mode: cut}
output: synced
"""


@dataclass
class Stack:
    settings: Settings
    queue: str
    db: Any
    arq: ArqRedis
    workers: list[Any]

    @property
    def cache_dir(self) -> Path:
        return self.settings.storage.cache_dir

    async def start_run(self, text: str, inputs: dict[str, str] | None = None) -> str:
        recipe = load_recipe(text)
        rid = recipe_id(recipe)
        await recipes_db.put_recipe(
            self.db,
            recipe_id=rid,
            name=recipe.name,
            source=text,
            syntax=detect_syntax(text),
            canonical=canonical(recipe),
        )
        run = await runs_db.create_run(self.db, recipe_id=rid, inputs=inputs or {})
        return str(run["id"])

    async def run(self, text: str, inputs: dict[str, str] | None = None) -> dict[str, Any]:
        run_id = await self.start_run(text, inputs)
        job = await self.arq.enqueue_job("run_recipe", run_id, _queue_name=self.queue)
        assert job is not None
        result: dict[str, Any] = await job.result(timeout=180, poll_delay=0.05)
        return result

    async def counts(self) -> dict[str, int]:
        raw = await self.arq.hgetall(  # type: ignore[misc]
            RedisKeys(queue=self.queue).exec_counts
        )
        return {k.decode(): int(v) for k, v in raw.items()}

    async def finished_jobs(self, function: str) -> set[str]:
        """Ids of the finished ``function`` jobs of this queue (arq keeps results an hour)."""
        ids = set()
        async for key in self.arq.scan_iter(match="arq:result:*", count=500):
            raw = await self.arq.get(key)
            if raw is None:
                continue  # expired between the scan and the read
            res = deserialize_result(raw)
            if res.queue_name == self.queue and res.function == function and res.job_id:
                ids.add(res.job_id)
        return ids

    async def executors(self) -> dict[str, str]:
        raw = await self.arq.hgetall(  # type: ignore[misc]
            RedisKeys(queue=self.queue).exec_workers
        )
        return {k.decode(): v.decode() for k, v in raw.items()}


@contextlib.asynccontextmanager
async def open_stack(
    settings_per_worker: list[Settings], queue: str, pg_dsn: str, redis_url: str
) -> AsyncIterator[Stack]:
    """Start one arq worker per settings (own pools each) on ``queue``; stop them after."""
    db = await create_db_pool(pg_dsn, max_size=3)
    await apply_migrations(db)
    arq = await create_pool(RedisSettings.from_dsn(redis_url))
    workers = [
        create_worker(s, handle_signals=False, queue_name=queue, max_jobs=2)
        for s in settings_per_worker
    ]
    tasks = [asyncio.create_task(w.main(), name=f"exec-worker-{i}") for i, w in enumerate(workers)]
    try:
        yield Stack(settings_per_worker[0], queue, db, arq, workers)
    finally:
        for w in workers:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(w.close(), 30)
        for t in tasks:
            t.cancel()
            with contextlib.suppress(BaseException):
                await t
        await arq.aclose()
        await db.close()


def stack_settings(pg_dsn: str, redis_url: str, root: Path, **env: str) -> Settings:
    """Settings of one worker: harness PostgreSQL/Redis, CACHE_DIR under ``root``."""
    return Settings.from_env(
        {
            "DATABASE_URL": pg_dsn,
            "REDIS_URL": redis_url,
            "ARTDAG_DATA_DIR": str(root / "data"),
            "CACHE_DIR": str(root / "cache"),
            "IPFS_API": f"/ip4/127.0.0.1/tcp/{free_port()}",  # closed: local-only
            **env,
        }
    )


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def stack(
    pg_dsn: str, redis_url: str, redis_prefix: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Stack]:
    """Two workers on one machine: one CACHE_DIR, one private queue."""
    settings = stack_settings(pg_dsn, redis_url, tmp_path_factory.mktemp("exec"))
    queue = f"{redis_prefix}exec:{uuid.uuid4().hex[:8]}"
    async with open_stack([settings, settings], queue, pg_dsn, redis_url) as st:
        yield st


def ffprobe_frames(ffprobe: str, path: Path) -> int:
    out = subprocess.run(
        [
            ffprobe,
            "-v",
            "error",
            "-count_frames",
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream=nb_read_frames",
            "-of",
            "json",
            str(path),
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return int(json.loads(out.stdout)["streams"][0]["nb_read_frames"])


async def test_two_workers_run_each_step_once_and_both_work(stack: Stack, ffprobe: str) -> None:
    result = await stack.run(PARALLEL)
    assert result["status"] == "completed", result
    run = await runs_db.get_run(stack.db, result["run_id"])
    assert run is not None and run["status"] == "completed" and run["progress"] == 1.0
    p = ExecutionPlan.from_json(json.dumps(run["plan"]))
    assert p.step("fb").cache_id == p.step("fd").cache_id  # the duplicate
    rendered = {s.cache_id for s in p.steps if s.node_type != "SOURCE"}
    assert len(rendered) == 6  # fa, fb(=fd), fc, two joins, the root

    counts = await stack.counts()
    assert counts == {cid: 1 for cid in rendered}, "a step ran twice or not at all"
    workers = set((await stack.executors()).values())
    assert len(workers) == 2, f"only {workers} executed steps"

    # every step's output is in the cache; the output is an MP4 with 4 x 20 frames
    for cid in rendered:
        assert await content_db.get_step_cache(stack.db, cid) is not None
    out = run["output_cid"]
    assert out == await content_db.get_step_cache(stack.db, p.step("seq").cache_id)
    path = next((stack.cache_dir / out[-2:]).glob(f"{out}*"))
    assert path.suffix == ".mp4"
    assert ffprobe_frames(ffprobe, path) == 80
    assert (stack.cache_dir / "plans" / f"{p.plan_id}.json").is_file()


async def test_rerun_is_fully_cached_and_fast(stack: Stack) -> None:
    first = await stack.run(PARALLEL)  # cached by the previous test, or computed now
    assert first["status"] == "completed"
    before = await stack.counts()
    t0 = time.perf_counter()
    again = await stack.run(PARALLEL)
    wall = time.perf_counter() - t0
    assert again["status"] == "completed", again
    assert again["executed"] == 0
    assert again["output_cid"] == first["output_cid"]
    assert await stack.counts() == before  # nothing executed anywhere
    assert again["seconds"] < 1.0, again
    run = await runs_db.get_run(stack.db, again["run_id"])
    assert run is not None
    assert all(s["cached"] for s in run["plan"]["steps"] if s["node_type"] != "SOURCE")
    print(f"cached re-run: job {again['seconds']:.3f}s, enqueue-to-result {wall:.3f}s (noisy box)")


async def test_provenance_record_has_the_spec_fields(stack: Stack) -> None:
    result = await stack.run(PARALLEL)
    rows = await content_db.list_provenance(stack.db, result["run_id"])
    assert len(rows) == 1
    rec = rows[0]["record"]
    assert rows[0]["cid"] == result["output_cid"]
    assert set(rec) == {
        "task_id",
        "rendered_at",
        "rendered_by",
        "output",
        "inputs",
        "effects",
        "infrastructure",
    }
    assert rec["task_id"]
    assert rec["rendered_at"].endswith("Z") and rec["rendered_at"][:4].isdigit()
    assert rec["rendered_by"].startswith("@")
    assert rec["output"] == {"name": "parallel-test.mp4", "cid": result["output_cid"]}
    assert rec["inputs"] == []
    assert [e["name"] for e in rec["effects"]] == ["blur", "hue", "invert"]
    assert all(e["version"] for e in rec["effects"])
    infra = rec["infrastructure"]
    assert infra["software"] == {
        "name": "infra:artdag",
        "cid": descriptor_cid(software_descriptor()),
    }
    assert infra["hardware"] == {
        "name": f"infra:{socket.gethostname()}",
        "cid": descriptor_cid(hardware_descriptor()),
    }
    assert infra["software"]["cid"].startswith("Qm")


def write_clicks(path: Path, seconds: float = 4.0, bpm: float = 120.0) -> None:
    """A WAV click track (a short burst on every beat)."""
    sr = 22050
    n = int(seconds * sr)
    sig = np.zeros(n, np.float32)
    step = int(sr * 60 / bpm)
    burst = (np.sin(2 * np.pi * 1000 * np.arange(400) / sr) * np.hanning(400)).astype(np.float32)
    for start in range(0, n - 400, step):
        sig[start : start + 400] = 0.9 * burst
    write_wav(path, sig, sr)


async def test_analyze_phase_feeds_beat_sync_and_is_cached(stack: Stack, tmp_path: Path) -> None:
    from cache.local import LocalStore

    wav = tmp_path / "clicks.wav"
    write_clicks(wav)
    item = LocalStore(stack.cache_dir).put_file(wav, suffix=".wav")
    result = await stack.run(BEATS, {"audio": item.cid})
    assert result["status"] == "completed", result
    run = await runs_db.get_run(stack.db, result["run_id"])
    assert run is not None
    beats = run["analysis"]["analyze_audio"]["audio"]["beats"]
    assert 5 <= len(beats) <= 10  # 120 bpm over 4 s
    analyzed = await stack.finished_jobs("analyze")
    assert analyzed, "the first run analysed the input on a worker"
    # a re-run finds the analysis in the cache in-process: no analyze job at all
    again = await stack.run(BEATS, {"audio": item.cid})
    assert again["status"] == "completed" and again["executed"] == 0, again
    assert await stack.finished_jobs("analyze") == analyzed
    rerun = await runs_db.get_run(stack.db, again["run_id"])
    assert rerun is not None and rerun["analysis"] == run["analysis"]
    # the analyze task again: a cache hit (no decoding)
    job = await stack.arq.enqueue_job(
        "analyze", item.cid, ["beats", "energy"], _queue_name=stack.queue
    )
    assert job is not None
    res = await job.result(timeout=60, poll_delay=0.05)
    assert res["cached"] is True
    assert res["analysis_id"] == run["plan"]["analysis"][0]["analysis_id"]


async def test_analyze_step_over_a_generator_analyses_its_audio(stack: Stack) -> None:
    result = await stack.run(GENERATED_BEATS)
    assert result["status"] == "completed", result
    run = await runs_db.get_run(stack.db, result["run_id"])
    assert run is not None
    p = ExecutionPlan.from_json(json.dumps(run["plan"]))
    step = p.step("beats")
    assert step.cache_id == analysis_id(p.step("clicks").cache_id, ["beats", "energy"])
    doc = json.loads((stack.cache_dir / "analysis" / f"{step.cache_id}.json").read_text())
    assert 6 <= len(doc["audio"]["beats"]) <= 8  # 120 bpm over 4 s
    assert not list((stack.cache_dir / "steps").glob("audio-*"))  # the WAV is gone
    again = await stack.run(GENERATED_BEATS)
    assert again["status"] == "completed" and again["executed"] == 0, again


async def test_waiting_worker_gets_the_claim_owners_result(stack: Stack) -> None:
    # plan through the worker, then hold the claim of the root step ourselves: the
    # worker waits; when our "crashed" claim expires it takes the step over
    job = await stack.arq.enqueue_job(
        "plan", PARALLEL.replace("seed: 3", "seed: 4"), _queue_name=stack.queue
    )
    assert job is not None
    planned = await job.result(timeout=60, poll_delay=0.05)
    p = ExecutionPlan.from_json(json.dumps(planned["plan"]))
    step = p.step("fc")
    key = RedisKeys(queue=stack.queue).claim(step.cache_id)
    assert await claim(stack.arq, key, "crashed-worker/1", 1.5)
    t0 = time.perf_counter()
    job = await stack.arq.enqueue_job("execute_step", p.plan_id, "fc", _queue_name=stack.queue)
    assert job is not None
    res = await job.result(timeout=60, poll_delay=0.05)
    assert res["status"] == "executed"
    assert time.perf_counter() - t0 >= 1.0  # it waited for the expiry
    assert (await stack.counts())[step.cache_id] == 1


async def test_bad_plan_and_step_fail_clearly(stack: Stack) -> None:
    job = await stack.arq.enqueue_job("execute_step", "0" * 64, "x", _queue_name=stack.queue)
    assert job is not None
    with pytest.raises(Exception, match="is not stored here"):
        await job.result(timeout=30, poll_delay=0.05)


FAILS = """\
name: failing-test
version: '1.0'
inputs:
  audio: {type: audio, description: silence}
steps:
- id: analyze_audio
  type: ANALYZE
  inputs: [audio]
  config: {features: [beats]}
- id: v
  type: SOURCE
  config: {generator: testsrc, duration: 2, width: 64, height: 48, fps: 10}
- id: synced
  type: BEAT_SYNC
  inputs: [v, analyze_audio]
output: synced
"""


async def test_a_failing_step_fails_the_run_and_releases_its_claim(
    stack: Stack, tmp_path: Path
) -> None:
    from cache.local import LocalStore

    wav = tmp_path / "silence.wav"
    write_clicks(wav, seconds=2.0, bpm=20.0)  # 20 bpm over 2 s: fewer than two beats
    item = LocalStore(stack.cache_dir).put_file(wav, suffix=".wav")
    result = await stack.run(FAILS, {"audio": item.cid})
    assert result["status"] == "failed"
    run = await runs_db.get_run(stack.db, result["run_id"])
    assert run is not None and run["status"] == "failed"
    assert "fewer than two beats" in run["error"] and "synced" in run["error"]
    p = ExecutionPlan.from_json(json.dumps(run["plan"]))
    key = RedisKeys(queue=stack.queue).claim(p.step("synced").cache_id)
    assert await stack.arq.exists(key) == 0
    assert await content_db.get_step_cache(stack.db, p.step("synced").cache_id) is None


async def test_cancel_between_levels(stack: Stack) -> None:
    from streamer.runs.events import request_cancel

    run_id = await stack.start_run(PARALLEL.replace("seed: 3", "seed: 9"))
    await request_cancel(stack.arq, stack.settings.services.keys, run_id)
    job = await stack.arq.enqueue_job("run_recipe", run_id, _queue_name=stack.queue)
    assert job is not None
    res = await job.result(timeout=60, poll_delay=0.05)
    assert res["status"] == "cancelled"
    run = await runs_db.get_run(stack.db, run_id)
    assert run is not None and run["status"] == "cancelled" and run["output_cid"] is None
