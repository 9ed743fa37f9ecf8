"""The generated demo render: test pattern + 120 BPM clicks through a few effects, to HLS.

``render_demo`` is the rendering core (used by ``artdag render`` with no
inputs). ``start_demo(app_state)`` (used by ``artdag serve --demo``) creates a
live run of :data:`DEMO_RECIPE_YAML` (test pattern + 120 BPM clicks through an
audio-reactive chain) through the runs API, so a worker renders it to live
HLS, and prints its ``/run/<id>`` URL.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from effects.frame import VideoFormat
from interpreter.nodes import NodeType, Recipe, Step

if TYPE_CHECKING:  # the server side; ``artdag render``'s demo needs only the recipe
    from streamer.resources import Resources

__all__ = [
    "DEMO_EFFECTS",
    "DEMO_RECIPE_YAML",
    "demo_analysis",
    "demo_recipe",
    "demo_recipe_text",
    "render_demo",
    "start_demo",
]

#: The demo's chain: a hue rotation that advances with time and a light blur.
DEMO_EFFECTS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("hue", {"degrees": 45.0}),
    ("blur", {"radius": 1.0}),
)


def demo_recipe(
    duration: float, effects: tuple[tuple[str, dict[str, Any]], ...] | list[Any] = DEMO_EFFECTS
) -> Recipe:
    """Test pattern with a click track at 120 BPM, through ``effects`` (name, params)."""
    steps = [
        Step(
            "pattern",
            NodeType.SOURCE,
            (),
            {"generator": "testsrc", "params": {"duration": duration}},
        ),
        Step(
            "clicks",
            NodeType.SOURCE,
            (),
            {"generator": "clicks", "params": {"duration": duration, "bpm": 120.0}},
        ),
    ]
    last = "pattern"
    for i, (name, params) in enumerate(effects):
        sid = f"fx{i}_{name}"
        steps.append(Step(sid, NodeType.EFFECT, (last,), {"effect": name, "params": dict(params)}))
        last = sid
    steps.append(Step("out", NodeType.MUX, (last, "clicks"), {}))
    return Recipe("demo", "1.0", "generated demo", (), (), tuple(steps), "out")


async def render_demo(
    out_dir: Path,
    duration: float = 30.0,
    *,
    video_format: VideoFormat = VideoFormat(1280, 720, 30, 1),
    preset: str = "veryfast",
    segment_duration: float = 2.0,
    on_playlist_update: Callable[[Any], Awaitable[None]] | None = None,
    on_progress: Callable[[Any], Any] | None = None,
) -> Any:
    """Render the demo into ``out_dir`` (playlist.m3u8 + CID-named segments).

    Returns:
        The ``hls.output.HLSResult`` of the local output.
    """
    from cache.cid import cid_of_bytes
    from hls.options import HLSOptions
    from hls.output import LocalHLSOutput
    from interpreter.stream import StreamInterpreter

    def cid_fn(data: bytes) -> str:
        return cid_of_bytes(data)

    sink = LocalHLSOutput(
        out_dir, HLSOptions(segment_duration=segment_duration, preset=preset), cid_fn
    )
    interp = StreamInterpreter(
        demo_recipe(duration),
        {},
        sink,
        video_format=video_format,
        duration=duration,
        on_playlist_update=on_playlist_update,
        on_progress=on_progress,
    )
    return await interp.run()


#: The live demo: a generated beat drives zoom, colour split and vignette on a test pattern.
DEMO_RECIPE_YAML = """\
name: live-demo
version: '1.0'
description: Generated test pattern reacting to a generated 120 BPM click track
params:
  intensity: {{default: 1.0, min: 0, max: 2, description: strength of the beat response}}
steps:
- id: beat
  type: SOURCE
  config: {{generator: clicks, duration: {duration}, bpm: 120}}
- id: features
  type: ANALYZE
  inputs: [beat]
  config:
    features: [beats, energy, bands]
- id: video
  type: SOURCE
  config: {{generator: testsrc, duration: {duration}, width: {width}, height: {height}, fps: {fps}}}
- id: hue
  type: EFFECT
  inputs: [video, features]
  config: {{effect: hue, degrees: 90 * t}}
- id: zoom
  type: EFFECT
  inputs: [hue, features]
  config: {{effect: transform, zoom: 1 + 0.15 * intensity * decay(6)}}
- id: split
  type: EFFECT
  inputs: [zoom, features]
  config: {{effect: rgb_split, x: 24 * intensity * bass}}
- id: pulsed
  type: EFFECT
  inputs: [split, features]
  config: {{effect: vignette, amount: 'clamp(0.3 + energy, 0, 1)'}}
- id: show
  type: MUX
  inputs: [pulsed, beat]
output: show
"""


def demo_analysis(duration: float, bpm: float = 120.0, rate: float = 30.0) -> dict[str, Any]:
    """The analysis of the generated click track, known exactly without decoding it.

    Beats fall every ``60 / bpm`` s from t = 0; energy and the bands decay
    after each click (the runtime's simple JSON shape, sampled at ``rate`` Hz).
    """
    period = 60.0 / bpm
    beats = [
        round(i * period, 6) for i in range(int(duration / period) + 1) if i * period < duration
    ]
    n = int(duration * rate) + 1
    since = [(i / rate) % period for i in range(n)]
    energy = [round(math.exp(-12.0 * s), 4) for s in since]
    return {
        "duration": duration,
        "tempo": bpm,
        "beats": beats,
        "energy": {"rate": rate, "values": energy},
        "bass": {"rate": rate, "values": [round(0.8 * e, 4) for e in energy]},
        "mid": {"rate": rate, "values": [round(0.5 * e, 4) for e in energy]},
        "high": {"rate": rate, "values": [round(0.3 * e, 4) for e in energy]},
    }


def demo_recipe_text(
    duration: float = 120.0, width: int = 640, height: int = 360, fps: int = 30
) -> str:
    """The live demo recipe (YAML) for the given length and geometry."""
    return DEMO_RECIPE_YAML.format(duration=duration, width=width, height=height, fps=fps)


async def start_demo(
    res: Resources,
    *,
    duration: float = 120.0,
    pace: float | None = 1.0,
    announce: Callable[[str], Any] | None = print,
) -> str:
    """Create and queue the live demo run; returns its run id.

    Args:
        res: The running app's resources.
        duration: Seconds of demo.
        pace: Render speed relative to real time (1.0: live; None: as fast as possible).
        announce: Called with a line naming the run page URL (``print`` by default).
    """
    from streamer.recipes.store import RecipeRef
    from streamer.runs.service import RunSpec, start_run

    spec = RunSpec(
        recipe=RecipeRef(text=demo_recipe_text(duration)),
        analysis=demo_analysis(duration),
        pace=pace,
    )
    run = await start_run(res, spec, owner="demo")
    run_id = str(run["id"])
    if announce is not None:
        server = res.settings.server
        host = "localhost" if server.host in ("0.0.0.0", "::") else server.host
        announce(f"demo run {run_id}: http://{host}:{server.port}/run/{run_id}")
    return run_id
