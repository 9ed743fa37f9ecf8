"""The audio a recipe makes, rendered offline for the ANALYZE steps that analyse it.

An ANALYZE over a recipe input (or a SEGMENT of one) analyses the input file.
Over anything else (a ``clicks`` or ``sine`` generator, a SEQUENCE or MUX of
generated parts, a chain over a file) there is no file: the ANALYZE's input
step is built on its own (the steps it depends on, nothing downstream),
its audio is pulled as fast as it computes into a temporary WAV file (16-bit,
the run's sample rate) and that file goes through the same analysis as any
file (:func:`interpreter.analysis.analyze_file`).

Its id is the one the planner gives the ANALYZE step: ``analysis_id(input
step cache id, features)``, the cache id of a generator being the hash of its
resolved config, like a file's CID. An input longer than both the run and
:data:`MIN_SECONDS` (a 24-hour click track under a 10-second run) is rendered
for ``max(run duration, MIN_SECONDS)`` only, and the input id then names the
span analysed, ``<cache id>#t=0,<seconds>``, so a shorter analysis never
answers for the whole.

Video features (``motion``, ``cuts``, ``metadata``) of generated media are not
computed: the error says so, with the step's position.
"""

from __future__ import annotations

import math
import tempfile
import threading
import wave
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from effects.frame import AudioFormat, VideoFormat
from effects.registry import Registry
from interpreter.nodes import Recipe
from interpreter.runtime.base import Timing, silence
from interpreter.runtime.errors import Cancelled, step_error

if TYPE_CHECKING:
    from interpreter.analysis import AnalysisResult

__all__ = ["MIN_SECONDS", "VIDEO_FEATURES", "analyze_generated", "render_wav", "span_id"]

#: Shortest span analysed when the run's duration caps it (beats need some context).
MIN_SECONDS = 30.0
#: Features that need a video stream; generated media offers audio only.
VIDEO_FEATURES = frozenset({"motion", "cuts", "metadata", "motion_tempo"})
# frames pulled offline: tiny (any video on the way is not analysed), 25 per second
_PROXY = VideoFormat(64, 48, 25, 1)


def upstream(recipe: Recipe, step_id: str) -> Recipe:
    """The part of ``recipe`` that computes ``step_id``, with that step as the output."""
    keep: set[str] = set()
    todo = [step_id]
    while todo:
        sid = todo.pop()
        if sid not in keep:
            keep.add(sid)
            todo.extend(recipe.step(sid).inputs)
    steps = tuple(s for s in recipe.steps if s.id in keep)
    return Recipe(
        name=recipe.name,
        version=recipe.version,
        description=recipe.description,
        inputs=recipe.inputs,
        params=recipe.params,
        steps=steps,
        output=step_id,
        source=recipe.source,
        filename=recipe.filename,
        syntax=recipe.syntax,
        output_pos=recipe.step(step_id).pos,
    )


def span_id(input_id: str, seconds: float, full: float) -> str:
    """The id of the analysed span: the input's own id when all of it was rendered."""
    return input_id if seconds >= full else f"{input_id}#t=0,{seconds:g}"


def _span(full: float | None, duration: float | None) -> float | None:
    """Seconds to render: all of the input, or the run's duration (at least MIN_SECONDS)."""
    cap = None if duration is None else max(float(duration), MIN_SECONDS)
    if full is None:
        return cap
    return full if cap is None or full <= cap else cap


def render_wav(
    recipe: Recipe,
    step_id: str,
    inputs: Mapping[str, Path],
    path: Path,
    *,
    registry: Registry,
    params: Mapping[str, Any] | None = None,
    duration: float | None = None,
    audio_format: AudioFormat | None = None,
    seen: Callable[[float, float], bool] | None = None,
    cancel: threading.Event | None = None,
) -> tuple[float, float] | None:
    """Render the audio of step ``step_id`` into a WAV file (blocking).

    Args:
        recipe: A validated recipe.
        step_id: The step whose audio is wanted (an ANALYZE step's input).
        inputs: Recipe input name -> media file (for steps over files).
        path: The WAV file to write.
        registry: Effect registry.
        params: Recipe parameter overrides.
        duration: The run's duration (caps a long input, see the module doc).
        audio_format: Rate and channels (default: the run's default, 48 kHz stereo).
        seen: Called with ``(seconds, full seconds)`` before rendering; True skips
            the render (the analysis of that span is cached) and returns None.
        cancel: The run's cancel flag (polled once per 1/25 s of audio).

    Returns:
        ``(seconds rendered, full length of the step in seconds)``, or None when ``seen``
        said to skip.

    Raises:
        StreamError: the step has no audio or never ends (with its position).
    """
    from interpreter.runtime.graph import build_graph

    timing = Timing(_PROXY, audio_format or AudioFormat(), cancel)
    sub = upstream(recipe, step_id)
    step = recipe.step(step_id)
    graph = build_graph(sub, inputs, timing, registry=registry, params=params, duration=duration)
    try:
        root = graph.root
        if not root.has_audio:
            raise step_error(recipe, step, "has no audio to analyse", hint="analyse an audio step")
        full = None if root.frames is None else timing.time_of(root.frames)
        seconds = _span(full, duration)
        if seconds is None:
            raise step_error(
                recipe, step, "its audio never ends", hint="give the run a duration to analyse"
            )
        if seen is not None and seen(seconds, math.inf if full is None else full):
            return None
        _write(graph, timing, timing.frames_for(seconds), path)
    finally:
        graph.close()
    return seconds, math.inf if full is None else full


def _write(graph: Any, timing: Timing, frames: int, path: Path) -> None:
    assert timing.audio is not None
    channels, rate = timing.audio.channels, timing.audio.sample_rate
    with wave.open(str(path), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        chunk: list[np.ndarray] = []
        for n in range(frames):
            if timing.cancel.is_set():
                raise Cancelled("cancelled while rendering audio for analysis")
            graph.clock.n = n
            ns = timing.samples_for(n)
            _, audio = graph.root.read(ns)
            chunk.append(silence(channels, ns) if audio is None else audio)
            if len(chunk) >= 25 or n == frames - 1:
                block = np.clip(np.concatenate(chunk, axis=1), -1.0, 1.0)
                out.writeframes((block.T * 32767.0).round().astype("<i2").tobytes())
                chunk = []


def analyze_generated(
    recipe: Recipe,
    analyze_id: str,
    inputs: Mapping[str, Path],
    *,
    registry: Registry,
    input_id: str | None = None,
    params: Mapping[str, Any] | None = None,
    duration: float | None = None,
    cached: Callable[[str], AnalysisResult | None] | None = None,
    workdir: Path | None = None,
    cancel: threading.Event | None = None,
) -> AnalysisResult:
    """Analyse the audio that ANALYZE step ``analyze_id``'s input makes (blocking).

    Args:
        recipe: A validated recipe.
        analyze_id: The ANALYZE step.
        inputs: Recipe input name -> media file.
        registry: Effect registry.
        input_id: Cache id of the input step (the plan's); None: the rendered
            WAV's content hash, as for a file without a CID.
        params: Recipe parameter overrides.
        duration: The run's duration (caps a long input, see the module doc).
        cached: Looks up an analysis id (e.g. ``AnalysisCache.load``); a hit is
            returned without rendering.
        workdir: Where the temporary WAV goes (default: the system's).
        cancel: The run's cancel flag.

    Raises:
        StreamError: video features asked of generated media; no audio; endless.
        AnalysisError: the analysis failed.
    """
    from interpreter.analysis import analyze_file, resolve_features
    from interpreter.ids import analysis_id

    step = recipe.step(analyze_id)
    names = resolve_features(list(step.config.get("features") or []), source=recipe.filename)
    video = sorted(VIDEO_FEATURES & set(names))
    if video:
        raise step_error(
            recipe,
            step,
            f"{', '.join(video)} of media the recipe makes is not analysed (no file to read)",
            "features",
            "analyse a recipe input for video features",
        )
    hit: list[AnalysisResult] = []

    def seen(seconds: float, full: float) -> bool:
        if cached is None or input_id is None:
            return False
        found = cached(analysis_id(span_id(input_id, seconds, full), names))
        if found is not None:
            hit.append(found)
        return found is not None

    with tempfile.TemporaryDirectory(prefix="artdag-audio-", dir=workdir) as tmp:
        wav = Path(tmp) / "audio.wav"
        span = render_wav(
            recipe,
            step.inputs[0],
            inputs,
            wav,
            registry=registry,
            params=params,
            duration=duration,
            seen=seen,
            cancel=cancel,
        )
        if span is None:
            return hit[0]
        key = None if input_id is None else span_id(input_id, *span)
        return analyze_file(wav, names, input_cid=key)
