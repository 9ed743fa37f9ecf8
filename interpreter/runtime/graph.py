"""Compile a validated Recipe into a tree of pull streams evaluated frame by frame.

Every step becomes a :class:`~interpreter.runtime.base.Stream`; the output
step's stream is read once per output frame. Per-frame parameters are
evaluated from a shared :class:`Clock` (output frame index, time and analysis
variables), so expressions see the output timeline. A step with several
consumers is built once and read through a :class:`SharedStream`; BEAT_SYNC
and MAP play the audio their ANALYZE step analysed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from effects.frame import VideoFormat, YUVFrame
from effects.registry import EffectError, Registry
from interpreter.nodes import Expr, NodeType, Recipe, Step
from interpreter.runtime.analysis import AnalysisTrack, segment_window
from interpreter.runtime.base import Chunk, Stream, Timing, silence
from interpreter.runtime.errors import StreamError
from interpreter.runtime.generators import (
    ClicksAudio,
    ColorVideo,
    GradientVideo,
    NoiseVideo,
    SineAudio,
    TestsrcVideo,
)
from interpreter.runtime.sources import FileSource, Fit, probe, scale_frame
from interpreter.schema import GENERATORS, resolve_fields

__all__ = ["Clock", "Graph", "SharedStream", "build_graph", "default_video_format"]

Value = Callable[[], float]


class Clock:
    """The current output frame and the variables expressions read."""

    def __init__(self, timing: Timing, analysis: AnalysisTrack, params: Mapping[str, Any]) -> None:
        self.timing = timing
        self.analysis = analysis
        self.params = dict(params)
        self.n = 0
        self._ctx_n = -1
        self._ctx: dict[int, Any] = {}

    def context(self, track: AnalysisTrack | None = None) -> Any:
        """The FrameContext of the current frame for ``track`` (built once per frame)."""
        track = track or self.analysis
        if self._ctx_n != self.n:
            self._ctx.clear()
            self._ctx_n = self.n
        ctx = self._ctx.get(id(track))
        if ctx is None:
            from interpreter.expr import FrameContext

            t = self.timing.time_of(self.n)
            a = track.sample(t)
            ctx = FrameContext(
                t=t,
                frame=self.n,
                beat=int(a["beat"]),
                beat_phase=a["beat_phase"],
                since_beat=a["since_beat"],
                energy=a["energy"],
                bass=a["bass"],
                mid=a["mid"],
                high=a["high"],
            )
            self._ctx[id(track)] = ctx
        return ctx


class Graph:
    """A compiled recipe: the output stream plus what the runner needs to know."""

    def __init__(self, root: Stream, streams: list[Stream], clock: Clock) -> None:
        self.root = root
        self.streams = streams
        self.clock = clock

    def close(self) -> None:
        """Close every stream (decoder threads, files)."""
        for s in self.streams:
            s.close()


def _err(
    recipe: Recipe, step: Step, message: str, key: str | None = None, hint: str = ""
) -> StreamError:
    pos = step.where(key)
    return StreamError(
        f"step {step.id!r}: {message}",
        file=recipe.filename,
        line=pos.line,
        column=pos.column,
        text=recipe.line_text(pos.line),
        hint=hint,
    )


def default_video_format(recipe: Recipe, inputs: Mapping[str, Path]) -> VideoFormat:
    """Size and rate of the first video source reaching the output (file or generator)."""
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
        if step.type == NodeType.RESIZE:
            return VideoFormat(
                int(step.config["width"]) & ~1, int(step.config["height"]) & ~1, 30, 1
            )
        if step.type == NodeType.SOURCE:
            cfg = step.config
            if cfg.get("input") and cfg["input"] in inputs:
                info = probe(Path(inputs[cfg["input"]]))
                if info.has_video:
                    fps = info.fps or 30.0
                    num, den = (
                        (round(fps * 1000), 1000)
                        if abs(fps - round(fps)) > 1e-3
                        else (round(fps), 1)
                    )
                    return VideoFormat(info.width & ~1, info.height & ~1, num, den)
            elif cfg.get("generator") and GENERATORS[cfg["generator"]].kind == "video":
                p = {f.name: f.default for f in GENERATORS[cfg["generator"]].params}
                p.update(cfg.get("params") or {})
                return VideoFormat(
                    int(p["width"]) & ~1, int(p["height"]) & ~1, round(float(p["fps"])), 1
                )
        order.extend(step.inputs)
    return VideoFormat(640, 360, 30, 1)


def build_graph(
    recipe: Recipe,
    inputs: Mapping[str, Path],
    timing: Timing,
    *,
    registry: Registry,
    params: Mapping[str, Any] | None = None,
    analysis: Any = None,
    max_shared_lag: int | None = None,
) -> Graph:
    """Build the stream tree of ``recipe`` for ``timing``'s output format.

    A step feeding several consumers is built once and read through a
    :class:`SharedStream` (a file is decoded once); a consumer that falls more
    than ``max_shared_lag`` frames behind the others (e.g. the second use of a
    clip in a SEQUENCE) gets a private copy instead of holding frames in memory.

    Args:
        recipe: A validated recipe.
        inputs: Recipe input name -> media file.
        timing: Output grid and formats.
        registry: Effect registry.
        params: Recipe parameter overrides.
        analysis: Analysis for ANALYZE steps: ``{step_id: result}``, one result for
            all, or None (each ANALYZE over a file input is computed here).
        max_shared_lag: Frames a shared step may buffer for a lagging consumer
            (None: about 96 MB of frames; 0: never share, build per consumer).

    Raises:
        StreamError: a node cannot run (missing input file, unsupported node,
            bad parameter), with the step's position.
    """
    defaults = {p.name: p.default for p in recipe.params}
    defaults.update(params or {})
    analyze_ids = {st.id for st in recipe.steps if st.type == NodeType.ANALYZE}
    keyed = isinstance(analysis, Mapping) and bool(analysis) and set(analysis) <= analyze_ids
    tracks: dict[str, AnalysisTrack] = {}

    def track_of(aid: str) -> AnalysisTrack:
        if aid not in tracks:
            step = recipe.step(aid)
            if keyed and aid in analysis:
                tracks[aid] = AnalysisTrack(analysis[aid])
            elif analysis is not None and not keyed:
                tracks[aid] = AnalysisTrack(analysis)
            else:
                tracks[aid] = analyze(step)
        return tracks[aid]

    def analyze(step: Step) -> AnalysisTrack:
        # no analysis given with the run: compute phase 1 now (we run in a worker thread),
        # on the whole file, seen through the SEGMENTs between it and the step
        found = segment_window(recipe, step.id)
        if found is None or found[0] not in inputs:
            raise _err(
                recipe,
                step,
                "no analysis given for this step and its input is not a file",
                hint="pass the analysis with the run",
            )
        from interpreter.analysis import analyze_file

        name, start, dur = found
        track = AnalysisTrack(
            analyze_file(Path(inputs[name]), list(step.config.get("features") or []))
        )
        return track.window(start, dur) if start or dur is not None else track

    default_track = AnalysisTrack(None if keyed else analysis)
    if len(analyze_ids) == 1 and (analysis is None or keyed):
        default_track = track_of(next(iter(analyze_ids)))
    clock = Clock(timing, default_track, defaults)
    streams: list[Stream] = []

    def track_for(step: Step) -> AnalysisTrack:
        for i in step.inputs:
            if i in analyze_ids:
                return track_of(i)
        return default_track

    def value(step: Step, key: str, v: Any) -> Value:
        if isinstance(v, Expr):
            from interpreter.expr import compile_expr

            pos = step.where(key)
            num = {k: float(x) for k, x in clock.params.items() if isinstance(x, int | float)}
            p = compile_expr(v, pos, num, recipe.filename, recipe.line_text(pos.line))
            if p.constant:
                c = float(p.value)
                return lambda: c
            track = track_for(step)
            return lambda: float(p(clock.context(track)))
        if isinstance(v, str) and v in clock.params:
            c = float(clock.params[v])
            return lambda: c
        c = float(v)
        return lambda: c

    frame_bytes = timing.video.width * timing.video.height * 3 // 2
    lag = max(8, 96_000_000 // frame_bytes) if max_shared_lag is None else max_shared_lag
    shared: dict[str, SharedStream] = {}
    private = 0  # > 0 while building a lagging consumer's own copy (nothing shared inside)

    def node(sid: str) -> Stream:
        step = recipe.step(sid)
        if step.type == NodeType.ANALYZE:
            raise _err(recipe, step, "an ANALYZE result is not a media stream")
        if lag <= 0 or private or consumers.get(sid, 0) < 2:
            return build(step)
        sh = shared.get(sid)
        if sh is None:
            sh = shared[sid] = SharedStream(build(step), timing, lambda: own_copy(sid), lag)
        return sh.tap()

    def own_copy(sid: str) -> Stream:
        nonlocal private
        private += 1
        try:
            return build(recipe.step(sid))
        finally:
            private -= 1

    def build(step: Step) -> Stream:
        try:
            s = make(step)
        except StreamError:
            raise
        except (EffectError, ValueError, KeyError, TypeError) as e:
            raise _err(recipe, step, str(e)) from e
        assert s is not None
        streams.append(s)
        return s

    def make(step: Step) -> Stream | None:
        cfg = resolve_fields(step.type, step.config)
        t = step.type
        if t == NodeType.ANALYZE:
            return None
        if t == NodeType.SOURCE:
            return source(step, cfg)
        if t == NodeType.SEGMENT:
            start = float(cfg.get("start", 0.0))
            dur = cfg.get("duration")
            if dur is None and cfg.get("end") is not None:
                dur = float(cfg["end"]) - start
                if dur <= 0:
                    raise _err(recipe, step, f"end {cfg['end']} is not after start {start}", "end")
            child = recipe.step(step.inputs[0])
            if child.type == NodeType.SOURCE and child.config.get("input"):
                # seek in the file instead of decoding and dropping
                return file_source(child, start=start, duration=None if dur is None else float(dur))
            return SegmentStream(
                node(step.inputs[0]), timing, start, None if dur is None else float(dur)
            )
        if t == NodeType.RESIZE:
            return ResizeStream(node(step.inputs[0]), timing, str(cfg.get("mode", "fit")))  # type: ignore[arg-type]
        if t == NodeType.TRANSFORM:
            vals = {
                k: value(step, k, cfg[k])
                for k in ("brightness", "contrast", "saturation", "hue", "gamma")
            }
            return TransformStream(node(step.inputs[0]), vals)
        if t == NodeType.EFFECT:
            return effect(step, cfg)
        if t == NodeType.SEQUENCE:
            parts = [node(i) for i in step.inputs]
            fade = float(cfg["duration"]) if cfg.get("transition") == "crossfade" else 0.0
            for p, sid in zip(parts, step.inputs, strict=True):
                if p.frames is None:
                    raise _err(
                        recipe,
                        step,
                        f"part {sid!r} has no end",
                        hint="give it a SEGMENT or a duration",
                    )
            return SequenceStream(parts, timing, timing.frames_for(fade))
        if t in (NodeType.BLEND, NodeType.LAYER):
            srcs = [node(i) for i in step.inputs if recipe.step(i).type != NodeType.ANALYZE]
            default_op = 0.5 if t == NodeType.BLEND else 1.0
            op = value(step, "opacity", cfg.get("opacity", default_op))
            offset = None
            if t == NodeType.LAYER and (cfg.get("x") or cfg.get("y")):
                offset = (value(step, "x", cfg.get("x") or 0), value(step, "y", cfg.get("y") or 0))
            return BlendStream(srcs, str(cfg.get("mode", "normal")), op, offset)
        if t == NodeType.MUX:
            return MuxStream(
                node(step.inputs[0]), node(step.inputs[1]), bool(cfg.get("shortest", True))
            )
        if t == NodeType.BEAT_SYNC:
            aid = next((i for i in step.inputs if i in analyze_ids), None)
            if aid is None:
                raise _err(recipe, step, "BEAT_SYNC needs an ANALYZE input")
            tr = track_of(aid)
            events = tr.events(str(cfg.get("use", "beats")))
            if len(events) < 2:
                raise _err(
                    recipe, step, f"the analysis has fewer than two {cfg.get('use', 'beats')}"
                )
            video = node(step.inputs[0])
            return BeatSyncStream(
                video,
                timing,
                events,
                int(cfg.get("beats_per_segment", 1)),
                str(cfg.get("mode", "cut")),
                music(aid),
            )
        if t == NodeType.MAP:
            aid = next((i for i in step.inputs if i in analyze_ids), None)
            if aid is None:
                raise _err(recipe, step, "MAP needs an ANALYZE input")
            tr = track_of(aid)
            srcs = [node(i) for i in step.inputs if i not in analyze_ids]
            if not srcs:
                raise _err(recipe, step, "MAP needs at least one video source")
            events = tr.events(str(cfg.get("over", "beats")))[:: int(cfg.get("every", 1))]
            fx = None
            if cfg.get("effect"):
                spec = registry.get(str(cfg["effect"]))
                if spec.arity != 1:
                    raise _err(
                        recipe, step, f"MAP effect {spec.name!r} must take one input", "effect"
                    )
                given = dict(cfg.get("params") or {})
                base = spec.resolve({k: v for k, v in given.items() if not isinstance(v, Expr)})
                dyn = {
                    k: (spec.param(k), value(step, f"params.{k}", v))
                    for k, v in given.items()
                    if isinstance(v, Expr)
                }
                fx = (spec.factory(timing.video.width, timing.video.height), base, dyn)
            return MapStream(
                srcs,
                timing,
                events,
                str(cfg.get("pick", "cycle")),
                int(cfg.get("seed", 0)),
                fx,
                tr.duration,
                music(aid),
            )
        raise _err(recipe, step, f"{t} is not supported by the live renderer yet")

    def music(aid: str) -> Stream | None:
        # BEAT_SYNC and MAP play the audio their beats came from; a step cut out of
        # a plan (3-phase execution) gets its ANALYZE as data, with no input left
        analyze_inputs = recipe.step(aid).inputs
        if timing.audio is None or not analyze_inputs:
            return None
        src = recipe.step(analyze_inputs[0])
        if src.type == NodeType.ANALYZE:
            return None
        if src.type == NodeType.SOURCE:  # decide without opening a decoder
            name = src.config.get("input")
            if name:
                if name not in inputs or not probe(Path(inputs[name])).has_audio:
                    return None
            elif GENERATORS[str(src.config.get("generator"))].kind != "audio":
                return None
        s = node(src.id)
        return s if s.has_audio else None

    def file_source(step: Step, start: float = 0.0, duration: float | None = None) -> Stream:
        name = step.config["input"]
        if name not in inputs:
            raise _err(
                recipe,
                step,
                f"input {name!r} is not bound to a file",
                "input",
                hint=f"give it with --input {name}=PATH",
            )
        path = Path(inputs[name])
        if not path.exists():
            raise _err(recipe, step, f"input {name!r}: {path} does not exist", "input")
        return FileSource(path, timing, start=start, duration=duration)

    def source(step: Step, cfg: Mapping[str, Any]) -> Stream:
        if cfg.get("input"):
            return file_source(step)
        gen = str(cfg.get("generator"))
        if gen not in GENERATORS:
            raise _err(recipe, step, f"unknown generator {gen!r}", "generator")
        p = {f.name: f.default for f in GENERATORS[gen].params}
        p.update(step.config.get("params") or {})
        dur = float(p["duration"])
        if gen == "testsrc":
            return TestsrcVideo(timing, dur)
        if gen == "color":
            return ColorVideo(timing, dur, p["color"])
        if gen == "noise":
            return NoiseVideo(timing, dur, int(p["seed"]))
        if gen == "gradient":
            return GradientVideo(timing, dur, p["from_color"], p["to_color"], float(p["angle"]))
        if timing.audio is None:
            raise _err(recipe, step, "audio generator in a run without audio")
        if gen == "sine":
            return SineAudio(timing, dur, float(p["frequency"]), float(p["amplitude"]))
        return ClicksAudio(timing, dur, float(p["bpm"]), float(p["amplitude"]))

    consumers: dict[str, int] = {}
    for st in recipe.steps:
        for i in st.inputs:
            consumers[i] = consumers.get(i, 0) + 1

    def chainable(step: Step) -> bool:
        if step.type != NodeType.EFFECT or len(step.inputs) != 1:
            return False
        name = str(step.config.get("effect"))
        return name in registry and registry.get(name).arity == 1

    def chain(step: Step) -> Stream:
        # fold a linear run of single-input effects into one EffectChain (fusion,
        # buffers allocated once); inner steps must feed nothing else
        steps = [step]
        while True:
            prev = recipe.step(steps[-1].inputs[0])
            if chainable(prev) and consumers.get(prev.id, 0) == 1 and prev.id != recipe.output:
                steps.append(prev)
            else:
                break
        steps.reverse()
        nodes = []
        dyns = []
        for st in steps:
            spec = registry.get(str(st.config["effect"]))
            given = dict(st.config.get("params") or {})
            try:
                consts = spec.resolve({k: v for k, v in given.items() if not isinstance(v, Expr)})
            except EffectError as e:
                raise _err(recipe, st, str(e), "params") from e
            nodes.append((spec, consts))
            dyns.append(
                {
                    k: (spec.param(k), value(st, f"params.{k}", v))
                    for k, v in given.items()
                    if isinstance(v, Expr)
                }
            )
        from effects.chain import EffectChain

        ch = EffectChain(nodes, timing.video.width, timing.video.height)
        return ChainStream(node(steps[0].inputs[0]), ch, dyns, clock)

    def effect(step: Step, cfg: Mapping[str, Any]) -> Stream:
        if chainable(step):
            return chain(step)
        spec = registry.get(str(cfg["effect"]))
        given = dict(cfg.get("params") or {})
        consts = {k: v for k, v in given.items() if not isinstance(v, Expr)}
        base = spec.resolve(consts)
        dyn = {
            k: (spec.param(k), value(step, f"params.{k}", v))
            for k, v in given.items()
            if isinstance(v, Expr)
        }
        video_inputs = [i for i in step.inputs if recipe.step(i).type != NodeType.ANALYZE]
        srcs = [node(i) for i in video_inputs[: spec.arity]]
        if len(srcs) != spec.arity:
            raise _err(
                recipe,
                step,
                f"effect {spec.name!r} takes {spec.arity} video input(s), got {len(srcs)}",
            )
        inst = spec.factory(timing.video.width, timing.video.height)
        return EffectStream(srcs, inst, base, dyn, spec.name, clock)

    root = node(recipe.output)
    return Graph(root, streams, clock)


class _OneInput(Stream):
    def __init__(self, child: Stream) -> None:
        self.child = child
        self.frames = child.frames
        self.has_video = child.has_video
        self.has_audio = child.has_audio


class SegmentStream(_OneInput):
    """``duration`` seconds of a stream from ``start`` (frames before are read and dropped)."""

    def __init__(self, child: Stream, timing: Timing, start: float, duration: float | None) -> None:
        super().__init__(child)
        self.timing = timing
        self.skip = timing.frames_for(start)
        if child.frames is not None:
            avail = max(0, child.frames - self.skip)
            self.frames = avail if duration is None else min(avail, timing.frames_for(duration))
        else:
            self.frames = None if duration is None else timing.frames_for(duration)

    def read(self, nsamples: int) -> Chunk:
        while self.skip:
            self.child.read(self.timing.samples_for(self.skip))
            self.skip -= 1
        return self.child.read(nsamples)


class ResizeStream(_OneInput):
    """Scale (fit / fill / stretch) back onto the output frame size."""

    def __init__(self, child: Stream, timing: Timing, mode: Fit) -> None:
        super().__init__(child)
        self.timing = timing
        self.mode: Fit = mode

    def read(self, nsamples: int) -> Chunk:
        import av

        frame, audio = self.child.read(nsamples)
        if frame is None:
            return frame, audio
        vf = self.timing.video
        if (frame.width, frame.height) == (vf.width, vf.height):
            return frame, audio
        src = av.VideoFrame.from_ndarray(frame.data, format="yuv420p")
        return scale_frame(src, vf.width, vf.height, self.mode), audio


class TransformStream(_OneInput):
    """Brightness, contrast, saturation, hue and gamma on YUV planes."""

    def __init__(self, child: Stream, values: Mapping[str, Value]) -> None:
        super().__init__(child)
        self.values = values

    def read(self, nsamples: int) -> Chunk:
        frame, audio = self.child.read(nsamples)
        if frame is None:
            return frame, audio
        v = {k: f() for k, f in self.values.items()}
        out = YUVFrame.alloc(frame.width, frame.height)
        y = (frame.y.astype(np.float32) - 16.0) / 219.0
        if v["gamma"] != 1.0:
            y = np.clip(y, 0.0, 1.0) ** (1.0 / v["gamma"])
        y = (y - 0.5) * v["contrast"] + 0.5 + v["brightness"]
        out.y[:] = np.clip(y * 219.0 + 16.0, 0, 255)
        u = frame.u.astype(np.float32) - 128.0
        w = frame.v.astype(np.float32) - 128.0
        a = np.deg2rad(v["hue"])
        c, s = np.cos(a) * v["saturation"], np.sin(a) * v["saturation"]
        out.u[:] = np.clip(u * c - w * s + 128.0, 0, 255)
        out.v[:] = np.clip(u * s + w * c + 128.0, 0, 255)
        return out, audio


class EffectStream(Stream):
    """A registered effect applied per frame with per-frame parameters."""

    def __init__(
        self,
        srcs: list[Stream],
        inst: Any,
        base: Mapping[str, Any],
        dyn: Mapping[str, tuple[Any, Value]],
        name: str,
        clock: Clock,
    ) -> None:
        self.srcs = srcs
        self.inst = inst
        self.base = dict(base)
        self.dyn = dyn
        self.name = name
        self.clock = clock
        self.has_video = True
        self.has_audio = srcs[0].has_audio
        self.frames = _shortest(srcs)
        self.k = 0

    def read(self, nsamples: int) -> Chunk:
        chunks = [s.read(nsamples if i == 0 else 0) for i, s in enumerate(self.srcs)]
        frames = [c[0] for c in chunks]
        if any(f is None for f in frames):
            raise StreamError(f"effect {self.name!r}: an input has no video")
        params = self.base
        if self.dyn:
            params = dict(self.base)
            for k, (spec, fn) in self.dyn.items():
                params[k] = _clamp(spec, fn())
        f0 = frames[0]
        assert f0 is not None
        out = YUVFrame.alloc(f0.width, f0.height)
        self.inst.apply(frames, out, params, self.k)
        self.k += 1
        return out, chunks[0][1]


def _shortest(streams: Sequence[Stream]) -> int | None:
    """Frames of the shortest finite stream; None when all are endless."""
    counts = [s.frames for s in streams if s.frames is not None]
    return min(counts) if counts else None


def _clamp(spec: Any, x: float) -> float | int:
    if spec.type == "int":
        x = round(x)
    if spec.min is not None:
        x = max(spec.min, x)
    if spec.max is not None:
        x = min(spec.max, x)
    return x


class ChainStream(_OneInput):
    """A fused linear chain of single-input effects (``effects.chain.EffectChain``)."""

    def __init__(
        self,
        child: Stream,
        chain: Any,
        dyns: Sequence[Mapping[str, tuple[Any, Value]]],
        clock: Clock,
    ) -> None:
        super().__init__(child)
        self.has_video = True
        self.chain = chain
        self.dyns = dyns
        self.any_dyn = any(dyns)
        self.k = 0

    def read(self, nsamples: int) -> Chunk:
        frame, audio = self.child.read(nsamples)
        if frame is None:
            raise StreamError("effect chain: the input has no video")
        params = (
            [{k: _clamp(spec, fn()) for k, (spec, fn) in d.items()} for d in self.dyns]
            if self.any_dyn
            else ()
        )
        res = self.chain.apply(frame, params, self.k)
        self.k += 1
        # the chain reuses its buffers; hand a copy the sink may keep
        return res.copy(), audio


class BeatSyncStream(Stream):
    """Re-time video so that each source segment starts on a beat.

    The source is cut into segments of ``P`` seconds (the median interval of
    ``per`` beats). Segment ``i`` starts on beat ``i * per``. ``stretch``
    time-warps each segment to fill its beat interval exactly; ``cut`` plays
    it at normal speed and jumps to the next segment at the next beat
    (holding its last frame if the interval is longer). The mapping from
    output to source time only moves forward, so the source is read once.
    """

    has_video = True

    def __init__(
        self,
        child: Stream,
        timing: Timing,
        beats: list[float],
        per: int,
        mode: str,
        audio: Stream | None = None,
    ) -> None:
        self.child = child
        self.audio = audio
        self.has_audio = audio is not None and audio.has_audio
        self.timing = timing
        marks = beats[::per]
        if marks[0] > 1e-6:
            marks = [0.0, *marks]
        self.marks = marks
        self.period = max(
            float(np.median(np.diff(marks))) if len(marks) > 1 else 0.5, 1.0 / timing.fps
        )
        self.mode = mode
        self.frames = None
        if child.frames is not None:
            k = 0
            # source time advances at least 1/64 speed (beat intervals are bounded)
            cap = child.frames * 64 + 1
            while k < cap and self.source_frame(timing.time_of(k)) < child.frames:
                k += 1
            self.frames = k
        self.k = 0
        self.pos = 0  # source frames read
        self.last: YUVFrame | None = None

    def _segment(self, t: float) -> tuple[int, float]:
        """Segment shown at output time ``t`` and the seconds into it (source time)."""
        import bisect

        i = bisect.bisect_right(self.marks, t) - 1
        if i + 1 < len(self.marks):
            start, end = self.marks[i], self.marks[i + 1]
        else:  # past the last beat: continue the grid at the median period
            extra = int((t - self.marks[-1]) // self.period)
            i += extra
            start = self.marks[-1] + extra * self.period
            end = start + self.period
        if self.mode == "stretch":
            return i, (t - start) / (end - start) * self.period
        return i, min(t - start, self.period - 1e-6)

    def source_frame(self, t: float) -> int:
        """Source frame shown at output time ``t``.

        Segment starts are snapped to whole source frames, so the frame shown on
        a beat is the first frame of its segment (a cut lands on the beat).
        """
        i, into = self._segment(t)
        fps = self.timing.fps
        return round(i * self.period * fps) + int(into * fps + 1e-6)

    def read(self, nsamples: int) -> Chunk:
        want = self.source_frame(self.timing.time_of(self.k))
        self.k += 1
        limit = self.child.frames
        while self.pos <= want and (limit is None or self.pos < limit):
            self.last, _ = self.child.read(0)
            self.pos += 1
        return self.last, _audio_of(self.audio, nsamples)


class MapStream(Stream):
    """Slice-on-beats: each interval between events shows the next source in turn.

    A source advances only while it is shown, so every slice continues where
    that source left off. ``fx`` is an optional (effect, base params,
    per-frame params) applied to every frame; ``audio`` plays under it (the
    track the events came from).
    """

    has_video = True

    def __init__(
        self,
        srcs: list[Stream],
        timing: Timing,
        events: list[float],
        pick: str,
        seed: int,
        fx: tuple[Any, Mapping[str, Any], Mapping[str, tuple[Any, Value]]] | None,
        duration: float,
        audio: Stream | None = None,
    ) -> None:
        self.srcs = srcs
        self.audio = audio
        self.has_audio = audio is not None and audio.has_audio
        self.timing = timing
        self.events = events
        self.fx = fx
        counts = [s.frames for s in srcs]
        if duration > 0:
            self.frames: int | None = timing.frames_for(duration)
        elif all(c is not None for c in counts):
            self.frames = sum(c for c in counts if c is not None)
        else:
            self.frames = None
        n = len(srcs)
        rng = np.random.default_rng(seed)
        self._pick = pick
        self._rng = rng
        self._order: list[int] = []
        self._n = n
        self.k = 0
        self.last: list[YUVFrame | None] = [None] * n
        self.read_count = [0] * n

    def source_for(self, slice_index: int) -> int:
        """Which source slice ``slice_index`` shows (deterministic)."""
        n = self._n
        if self._pick == "random":
            while len(self._order) <= slice_index:
                self._order.append(int(self._rng.integers(0, n)))
            return self._order[slice_index]
        if self._pick == "pingpong" and n > 1:
            p = slice_index % (2 * n - 2)
            return p if p < n else 2 * n - 2 - p
        return slice_index % n

    def read(self, nsamples: int) -> Chunk:
        import bisect

        t = self.timing.time_of(self.k)
        slice_index = bisect.bisect_right(self.events, t + 1e-9)  # 0 before the first event
        i = self.source_for(slice_index)
        src = self.srcs[i]
        if src.frames is None or self.read_count[i] < src.frames:
            self.last[i], _ = src.read(0)
            self.read_count[i] += 1
        frame = self.last[i]
        if frame is None:
            raise StreamError("MAP: a source produced no video")
        if self.fx is not None:
            inst, base, dyn = self.fx
            params = dict(base)
            for k, (spec, fn) in dyn.items():
                params[k] = _clamp(spec, fn())
            out = YUVFrame.alloc(frame.width, frame.height)
            inst.apply([frame], out, params, self.k)
            frame = out
        self.k += 1
        return frame, _audio_of(self.audio, nsamples)


def _audio_of(stream: Stream | None, nsamples: int) -> np.ndarray | None:
    """The next ``nsamples`` of ``stream``'s audio (its video advances too)."""
    if stream is None:
        return None
    return stream.read(nsamples)[1]


class SequenceStream(Stream):
    """Parts one after another, cut or crossfaded over ``fade`` frames (audio crossfades too)."""

    def __init__(self, parts: list[Stream], timing: Timing, fade: int) -> None:
        self.parts = parts
        self.timing = timing
        lens = [p.frames or 0 for p in parts]
        self.fade = min([fade, *(n for n in lens)]) if fade else 0
        self.has_video = any(p.has_video for p in parts)
        self.has_audio = any(p.has_audio for p in parts)
        # start frame of each part on the sequence timeline
        self.starts: list[int] = []
        pos = 0
        for n in lens:
            self.starts.append(pos)
            pos += n - self.fade
        self.frames = pos + self.fade
        self.lens = lens
        self.k = 0
        self.channels = timing.audio.channels if timing.audio else 0

    def _read(self, part: int, nsamples: int) -> Chunk:
        f, a = self.parts[part].read(nsamples)
        if a is None and self.has_audio:
            a = silence(self.channels, nsamples)
        return f, a

    def read(self, nsamples: int) -> Chunk:
        k = self.k
        self.k += 1
        active = [i for i, s in enumerate(self.starts) if s <= k < s + self.lens[i]]
        if not active:  # past the end: hold the last part's last frame
            active = [len(self.parts) - 1]
        if len(active) == 1:
            return self._read(active[0], nsamples)
        i, j = active[0], active[-1]
        fa, aa = self._read(i, nsamples)
        fb, ab = self._read(j, nsamples)
        w = (k - self.starts[j] + 1) / (self.fade + 1)
        frame = _mix(fa, fb, w)
        audio = None if aa is None or ab is None else (aa * (1 - w) + ab * w).astype(np.float32)
        return frame, audio


def _mix(a: YUVFrame | None, b: YUVFrame | None, w: float) -> YUVFrame | None:
    if a is None or b is None:
        return a if b is None else b
    out = YUVFrame.alloc(a.width, a.height)
    wi = round(w * 256)
    tmp = a.data.astype(np.uint16) * (256 - wi) + b.data.astype(np.uint16) * wi + 128
    np.right_shift(tmp, 8, out=tmp)
    out.data[:] = tmp
    return out


class BlendStream(Stream):
    """BLEND / LAYER: composite inputs over the first with a mode and opacity.

    ``offset`` (LAYER's x/y, pixels, per frame) moves the upper layers; where
    a moved layer does not cover the base, the base shows unchanged.
    """

    def __init__(
        self,
        srcs: list[Stream],
        mode: str,
        opacity: Value,
        offset: tuple[Value, Value] | None = None,
    ) -> None:
        self.srcs = srcs
        self.mode = mode
        self.opacity = opacity
        self.offset = offset
        self.has_video = True
        self.has_audio = srcs[0].has_audio
        self.frames = _shortest(srcs)

    def read(self, nsamples: int) -> Chunk:
        chunks = [s.read(nsamples if i == 0 else 0) for i, s in enumerate(self.srcs)]
        base = chunks[0][0]
        if base is None:
            raise StreamError("blend: the base input has no video")
        op = min(1.0, max(0.0, self.opacity()))
        # chroma is subsampled 2x: keep offsets even so the planes stay aligned
        dx, dy = (
            (0, 0)
            if self.offset is None
            else (round(self.offset[0]()) & ~1, round(self.offset[1]()) & ~1)
        )
        out = base.copy()
        for f, _ in chunks[1:]:
            if f is None:
                continue
            for plane, sub in ((0, 1), (1, 2), (2, 2)):
                dst = (out.y, out.u, out.v)[plane]
                top = (f.y, f.u, f.v)[plane]
                b_reg, t_reg = _overlap(dst.shape, top.shape, dx // sub, dy // sub)
                if b_reg is None:
                    break
                lo = dst[b_reg].astype(np.float32)
                hi = top[t_reg].astype(np.float32)
                mixed = _blend_luma(self.mode, lo, hi) if plane == 0 else hi
                dst[b_reg] = np.clip(lo * (1.0 - op) + mixed * op + 0.5, 0, 255)
        return out, chunks[0][1]


def _overlap(base: tuple[int, ...], top: tuple[int, ...], dx: int, dy: int) -> tuple[Any, Any]:
    """Slices of ``base`` and ``top`` that overlap with ``top`` moved by (dx, dy)."""
    x0, y0 = max(0, dx), max(0, dy)
    x1, y1 = min(base[1], dx + top[1]), min(base[0], dy + top[0])
    if x1 <= x0 or y1 <= y0:
        return None, None
    return (slice(y0, y1), slice(x0, x1)), (slice(y0 - dy, y1 - dy), slice(x0 - dx, x1 - dx))


def _blend_luma(m: str, y0: np.ndarray, y1: np.ndarray) -> np.ndarray:
    if m == "add":
        return np.minimum(235.0, y0 + y1 - 16.0)
    if m == "multiply":
        return 16.0 + (y0 - 16.0) * (y1 - 16.0) / 219.0
    if m == "screen":
        return 235.0 - (235.0 - y0) * (235.0 - y1) / 219.0
    if m == "difference":
        return 16.0 + np.abs(y0 - y1)
    if m == "lighten":
        return np.maximum(y0, y1)
    if m == "darken":
        return np.minimum(y0, y1)
    if m == "overlay":
        n0, n1 = (y0 - 16.0) / 219.0, (y1 - 16.0) / 219.0
        return 16.0 + 219.0 * np.where(n0 < 0.5, 2 * n0 * n1, 1 - 2 * (1 - n0) * (1 - n1))
    return y1


class SharedStream:
    """One step read by several consumers: built once, its frames handed to each.

    Every consumer gets a :meth:`tap` with its own position. Frames (and audio
    samples) are kept from the slowest attached tap to the fastest; a tap more
    than ``max_lag`` frames behind is detached and, when it reads next, gets
    its own copy from ``fresh()`` fast-forwarded to where it was (audio is a
    continuous sample stream, so one read can carry all its samples).
    """

    def __init__(
        self, inner: Stream, timing: Timing, fresh: Callable[[], Stream], max_lag: int
    ) -> None:
        self.inner = inner
        self.timing = timing
        self.fresh = fresh
        self.max_lag = max(1, max_lag)
        self.taps: list[_Tap] = []
        self._frames: list[YUVFrame | None] = []
        self._f0 = 0  # index of _frames[0]
        self._chunks: list[np.ndarray] = []
        self._audio = np.zeros((timing.audio.channels if timing.audio else 0, 0), np.float32)
        self._a0 = 0  # sample index of _audio[:, 0]
        self._made = 0  # frames read from inner
        self._samples = 0  # samples read from inner

    def tap(self) -> Stream:
        """A new consumer, starting at frame 0."""
        t = _Tap(self)
        self.taps.append(t)
        return t

    def _pull(self) -> None:
        ns = self.timing.samples_for(self._made) if self.inner.has_audio else 0
        frame, audio = self.inner.read(ns)
        self._frames.append(frame)
        self._made += 1
        if self.inner.has_audio:
            if audio is None or audio.shape[1] != ns:
                audio = silence(self._audio.shape[0], ns)
            self._chunks.append(audio)
            self._samples += ns
        for t in self.taps:
            if t.attached and t.k < self._made - self.max_lag:
                t.attached = False

    def frame_at(self, k: int) -> YUVFrame | None:
        while self._made <= k:
            self._pull()
        return self._frames[k - self._f0]

    def samples_at(self, p: int, n: int) -> np.ndarray:
        while self._samples < p + n:
            self._pull()
        if self._chunks:
            self._audio = np.concatenate([self._audio, *self._chunks], axis=1)
            self._chunks.clear()
        i = p - self._a0
        if i >= 0:
            return self._audio[:, i : i + n]
        # the samples were dropped before this tap first asked for audio: silence there
        out = silence(self._audio.shape[0], n)
        got = self._audio[:, : max(0, n + i)]
        out[:, n - got.shape[1] :] = got
        return out

    def trim(self) -> None:
        """Drop what every attached tap has read."""
        live = [t for t in self.taps if t.attached]
        if not live:
            return
        kmin = min(t.k for t in live)
        if kmin > self._f0:
            del self._frames[: kmin - self._f0]
            self._f0 = kmin
        # a tap that has not started may still ask for audio; one that reads frames
        # without audio (a second input of a blend, BEAT_SYNC's video) is deaf
        heard = [t.p for t in live if t.heard or t.k == 0]
        if heard and min(heard) > self._a0 and not self._chunks:
            cut = min(heard) - self._a0
            self._audio = self._audio[:, cut:]
            self._a0 += cut


class _Tap(Stream):
    """One consumer's view of a :class:`SharedStream`."""

    def __init__(self, shared: SharedStream) -> None:
        self.shared = shared
        self.frames = shared.inner.frames
        self.has_video = shared.inner.has_video
        self.has_audio = shared.inner.has_audio
        self.k = 0  # next frame
        self.p = 0  # next audio sample
        self.heard = False  # asked for audio at least once
        self.attached = True
        self.own: Stream | None = None

    def read(self, nsamples: int) -> Chunk:
        if not self.attached:
            return self._read_own(nsamples)
        sh = self.shared
        frame = sh.frame_at(self.k)
        if not self.attached:  # the pull above left this tap behind
            return self._read_own(nsamples)
        self.k += 1
        audio = None
        if self.has_audio:
            audio = sh.samples_at(self.p, nsamples)
            self.p += nsamples
            self.heard = self.heard or nsamples > 0
        sh.trim()
        return frame, audio

    def _read_own(self, nsamples: int) -> Chunk:
        if self.own is None:
            self.own = self.shared.fresh()
            for j in range(self.k):  # catch up: frames k, audio p
                self.own.read(self.p if j == self.k - 1 else 0)
        return self.own.read(nsamples)


class MuxStream(Stream):
    """Video of the first input, audio of the second."""

    def __init__(self, video: Stream, audio: Stream, shortest: bool) -> None:
        self.video = video
        self.audio = audio
        self.has_video = True
        self.has_audio = audio.has_audio
        counts = [s.frames for s in (video, audio) if s.frames is not None]
        if shortest:
            self.frames = _shortest((video, audio))
        else:
            self.frames = (
                video.frames if video.frames is not None else (max(counts) if counts else None)
            )

    def read(self, nsamples: int) -> Chunk:
        frame, _ = self.video.read(0)
        _, audio = self.audio.read(nsamples)
        return frame, audio
