"""``start_demo`` (``artdag serve --demo``): a queued live run of the audio-reactive demo."""

from __future__ import annotations

from streamer.entry.demo import demo_analysis, start_demo
from tests.api.conftest import LiveServer
from tests.api.live_media import parse_playlist


async def test_start_demo_creates_and_renders_a_live_run(live_server: LiveServer) -> None:
    live = live_server
    lines: list[str] = []
    run_id = await start_demo(live.res, duration=2.0, pace=None, announce=lines.append)
    assert len(lines) == 1 and lines[0].endswith(f"/run/{run_id}")
    run = await live.wait_run(run_id, lambda r: r["status"] not in ("pending", "running"), 120)
    assert run["status"] == "completed", run
    listing = (await live.client.get("/runs")).json()["runs"]
    assert run_id in [r["run_id"] for r in listing]
    plan = (await live.client.get(f"/api/run/{run_id}/plan")).json()
    assert {s["node_type"] for s in plan["steps"]} >= {"SOURCE", "ANALYZE", "EFFECT", "MUX"}
    pl = parse_playlist((await live.client.get(f"/runs/{run_id}/playlist.m3u8")).text)
    assert pl["endlist"] and abs(sum(d for _, d in pl["segments"]) - 2.0) < 1e-3


def test_demo_analysis_matches_the_click_track() -> None:
    doc = demo_analysis(4.0)
    assert doc["beats"] == [0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5]
    values = doc["energy"]["values"]
    assert len(values) == 121 and values[0] == 1.0 and values[15] == 1.0  # a click every 15 samples
    assert max(values[1:15]) < 1.0
