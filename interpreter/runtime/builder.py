"""Compile the steps of a validated Recipe into streams, one builder method per NodeType.

:class:`GraphBuilder` holds what every step's construction shares (recipe,
inputs, timing, registry, clock, analysis tracks, the streams built so far
and the shared ones); its ``_MAKERS`` table maps each :class:`NodeType` to
the method that builds it, so supporting a node type is one method and one
table entry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar, cast

from effects.registry import EffectError, Registry
from interpreter.nodes import Expr, NodeType, Recipe, Step
from interpreter.runtime.base import Stream, Timing
from interpreter.runtime.beat import BeatSyncStream, MapEffect, MapStream
from interpreter.runtime.clock import Clock
from interpreter.runtime.compose import BlendStream, MuxStream, SequenceStream
from interpreter.runtime.effect_streams import ChainStream, EffectStream
from interpreter.runtime.errors import StreamError, step_error
from interpreter.runtime.generators import (
    ClicksAudio,
    ColorVideo,
    GradientVideo,
    NoiseVideo,
    SineAudio,
    TestsrcVideo,
)
from interpreter.runtime.shared import SharedStream
from interpreter.runtime.sources import FileSource, Fit, probe
from interpreter.runtime.timeline import ResizeStream, SegmentStream, TransformStream
from interpreter.runtime.tracks import AnalysisTracks
from interpreter.runtime.values import StepValues
from interpreter.schema import GENERATORS, resolve_fields

__all__ = ["GraphBuilder", "Maker"]

Maker = Callable[["GraphBuilder", Step, dict[str, Any]], Stream]
"""Builds one step's stream from the step and its config with defaults filled in."""


class GraphBuilder:
    """Builds the stream of each step of a recipe, sharing steps read several times.

    A step feeding several consumers is built once and read through a
    :class:`SharedStream` (a file is decoded once); a consumer that falls more
    than ``max_shared_lag`` frames behind the others gets a private copy.

    Args:
        recipe: A validated recipe.
        inputs: Recipe input name -> media file.
        timing: Output grid and formats.
        registry: Effect registry.
        params: Recipe parameter overrides.
        analysis: Analysis for ANALYZE steps: ``{step_id: result}``, one result for
            all, or None (each ANALYZE is computed here: over its input file, or
            over the audio its input makes, rendered offline).
        max_shared_lag: Frames a shared step may buffer for a lagging consumer
            (None: about 96 MB of frames; 0: never share, build per consumer).
        duration: Seconds the run renders (None: the output's own length); caps
            the audio rendered offline for an ANALYZE over generated media.

    Attributes:
        clock: The clock every per-frame value reads.
        streams: Every stream built, inner ones first (the graph closes them).

    Raises:
        StreamError: the only ANALYZE step has no analysis and no input file.
    """

    def __init__(
        self,
        recipe: Recipe,
        inputs: Mapping[str, Path],
        timing: Timing,
        *,
        registry: Registry,
        params: Mapping[str, Any] | None = None,
        analysis: Any = None,
        max_shared_lag: int | None = None,
        duration: float | None = None,
    ) -> None:
        self.recipe = recipe
        self.inputs = inputs
        self.timing = timing
        self.registry = registry
        defaults = {p.name: p.default for p in recipe.params}
        defaults.update(params or {})
        self.tracks = AnalysisTracks(
            recipe,
            inputs,
            analysis,
            registry=registry,
            params=params,
            duration=duration,
            cancel=timing.cancel,
        )
        self.clock = Clock(timing, self.tracks.default, defaults)
        self.values = StepValues(recipe, self.clock, self.tracks)
        self.streams: list[Stream] = []
        frame_bytes = timing.video.width * timing.video.height * 3 // 2
        self.lag = max(8, 96_000_000 // frame_bytes) if max_shared_lag is None else max_shared_lag
        self.shared: dict[str, SharedStream] = {}
        # > 0 while building a lagging consumer's own copy (nothing is shared inside it)
        self._private = 0
        self.consumers: dict[str, int] = {}
        for st in recipe.steps:
            for i in st.inputs:
                self.consumers[i] = self.consumers.get(i, 0) + 1

    def build(self) -> Stream:
        """The stream of the recipe's output step.

        Raises:
            StreamError: a node cannot run (missing input file, unsupported node,
                bad parameter), with the step's position.
        """
        return self.node(self.recipe.output)

    def node(self, sid: str) -> Stream:
        """The stream a consumer of step ``sid`` reads (a tap when the step is shared)."""
        step = self.recipe.step(sid)
        if step.type == NodeType.ANALYZE:
            raise self._err(step, "an ANALYZE result is not a media stream")
        if self.lag <= 0 or self._private or self.consumers.get(sid, 0) < 2:
            return self._build(step)
        sh = self.shared.get(sid)
        if sh is None:
            sh = self.shared[sid] = SharedStream(
                self._build(step), self.timing, lambda: self._own_copy(sid), self.lag
            )
        return sh.tap()

    def _own_copy(self, sid: str) -> Stream:
        self._private += 1
        try:
            return self._build(self.recipe.step(sid))
        finally:
            self._private -= 1

    def _build(self, step: Step) -> Stream:
        try:
            s = self._make(step)
        except StreamError:
            raise
        except (EffectError, ValueError, KeyError, TypeError) as e:
            raise self._err(step, str(e)) from e
        self.streams.append(s)
        return s

    def _make(self, step: Step) -> Stream:
        cfg = resolve_fields(step.type, step.config)
        maker = self._MAKERS.get(step.type)
        if maker is None:
            raise self._err(step, f"{step.type} is not supported by the live renderer yet")
        return maker(self, step, cfg)

    def _err(self, step: Step, message: str, key: str | None = None, hint: str = "") -> StreamError:
        return step_error(self.recipe, step, message, key, hint)

    def _source(self, step: Step, cfg: dict[str, Any]) -> Stream:
        """SOURCE: a media file of the inputs, or a generator."""
        if cfg.get("input"):
            return self._file_source(step)
        gen = str(cfg.get("generator"))
        if gen not in GENERATORS:
            raise self._err(step, f"unknown generator {gen!r}", "generator")
        p = {f.name: f.default for f in GENERATORS[gen].params}
        p.update(step.config.get("params") or {})
        dur = float(p["duration"])
        timing = self.timing
        if gen == "testsrc":
            return TestsrcVideo(timing, dur)
        if gen == "color":
            return ColorVideo(timing, dur, p["color"])
        if gen == "noise":
            return NoiseVideo(timing, dur, int(p["seed"]))
        if gen == "gradient":
            return GradientVideo(timing, dur, p["from_color"], p["to_color"], float(p["angle"]))
        if timing.audio is None:
            raise self._err(step, "audio generator in a run without audio")
        if gen == "sine":
            return SineAudio(timing, dur, float(p["frequency"]), float(p["amplitude"]))
        return ClicksAudio(timing, dur, float(p["bpm"]), float(p["amplitude"]))

    def _file_source(self, step: Step, start: float = 0.0, duration: float | None = None) -> Stream:
        """The file bound to SOURCE ``step``'s input, from ``start`` for ``duration`` s."""
        name = step.config["input"]
        if name not in self.inputs:
            raise self._err(
                step,
                f"input {name!r} is not bound to a file",
                "input",
                hint=f"give it with --input {name}=PATH",
            )
        path = Path(self.inputs[name])
        if not path.exists():
            raise self._err(step, f"input {name!r}: {path} does not exist", "input")
        return FileSource(path, self.timing, start=start, duration=duration)

    def _segment(self, step: Step, cfg: dict[str, Any]) -> Stream:
        """SEGMENT: a time range of its input (a seek when the input is a file)."""
        start = float(cfg.get("start", 0.0))
        dur = cfg.get("duration")
        if dur is None and cfg.get("end") is not None:
            dur = float(cfg["end"]) - start
            if dur <= 0:
                raise self._err(step, f"end {cfg['end']} is not after start {start}", "end")
        child = self.recipe.step(step.inputs[0])
        if child.type == NodeType.SOURCE and child.config.get("input"):
            # seek in the file instead of decoding and dropping
            return self._file_source(
                child, start=start, duration=None if dur is None else float(dur)
            )
        return SegmentStream(
            self.node(step.inputs[0]), self.timing, start, None if dur is None else float(dur)
        )

    def _resize(self, step: Step, cfg: dict[str, Any]) -> Stream:
        """RESIZE: its input scaled onto the output size."""
        # the validator only lets fit / fill / stretch through
        mode = cast(Fit, str(cfg.get("mode", "fit")))
        return ResizeStream(self.node(step.inputs[0]), self.timing, mode)

    def _transform(self, step: Step, cfg: dict[str, Any]) -> Stream:
        """TRANSFORM: colour adjustments with per-frame values."""
        vals = {
            k: self.values.value(step, k, cfg[k])
            for k in ("brightness", "contrast", "saturation", "hue", "gamma")
        }
        return TransformStream(self.node(step.inputs[0]), vals)

    def _effect(self, step: Step, cfg: dict[str, Any]) -> Stream:
        """EFFECT: a registered effect (a run of single-input ones fused into a chain)."""
        if self._chainable(step):
            return self._chain(step)
        spec = self.registry.get(str(cfg["effect"]))
        given = dict(cfg.get("params") or {})
        base = spec.resolve({k: v for k, v in given.items() if not isinstance(v, Expr)})
        dyn = self.values.dynamic(step, spec, given)
        video_inputs = [i for i in step.inputs if self.recipe.step(i).type != NodeType.ANALYZE]
        srcs = [self.node(i) for i in video_inputs[: spec.arity]]
        if len(srcs) != spec.arity:
            raise self._err(
                step, f"effect {spec.name!r} takes {spec.arity} video input(s), got {len(srcs)}"
            )
        inst = spec.factory(self.timing.video.width, self.timing.video.height)
        return EffectStream(srcs, inst, base, dyn, spec.name, self.clock, spec.preroll)

    def _chainable(self, step: Step) -> bool:
        """Whether ``step`` is a single-input effect that may join an EffectChain."""
        if step.type != NodeType.EFFECT or len(step.inputs) != 1:
            return False
        name = str(step.config.get("effect"))
        return name in self.registry and self.registry.get(name).arity == 1

    def _chain(self, step: Step) -> Stream:
        """The EffectChain ending at ``step`` (with the chainable steps before it)."""
        # fold a linear run of single-input effects into one EffectChain (fusion,
        # buffers allocated once); inner steps must feed nothing else
        steps = [step]
        while True:
            prev = self.recipe.step(steps[-1].inputs[0])
            if (
                self._chainable(prev)
                and self.consumers.get(prev.id, 0) == 1
                and prev.id != self.recipe.output
            ):
                steps.append(prev)
            else:
                break
        steps.reverse()
        nodes = []
        dyns = []
        for st in steps:
            spec = self.registry.get(str(st.config["effect"]))
            given = dict(st.config.get("params") or {})
            try:
                consts = spec.resolve({k: v for k, v in given.items() if not isinstance(v, Expr)})
            except EffectError as e:
                raise self._err(st, str(e), "params") from e
            nodes.append((spec, consts))
            dyns.append(self.values.dynamic(st, spec, given))
        # the input first: a file source starts decoding while the kernels import
        source = self.node(steps[0].inputs[0])
        from effects.chain import EffectChain

        ch = EffectChain(nodes, self.timing.video.width, self.timing.video.height)
        return ChainStream(source, ch, dyns, self.clock, sum(s.preroll for s, _ in nodes))

    def _sequence(self, step: Step, cfg: dict[str, Any]) -> Stream:
        """SEQUENCE: its inputs one after another, cut or crossfaded."""
        parts = [self.node(i) for i in step.inputs]
        fade = float(cfg["duration"]) if cfg.get("transition") == "crossfade" else 0.0
        for p, sid in zip(parts, step.inputs, strict=True):
            if p.frames is None:
                raise self._err(
                    step, f"part {sid!r} has no end", hint="give it a SEGMENT or a duration"
                )
        return SequenceStream(parts, self.timing, self.timing.frames_for(fade))

    def _blend(self, step: Step, cfg: dict[str, Any]) -> Stream:
        """BLEND and LAYER: the inputs over the first (LAYER: opaque, layers may move)."""
        t = step.type
        srcs = [self.node(i) for i in step.inputs if self.recipe.step(i).type != NodeType.ANALYZE]
        default_op = 0.5 if t == NodeType.BLEND else 1.0
        op = self.values.value(step, "opacity", cfg.get("opacity", default_op))
        offset = None
        if t == NodeType.LAYER and (cfg.get("x") or cfg.get("y")):
            offset = (
                self.values.value(step, "x", cfg.get("x") or 0),
                self.values.value(step, "y", cfg.get("y") or 0),
            )
        return BlendStream(srcs, str(cfg.get("mode", "normal")), op, offset)

    def _mux(self, step: Step, cfg: dict[str, Any]) -> Stream:
        """MUX: video of the first input with audio of the second."""
        return MuxStream(
            self.node(step.inputs[0]), self.node(step.inputs[1]), bool(cfg.get("shortest", True))
        )

    def _beat_sync(self, step: Step, cfg: dict[str, Any]) -> Stream:
        """BEAT_SYNC: its video re-timed so segments start on the beats."""
        aid = self.tracks.input_of(step)
        if aid is None:
            raise self._err(step, "BEAT_SYNC needs an ANALYZE input")
        tr = self.tracks.of(aid)
        events = tr.events(str(cfg.get("use", "beats")))
        if len(events) < 2:
            raise self._err(step, f"the analysis has fewer than two {cfg.get('use', 'beats')}")
        video = self.node(step.inputs[0])
        return BeatSyncStream(
            video,
            self.timing,
            events,
            int(cfg.get("beats_per_segment", 1)),
            str(cfg.get("mode", "cut")),
            self._music(aid),
        )

    def _map(self, step: Step, cfg: dict[str, Any]) -> Stream:
        """MAP: slices of its sources switched on the analysis events."""
        aid = self.tracks.input_of(step)
        if aid is None:
            raise self._err(step, "MAP needs an ANALYZE input")
        tr = self.tracks.of(aid)
        srcs = [self.node(i) for i in step.inputs if i not in self.tracks.ids]
        if not srcs:
            raise self._err(step, "MAP needs at least one video source")
        events = tr.events(str(cfg.get("over", "beats")))[:: int(cfg.get("every", 1))]
        fx = self._map_effect(step, cfg)
        return MapStream(
            srcs,
            self.timing,
            events,
            str(cfg.get("pick", "cycle")),
            int(cfg.get("seed", 0)),
            fx,
            tr.duration,
            self._music(aid),
        )

    def _map_effect(self, step: Step, cfg: dict[str, Any]) -> MapEffect | None:
        """The effect MAP applies to every frame (None: none given)."""
        if not cfg.get("effect"):
            return None
        spec = self.registry.get(str(cfg["effect"]))
        if spec.arity != 1:
            raise self._err(step, f"MAP effect {spec.name!r} must take one input", "effect")
        given = dict(cfg.get("params") or {})
        base = spec.resolve({k: v for k, v in given.items() if not isinstance(v, Expr)})
        dyn = self.values.dynamic(step, spec, given)
        return (spec.factory(self.timing.video.width, self.timing.video.height), base, dyn)

    def _music(self, aid: str) -> Stream | None:
        """The audio under BEAT_SYNC / MAP over ANALYZE ``aid`` (None: none to play)."""
        # BEAT_SYNC and MAP play the audio their beats came from; a step cut out of
        # a plan (3-phase execution) gets its ANALYZE as data, with no input left
        analyze_inputs = self.recipe.step(aid).inputs
        if self.timing.audio is None or not analyze_inputs:
            return None
        src = self.recipe.step(analyze_inputs[0])
        if src.type == NodeType.ANALYZE:
            return None
        if src.type == NodeType.SOURCE:  # decide without opening a decoder
            name = src.config.get("input")
            if name:
                if name not in self.inputs or not probe(Path(self.inputs[name])).has_audio:
                    return None
            elif GENERATORS[str(src.config.get("generator"))].kind != "audio":
                return None
        s = self.node(src.id)
        return s if s.has_audio else None

    # ANALYZE has no maker: its result is data (AnalysisTracks), never a stream
    _MAKERS: ClassVar[Mapping[NodeType, Maker]] = {
        NodeType.SOURCE: _source,
        NodeType.SEGMENT: _segment,
        NodeType.RESIZE: _resize,
        NodeType.TRANSFORM: _transform,
        NodeType.EFFECT: _effect,
        NodeType.SEQUENCE: _sequence,
        NodeType.BLEND: _blend,
        NodeType.LAYER: _blend,
        NodeType.MUX: _mux,
        NodeType.BEAT_SYNC: _beat_sync,
        NodeType.MAP: _map,
    }
