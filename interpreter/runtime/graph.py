"""Compile a validated Recipe into a tree of pull streams evaluated frame by frame.

Every step becomes a :class:`~interpreter.runtime.base.Stream` (built by
:class:`~interpreter.runtime.builder.GraphBuilder`); the output step's stream
is read once per output frame. Per-frame parameters are evaluated from a
shared :class:`Clock` (output frame index, time and analysis variables), so
expressions see the output timeline. A step with several consumers is built
once and read through a :class:`SharedStream`; BEAT_SYNC and MAP play the
audio their ANALYZE step analysed.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from effects.frame import VideoFormat
from effects.registry import Registry
from interpreter.nodes import NodeType, Recipe, Step
from interpreter.runtime.base import Stream, Timing
from interpreter.runtime.builder import GraphBuilder
from interpreter.runtime.clock import Clock
from interpreter.runtime.shared import SharedStream
from interpreter.runtime.sources import probe, video_format_of
from interpreter.schema import GENERATORS

__all__ = ["Clock", "Graph", "SharedStream", "build_graph", "default_video_format"]


class Graph:
    """A compiled recipe: the output stream plus what the runner needs to know.

    Attributes:
        root: The output step's stream; read once per output frame.
        streams: Every stream of the graph (closed with it).
        clock: Set ``clock.n`` to the output frame before reading ``root``.
    """

    def __init__(self, root: Stream, streams: list[Stream], clock: Clock) -> None:
        self.root = root
        self.streams = streams
        self.clock = clock

    def close(self) -> None:
        """Close every stream (decoder threads, files)."""
        for s in self.streams:
            s.close()


def default_video_format(recipe: Recipe, inputs: Mapping[str, Path]) -> VideoFormat:
    """Format of the first video source reaching the output (file or generator).

    A file's is kept as it is (:func:`~interpreter.runtime.media.video_format_of`:
    size rounded down to even, exact rate, its pixel aspect ratio signalled).
    A RESIZE on the way sets the size (square pixels); the rate is still the
    source's.
    """
    size: tuple[int, int] | None = None
    seen: set[str] = set()
    order = [recipe.output]
    while order:
        sid = order.pop(0)
        if sid in seen:
            continue
        seen.add(sid)
        try:
            step = recipe.step(sid)
        except KeyError:
            continue
        vf = _source_format(step, inputs)
        if step.type == NodeType.RESIZE and size is None:
            size = (int(step.config["width"]) & ~1, int(step.config["height"]) & ~1)
        elif vf is not None:
            return vf if size is None else VideoFormat(*size, vf.fps_num, vf.fps_den)
        order.extend(step.inputs)
    return VideoFormat(640, 360, 30, 1) if size is None else VideoFormat(*size, 30, 1)


def _source_format(step: Step, inputs: Mapping[str, Path]) -> VideoFormat | None:
    """The format a video SOURCE step keeps (None: not one, or no video)."""
    if step.type != NodeType.SOURCE:
        return None
    cfg = step.config
    if cfg.get("input") and cfg["input"] in inputs:
        info = probe(Path(inputs[cfg["input"]]))
        return video_format_of(info) if info.has_video else None
    if cfg.get("generator") and GENERATORS[cfg["generator"]].kind == "video":
        p = {f.name: f.default for f in GENERATORS[cfg["generator"]].params}
        p.update(cfg.get("params") or {})
        return VideoFormat(int(p["width"]) & ~1, int(p["height"]) & ~1, round(float(p["fps"])), 1)
    return None


def build_graph(
    recipe: Recipe,
    inputs: Mapping[str, Path],
    timing: Timing,
    *,
    registry: Registry,
    params: Mapping[str, Any] | None = None,
    analysis: Any = None,
    max_shared_lag: int | None = None,
    duration: float | None = None,
) -> Graph:
    """Build the stream tree of ``recipe`` for ``timing``'s output format.

    A step feeding several consumers is built once and read through a
    :class:`SharedStream` (a file is decoded once); a consumer that falls more
    than ``max_shared_lag`` frames behind the others (e.g. the second use of a
    clip in a SEQUENCE) gets a private copy instead of holding frames in memory.

    The arguments are :class:`~interpreter.runtime.builder.GraphBuilder`'s.

    Raises:
        StreamError: a node cannot run (missing input file, unsupported node,
            bad parameter), with the step's position.
    """
    builder = GraphBuilder(
        recipe,
        inputs,
        timing,
        registry=registry,
        params=params,
        analysis=analysis,
        max_shared_lag=max_shared_lag,
        duration=duration,
    )
    root = builder.build()
    return Graph(root, builder.streams, builder.clock)
