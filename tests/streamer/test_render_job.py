"""The render job outside HTTP: pacing, early exits, failures, retries, options."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator
from typing import Any, cast

import numpy as np
import pytest
import pytest_asyncio

from cache.ipfs import IPFSStore
from effects.frame import VideoFormat, YUVFrame
from hls.ladder import MASTER_NAME, VariantUpdate
from interpreter.canonical import canonical, recipe_id
from interpreter.loader import load_recipe
from interpreter.planner import plan_recipe
from streamer.content.stores import hls_dir
from streamer.db import content as content_db
from streamer.db import recipes as recipes_db
from streamer.db import runs as runs_db
from streamer.jobs.render import LiveRender, PacedSink, hls_options, render_run
from streamer.resources import RESOURCES_KEY, open_resources
from streamer.runs.events import request_cancel
from streamer.settings import HLSSettings, Settings

RECIPE = """\
name: job-test
version: '1.0'
steps:
- id: video
  type: SOURCE
  config: {generator: testsrc, duration: 1, width: 160, height: 120, fps: 25}
output: video
"""


# no input files: the ANALYZE analyses the click track the recipe makes
GENERATED = """\
name: job-generated-beats
version: '1.0'
steps:
- id: beat
  type: SOURCE
  config: {generator: clicks, duration: 6, bpm: 120}
- id: features
  type: ANALYZE
  inputs: [beat]
  config: {features: [beats, energy]}
- id: video
  type: SOURCE
  config: {generator: testsrc, duration: 6, width: 160, height: 120, fps: 25}
- id: fx
  type: EFFECT
  inputs: [video, features]
  config: {effect: hue, degrees: 90 * energy}
- id: show
  type: MUX
  inputs: [fx, beat]
output: show
"""


class _NullSink:
    def __init__(self) -> None:
        self.frames = 0

    async def start(self, video: Any, audio: Any, cb: Any) -> None:
        return None

    def write(self, frame: Any, audio: Any) -> None:
        self.frames += 1

    async def finish(self) -> str:
        return "done"

    async def abort(self) -> None:
        return None


async def test_paced_sink_holds_real_time() -> None:
    inner = _NullSink()
    sink = PacedSink(inner, pace=5.0)  # 25 fps at 5x: one frame per 8 ms
    await sink.start(VideoFormat(16, 16, 25, 1), None, None)
    frame = YUVFrame(np.zeros((24, 16), np.uint8), 16, 16)
    t0 = time.monotonic()
    for _ in range(26):
        sink.write(frame, None)
    elapsed = time.monotonic() - t0
    assert inner.frames == 26
    assert elapsed >= 25 / 125 - 0.01
    assert await sink.finish() == "done"
    with pytest.raises(ValueError):
        PacedSink(inner, 0)


async def test_paced_sink_writes_its_lead_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    sleeps: list[float] = []
    monkeypatch.setattr(time, "sleep", sleeps.append)
    inner = _NullSink()
    sink = PacedSink(inner, pace=1.0, lead=0.4)  # 25 fps: the first 10 frames are free
    await sink.start(VideoFormat(16, 16, 25, 1), None, None)
    assert sink.started_at is not None and sink.first_write_at is None
    frame = YUVFrame(np.zeros((24, 16), np.uint8), 16, 16)
    for _ in range(11):
        sink.write(frame, None)
    assert sleeps == [] and inner.frames == 11 and sink.first_write_at is not None
    for _ in range(3):
        sink.write(frame, None)
    assert sleeps and all(0 < s <= 0.04 * 3 for s in sleeps)  # real time from there on


async def test_unpaced_sink_never_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    sleeps: list[float] = []
    monkeypatch.setattr(time, "sleep", sleeps.append)
    sink = PacedSink(_NullSink(), None)
    await sink.start(VideoFormat(16, 16, 25, 1), None, None)
    frame = YUVFrame(np.zeros((24, 16), np.uint8), 16, 16)
    for _ in range(50):
        sink.write(frame, None)
    assert sleeps == [] and sink.first_write_at is not None


def test_paced_lead_covers_the_first_segment_and_the_encoder_delay() -> None:
    from hls.options import HLSOptions
    from streamer.jobs.render_inputs import ENCODER_DELAY_SECONDS, paced_lead

    assert paced_lead(HLSOptions()) == 1.0 + ENCODER_DELAY_SECONDS
    assert paced_lead(HLSOptions(segment_duration=0.5)) == 0.5 + ENCODER_DELAY_SECONDS
    assert paced_lead(HLSOptions(first_segment_duration=None)) == 2.0 + ENCODER_DELAY_SECONDS


def test_hls_options_follow_settings() -> None:
    s = Settings(hls=HLSSettings(segment_seconds=1.5, container="fmp4", x264_preset="ultrafast"))
    opts = hls_options(s)
    assert (opts.segment_duration, opts.container, opts.preset) == (1.5, "fmp4", "ultrafast")
    assert hls_options(Settings()).container == "mpegts"


@pytest_asyncio.fixture(loop_scope="session")
async def ctx(service_settings: Settings, tmp_path: Any) -> AsyncIterator[dict[str, Any]]:
    settings = dataclasses.replace(
        service_settings,
        storage=dataclasses.replace(service_settings.storage, cache_dir=tmp_path / "cache"),
    )
    async with open_resources(settings) as res:
        res.stores.ipfs = None  # local output only
        # the job reads only RESOURCES_KEY; the rest is for the tests' own checks
        yield {
            RESOURCES_KEY: res,
            "settings": settings,
            "db": res.db,
            "redis": res.redis,
            "keys": res.keys,
            "stores": res.stores,
            "job_id": "j1",
        }


async def _new_run(db: Any, text: str = RECIPE) -> str:
    recipe = load_recipe(text)
    rid = recipe_id(recipe)
    await recipes_db.put_recipe(
        db, recipe_id=rid, name=recipe.name, source=text, syntax="yaml", canonical=canonical(recipe)
    )
    return str((await runs_db.create_run(db, recipe_id=rid, inputs={}))["id"])


async def test_missing_run_is_reported(ctx: dict[str, Any]) -> None:
    assert (await render_run(ctx, "no-such-run"))["status"] == "missing"


async def test_cancel_before_start_renders_nothing(ctx: dict[str, Any]) -> None:
    run_id = await _new_run(ctx["db"])
    await request_cancel(ctx["redis"], ctx["keys"], run_id)
    assert (await render_run(ctx, run_id))["status"] == "cancelled"
    row = await runs_db.get_run(ctx["db"], run_id)
    assert row is not None and row["status"] == "cancelled" and row["finished_at"] is not None
    assert not hls_dir(ctx["settings"], run_id).exists()
    # a terminal run is never rendered again (e.g. a duplicate delivery)
    assert (await render_run(ctx, run_id))["status"] == "cancelled"


async def test_vanished_recipe_fails_with_a_message(ctx: dict[str, Any]) -> None:
    run_id = await _new_run(ctx["db"])
    await ctx["db"].execute("UPDATE runs SET recipe_id = NULL WHERE id = $1", run_id)
    result = await render_run(ctx, run_id)
    assert result["status"] == "failed" and "recipe" in result["error"]


async def test_duration_argument_overrides_the_recipe_length(ctx: dict[str, Any]) -> None:
    run_id = await _new_run(ctx["db"])
    result = await render_run(ctx, run_id, duration=0.4)
    assert result["status"] == "completed", result
    text = (hls_dir(ctx["settings"], run_id) / "playlist.m3u8").read_text()
    total = sum(float(x.split(",")[0]) for x in text.split("#EXTINF:")[1:])
    assert abs(total - 0.4) < 1e-3


async def test_retried_job_starts_over(ctx: dict[str, Any]) -> None:
    run_id = await _new_run(ctx["db"])
    stale = hls_dir(ctx["settings"], run_id)
    stale.mkdir(parents=True)
    (stale / "Qmstale.ts").write_bytes(b"old")
    await runs_db.update_run(ctx["db"], run_id, status="running")  # worker died mid-render
    # a first try finding the run running is a duplicate job: it leaves it alone
    assert (await render_run(ctx, run_id))["status"] == "duplicate"
    assert stale.joinpath("Qmstale.ts").exists()
    result = await render_run({**ctx, "job_try": 2}, run_id)  # arq's retry takes it over
    assert result["status"] == "completed", result
    assert not (stale / "Qmstale.ts").exists()
    row = await runs_db.get_run(ctx["db"], run_id)
    assert row is not None and row["progress"] == 1.0 and row["segment_count"] >= 1
    assert ctx["stores"].local.has(row["output_cid"])  # the final playlist is cached by CID
    records = await content_db.list_provenance(ctx["db"], run_id)
    assert records and records[0]["record"]["output"]["cid"] == row["output_cid"]


async def test_generated_audio_is_analysed_and_cached_by_the_plan_id(
    ctx: dict[str, Any],
) -> None:
    plan = plan_recipe(load_recipe(GENERATED), {})
    aid = plan.analysis[0].analysis_id
    cached = ctx["settings"].storage.cache_dir / "analysis" / f"{aid}.json"
    for _ in range(2):  # the second run finds the analysis in the node's cache
        run_id = await _new_run(ctx["db"], GENERATED)
        await runs_db.update_run(ctx["db"], run_id, plan=plan.to_dict(), plan_id=plan.plan_id)
        result = await render_run(ctx, run_id, duration=0.5)
        assert result["status"] == "completed", result
        row = await runs_db.get_run(ctx["db"], run_id)
        assert row is not None
        analysis = row["analysis"]["features"]
        assert analysis["analysis_id"] == aid and cached.is_file()
        assert 10 <= len(analysis["audio"]["beats"]) <= 12  # 120 bpm over 6 s


async def test_variant_cids_keep_each_rungs_newest_playlist(ctx: dict[str, Any]) -> None:
    """Concurrent rung updates all land; a late live playlist never replaces an ended one."""
    db = ctx["db"]
    run_id = await _new_run(db)
    row = await runs_db.get_run(db, run_id)
    assert row is not None
    live = LiveRender(ctx[RESOURCES_KEY], row, "j1")
    live._ipfs = cast(IPFSStore, object())  # as if publishing to IPFS (no store is called)
    await asyncio.gather(
        live.on_variant_update(VariantUpdate("playlist_180p.m3u8", "a1", False)),
        live.on_variant_update(VariantUpdate("playlist_120p.m3u8", "b1", False)),
        live.on_variant_update(VariantUpdate("playlist_180p.m3u8", "a2", False)),
        live.on_variant_update(VariantUpdate(MASTER_NAME, "m1", False)),
    )
    row = await runs_db.get_run(db, run_id)
    assert row is not None and row["status"] == "running"
    assert row["variant_cids"] == {"playlist_180p.m3u8": "a2", "playlist_120p.m3u8": "b1"}
    assert row["master_cid"] == "m1"
    await live.on_variant_update(VariantUpdate("playlist_180p.m3u8", "a3", True))
    await live.on_variant_update(VariantUpdate("playlist_180p.m3u8", "late", False))
    row = await runs_db.get_run(db, run_id)
    assert row is not None and row["variant_cids"]["playlist_180p.m3u8"] == "a3"


async def test_variant_cids_stay_empty_without_ipfs(ctx: dict[str, Any]) -> None:
    db = ctx["db"]
    run_id = await _new_run(db)
    row = await runs_db.get_run(db, run_id)
    assert row is not None
    live = LiveRender(ctx[RESOURCES_KEY], row, "j1")
    await live.on_variant_update(VariantUpdate("playlist_180p.m3u8", "local", False))
    row = await runs_db.get_run(db, run_id)
    assert row is not None and row["variant_cids"] is None and row["status"] == "pending"
