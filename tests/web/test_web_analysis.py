"""The analysis tab draws a run's analysis in Chromium, and the plan DAG follows a run.

One completed live run over two uploaded files (a clip with a hard cut and a
120 BPM click track) analysed by the worker: the canvas shows the click track's
waveform with a marker per beat, the envelopes, the clip's motion and its cut;
the playhead follows the player and a click on the chart seeks it. A batch run
(``run_recipe``) opened while pending gets its plan DAG and marks the steps as
the step events arrive. Screenshots of both tabs at desktop and phone widths go
to ``$ARTDAG_TEST_ARTIFACTS`` (default ``tests/.artifacts/``, gitignored).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from playwright.async_api import TimeoutError as PlaywrightTimeout

from interpreter.canonical import canonical, recipe_id
from interpreter.loader import detect_syntax, load_recipe
from streamer.db import recipes as recipes_db
from streamer.db import runs as runs_db
from streamer.entry.demo import demo_analysis, demo_recipe_text
from tests.api.conftest import LiveServer
from tests.api.live_media import live_recipe
from tests.api.walkthrough import AUDIO_CMD, _sh
from tests.web.conftest import HTML

pytestmark = pytest.mark.timeout(240)

SECONDS = 6
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
#: A clip with a hard cut at 3 s: test pattern, then colour bars.
CLIP_CMD = (
    "ffmpeg -v error -y -f lavfi -i testsrc=size=320x240:rate=25:duration={half} "
    "-f lavfi -i smptebars=size=320x240:rate=25:duration={half} "
    '-filter_complex "[0:v][1:v]concat=n=2:v=1[v]" -map "[v]" '
    "-c:v libx264 -preset ultrafast -pix_fmt yuv420p {out}"
)
RECIPE = """\
name: web-analysis
version: '1.0'
inputs:
  video: {type: video, description: a clip with a cut}
  audio: {type: audio, description: a click track}
steps:
  - id: beats
    type: ANALYZE
    inputs: [audio]
    config: {features: [beats, energy, bands, onsets, tempo]}
  - id: motion
    type: ANALYZE
    inputs: [video]
    config: {features: [motion, cuts]}
  - id: flash
    type: EFFECT
    inputs: [video, beats]
    config: {effect: hue, degrees: "120 * decay(6)"}
  - id: tint
    type: EFFECT
    inputs: [flash, motion]
    config: {effect: hue, degrees: "30 * energy"}
  - id: out
    type: MUX
    inputs: [tint, audio]
output: out
"""

CANVAS = '[data-analysis-step="{}"] canvas.analysis-canvas'
CURRENT_TIME = "() => document.querySelector('video[data-hls-player]').currentTime"
# pixels that differ from the lanes' background (#f8fafc) and are not transparent
DRAWN_PIXELS = """(sel) => {
  const c = document.querySelector(sel);
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let n = 0;
  for (let i = 0; i < d.length; i += 4) {
    if (d[i + 3] > 0 && !(d[i] === 248 && d[i + 1] === 250 && d[i + 2] === 252)) n++;
  }
  return n / (c.width * c.height);
}"""
# the colour at time t, y css pixels from the top (the chart maps t as analysis.js does)
PIXEL_AT = """([sel, t, y]) => {
  const c = document.querySelector(sel);
  const dur = window.artdagCharts().find(ch => ch.canvas === c).dur;
  const w = c.getBoundingClientRect().width, dpr = window.devicePixelRatio || 1;
  const x = 6 + t / dur * (w - 12);
  return Array.from(c.getContext('2d').getImageData(Math.round(x * dpr), Math.round(y * dpr), 1, 1).data);
}"""


def _artifacts() -> Path:
    root = Path(os.environ.get("ARTDAG_TEST_ARTIFACTS") or Path(__file__).parents[1] / ".artifacts")
    root.mkdir(parents=True, exist_ok=True)
    return root


async def _shot(page: Any, name: str) -> Path:
    path = _artifacts() / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000
    return path


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def analysis_run(
    live_server: LiveServer, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """The completed run of :data:`RECIPE`, with its analysis (``GET /api/run/{id}/analysis``)."""
    folder = tmp_path_factory.mktemp("analysis-media")
    video, audio = folder / "cut.mp4", folder / "clicks.wav"
    await _sh(CLIP_CMD.format(half=SECONDS / 2, out=video))
    await _sh(AUDIO_CMD.format(seconds=SECONDS, out=audio))
    c = live_server.client
    cids = {}
    for name, path in (("video", video), ("audio", audio)):
        resp = await c.post(
            "/cache/upload", content=path.read_bytes(), params={"filename": path.name}
        )
        assert resp.status_code == 201, resp.text
        cids[name] = resp.json()["cid"]
    resp = await c.post("/runs", json={"recipe": RECIPE, "inputs": cids})
    assert resp.status_code == 201, resp.text
    run_id = resp.json()["run_id"]
    run = await live_server.wait_run(run_id, lambda r: r["status"] not in ("pending", "running"))
    assert run["status"] == "completed", run
    run["analysis"] = (await c.get(f"/api/run/{run_id}/analysis")).json()
    run["cids"] = cids
    return run


async def test_the_summary_is_there_without_javascript(
    live_server: LiveServer, analysis_run: dict[str, Any], browser: Any
) -> None:
    run_id = analysis_run["run_id"]
    audio = analysis_run["analysis"]["beats"]["audio"]
    text = (await live_server.client.get(f"/run/{run_id}/analysis", headers=HTML)).text
    assert f'data-summary="beats">{len(audio["beats"])}<' in text
    assert f'data-summary="tempo">{audio["tempo"]:.1f} BPM<' in text
    assert 'data-summary="cuts">' in text and "data-analysis-data" in text
    context = await browser.new_context(java_script_enabled=False, viewport=DESKTOP)
    page = await context.new_page()
    await page.goto(f"{live_server.url}/run/{run_id}/analysis")
    for key in ("beats", "motion"):
        section = page.locator(f'[data-analysis-step="{key}"]')
        assert await section.locator("[data-analysis-summary]").is_visible()
        assert not await section.locator("[data-chart]").is_visible()
    await context.close()


async def test_analysis_chart_beats_playhead_and_seeking(
    live_server: LiveServer, analysis_run: dict[str, Any], browser: Any
) -> None:
    run_id, analysis = analysis_run["run_id"], analysis_run["analysis"]
    audio, video = analysis["beats"]["audio"], analysis["motion"]["video"]
    assert len(audio["beats"]) >= 8 and video["cut_times"], analysis  # the media did their part
    page = await browser.new_page(viewport=DESKTOP)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await page.goto(f"{live_server.url}/run/{run_id}/analysis", wait_until="domcontentloaded")
    beats_canvas, motion_canvas = CANVAS.format("beats"), CANVAS.format("motion")
    # the click track's own waveform replaces the energy envelope once fetched
    await page.wait_for_selector(f'{beats_canvas}[data-drawn="waveform"]', timeout=20_000)
    downbeats = audio["downbeats"] or audio["beats"][::4]
    assert await page.get_attribute(beats_canvas, "data-beats") == str(len(audio["beats"]))
    assert await page.get_attribute(beats_canvas, "data-downbeats") == str(len(downbeats))
    assert await page.get_attribute(beats_canvas, "data-onsets") == str(len(audio["onsets"]))
    assert await page.get_attribute(motion_canvas, "data-cuts") == str(len(video["cut_times"]))
    assert await page.evaluate(DRAWN_PIXELS, beats_canvas) > 0.03
    assert await page.evaluate(DRAWN_PIXELS, motion_canvas) > 0.01
    # a downbeat mark (#c026d3) where the last downbeat is
    r, g, b, _ = await page.evaluate(PIXEL_AT, [beats_canvas, downbeats[-1], 3])
    assert r > 150 and b > 150 and g < 100, (r, g, b)
    # the chart is described by its caption, and says where the player is
    caption_id = await page.get_attribute(beats_canvas, "aria-describedby")
    caption = await page.locator(f"#{caption_id}").inner_text()
    assert (
        f"{len(audio['beats'])} beats" in caption and f"tempo {audio['tempo']:.1f} BPM" in caption
    )

    # the playhead follows the player...
    await page.wait_for_function(f"() => ({CURRENT_TIME})() > 0.3", timeout=45_000)
    first = float(await page.get_attribute(beats_canvas, "data-playhead") or 0)
    await page.wait_for_function(
        "([sel, t]) => Number(document.querySelector(sel).getAttribute('data-playhead')) > t + 0.3",
        arg=[beats_canvas, first],
        timeout=15_000,
    )
    # ...and a click on the chart seeks it: the middle of the chart is the middle of the analysis
    await page.evaluate("() => document.querySelector('video[data-hls-player]').pause()")
    box = await page.locator(beats_canvas).bounding_box()
    assert box is not None
    await page.locator(beats_canvas).click(position={"x": box["width"] / 2, "y": 30})
    now = float(await page.evaluate(CURRENT_TIME))
    assert abs(now - audio["duration"] / 2) < 0.3, (now, audio["duration"])
    playhead = float(await page.get_attribute(beats_canvas, "data-playhead") or 0)
    assert abs(playhead - now) < 0.3
    assert await page.get_attribute(beats_canvas, "aria-valuenow") == f"{playhead:.2f}"
    await page.keyboard.press("ArrowRight")  # the focused chart seeks by a second
    assert float(await page.evaluate(CURRENT_TIME)) == pytest.approx(now + 1, abs=0.3)
    await _shot(page, "run-analysis-desktop")

    # the plan tab (an htmx swap): every step of the completed run is done
    await page.click('a[data-tab="plan"]')
    await page.wait_for_selector("figure[data-step-states]")
    states = await page.eval_on_selector_all(".dag-node", "ns => ns.map(n => n.dataset.state)")
    assert states and set(states) == {"done"}, states
    await _shot(page, "run-plan-desktop")
    assert not errors, errors
    await page.close()

    phone = await browser.new_page(viewport=PHONE)
    await phone.goto(f"{live_server.url}/run/{run_id}/analysis", wait_until="domcontentloaded")
    await phone.wait_for_selector(f'{beats_canvas}[data-drawn="waveform"]', timeout=20_000)
    width = (await phone.locator(beats_canvas).bounding_box() or {}).get("width", 0)
    assert 250 < width <= PHONE["width"]  # fits the screen
    await _shot(phone, "run-analysis-phone")
    await phone.goto(f"{live_server.url}/run/{run_id}/plan", wait_until="domcontentloaded")
    await phone.wait_for_selector("figure[data-step-states]")
    await _shot(phone, "run-plan-phone")
    await phone.close()


async def test_the_demo_analysis_draws_its_energy_envelope(
    live_server: LiveServer, browser: Any
) -> None:
    # as `artdag serve --demo` starts it: a generated click track, its analysis given with the run
    analysis = demo_analysis(4.0)
    body = {"recipe": demo_recipe_text(4.0, 320, 240, 25), "analysis": analysis, "pace": None}
    resp = await live_server.client.post("/runs", json=body)
    assert resp.status_code == 201, resp.text
    run_id = resp.json()["run_id"]
    run = await live_server.wait_run(run_id, lambda r: r["status"] not in ("pending", "running"))
    assert run["status"] == "completed", run
    page = await browser.new_page(viewport=DESKTOP)
    await page.goto(f"{live_server.url}/run/{run_id}/analysis", wait_until="domcontentloaded")
    canvas = CANVAS.format("features")
    await page.wait_for_selector(f'{canvas}[data-drawn="envelope"]')
    assert await page.get_attribute(canvas, "data-beats") == str(len(analysis["beats"]))
    assert await page.evaluate(DRAWN_PIXELS, canvas) > 0.03
    await _shot(page, "run-analysis-demo-desktop")
    await page.close()


async def _create_batch_run(live: LiveServer, text: str) -> str:
    recipe = load_recipe(text)
    rid = recipe_id(recipe)
    await recipes_db.put_recipe(
        live.db,
        recipe_id=rid,
        name=recipe.name,
        source=text,
        syntax=detect_syntax(text),
        canonical=canonical(recipe),
    )
    return str((await runs_db.create_run(live.db, recipe_id=rid, inputs={}))["id"])


async def test_plan_dag_marks_steps_as_a_batch_run_goes(
    live_server: LiveServer, browser: Any
) -> None:
    run_id = await _create_batch_run(live_server, live_recipe(2.0, name="web-plan-live"))
    page = await browser.new_page(viewport=DESKTOP)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await page.goto(f"{live_server.url}/run/{run_id}/plan", wait_until="domcontentloaded")
    assert await page.locator("[data-plan-empty]").count() == 1  # no plan before phase 2
    # every state a node is drawn in, in order (the DAG comes in with the plan)
    await page.evaluate(
        """() => {
          window.seen = {};
          const note = (n) => {
            const list = (window.seen[n.dataset.node] = window.seen[n.dataset.node] || []);
            if (list[list.length - 1] !== n.dataset.state) list.push(n.dataset.state);
          };
          new MutationObserver((records) => {
            for (const m of records) {
              if (m.type === "attributes") { note(m.target); continue; }
              m.addedNodes.forEach((a) => a.querySelectorAll && a.querySelectorAll(".dag-node").forEach(note));
            }
          }).observe(document.body, {
            subtree: true, childList: true, attributes: true, attributeFilter: ["data-state"],
          });
        }"""
    )
    await asyncio.sleep(1.5)  # the page's event stream is subscribed
    job = await live_server.res.arq.enqueue_job(
        "run_recipe", run_id, _queue_name=live_server.queue_name
    )
    assert job is not None
    with contextlib.suppress(PlaywrightTimeout):  # a picture mid-run, when the steps are slow
        await page.wait_for_selector('.dag-node[data-state="running"]', timeout=20_000)
        await _shot(page, "run-plan-batch-running")
    result = await job.result(timeout=180, poll_delay=0.1)
    assert result["status"] == "completed", result
    await page.wait_for_function(
        "() => { const ns = document.querySelectorAll('figure[data-step-states] .dag-node');"
        " return ns.length > 0 && Array.from(ns).every(n => n.dataset.state === 'done'); }",
        timeout=30_000,
    )
    seen: dict[str, list[str]] = await page.evaluate("() => window.seen")
    plan = (await live_server.client.get(f"/api/run/{run_id}/plan")).json()
    executed = [s["step_id"] for s in plan["steps"] if s["node_type"] in ("EFFECT", "MUX")]
    assert executed and all(seen.get(s, [])[-1:] == ["done"] for s in executed), seen
    # the workers' steps were seen running before done
    assert any("running" in seen.get(s, []) for s in executed), seen
    counter = await page.locator("[data-steps-done]").inner_text()
    assert counter == str(len(plan["steps"]))
    await _shot(page, "run-plan-batch-done")
    assert not errors, errors
    await page.close()
