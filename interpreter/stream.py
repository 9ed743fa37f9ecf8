"""StreamInterpreter: runs a recipe frame by frame into a FrameSink.

Three stages joined by bounded queues, all off the event loop: decoder
threads per file source (inside :mod:`interpreter.runtime.sources`), one
graph thread (parameters, effects, sequences, blends, audio), and one sink
thread calling ``sink.write``. PyAV and the numba kernels release the GIL, so
the stages overlap on separate cores. ``cancel()`` sets a flag every stage
polls at least once per frame (queue waits time out every 50 ms).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import queue
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from effects.frame import AudioFormat, VideoFormat
from effects.registry import Registry
from interpreter.errors import InterpreterError
from interpreter.nodes import Recipe
from interpreter.runtime.base import Timing, silence
from interpreter.runtime.errors import Cancelled, StreamError
from interpreter.runtime.graph import Graph, build_graph, default_video_format
from interpreter.sink import FrameSink, PlaylistCallback

__all__ = [
    "Cancelled",
    "FrameSink",
    "OutputShape",
    "Progress",
    "StreamError",
    "StreamInterpreter",
]

_DONE = object()


@dataclass(frozen=True, slots=True)
class Progress:
    """One progress event.

    Attributes:
        frames: Frames written to the sink so far.
        total_frames: Frames the run will write.
        seconds: Output seconds rendered (frames / fps).
        fps: Average frames per second since the run started.
        done: True on the final event.
    """

    frames: int
    total_frames: int
    seconds: float
    fps: float
    done: bool = False

    @property
    def fraction(self) -> float:
        """Progress 0..1."""
        return self.frames / self.total_frames if self.total_frames else 1.0


@dataclass(frozen=True, slots=True)
class OutputShape:
    """What a run outputs: its formats and length (a chunked render plans from it).

    Attributes:
        video: Output geometry and rate.
        audio: Output audio (None: the output has none).
        frames: Output frames.
    """

    video: VideoFormat
    audio: AudioFormat | None
    frames: int


def _resolve(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


class StreamInterpreter:
    """Execute a validated recipe live into ``sink``.

    Args:
        recipe: A validated recipe.
        inputs: Recipe input name -> media file.
        sink: Where frames go (e.g. ``hls.output.LocalHLSOutput``).
        params: Recipe parameter overrides.
        analysis: Analysis data for beat/energy variables (JSON mapping or an
            object with ``sample(t)``).
        registry: Effect registry (default ``effects.catalog.default_registry()``).
        on_progress: Called (on the event loop; may be async) with a
            :class:`Progress` at least once per second of output.
        on_playlist_update: Passed to ``sink.start``.
        video_format: Output geometry and rate (default: the first video source's).
        audio_format: Output audio (default 48 kHz stereo when the recipe has audio).
        duration: Seconds to render (default: the output's own length; required
            when it is unbounded).
        queue_size: Frames buffered between the graph and sink stages.
        frame_range: Render only output frames ``[first, end)`` (a chunk of a
            longer render; ``end`` is capped at the output's length). The
            frames before ``first`` are skipped (:meth:`Stream.skip
            <interpreter.runtime.base.Stream.skip>`: files seek, temporal
            effects get their pre-roll), so the result depends only on the
            range, never on what was rendered before. Default: everything.
    """

    def __init__(
        self,
        recipe: Recipe,
        inputs: Mapping[str, Path],
        sink: FrameSink,
        *,
        params: Mapping[str, Any] | None = None,
        analysis: Any = None,
        registry: Registry | None = None,
        on_progress: Callable[[Progress], Any] | None = None,
        on_playlist_update: PlaylistCallback | None = None,
        video_format: VideoFormat | None = None,
        audio_format: AudioFormat | None = None,
        duration: float | None = None,
        queue_size: int = 4,
        frame_range: tuple[int, int] | None = None,
    ) -> None:
        self.recipe = recipe
        self.inputs = {k: Path(v) for k, v in inputs.items()}
        self.sink = sink
        self.params = dict(params or {})
        self.analysis = analysis
        self.registry = registry
        self.on_progress = on_progress
        self.on_playlist_update = on_playlist_update
        self.video_format = video_format
        self.audio_format = audio_format
        self.duration = duration
        self.queue_size = max(1, queue_size)
        if frame_range is not None and not 0 <= frame_range[0] < frame_range[1]:
            raise ValueError(f"frame_range {frame_range!r}: need 0 <= first < end")
        self.frame_range = frame_range
        self.first_frame = 0
        self._cancel = threading.Event()
        self.frames_written = 0
        self.total_frames = 0

    def cancel(self) -> None:
        """Stop the run; every stage notices within one frame."""
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        """Whether cancel() was called."""
        return self._cancel.is_set()

    def _build(self) -> tuple[Graph, Timing, int]:
        registry = self.registry
        if registry is None:
            from effects.catalog import default_registry

            registry = default_registry()
        vf = self.video_format or default_video_format(self.recipe, self.inputs)
        timing = Timing(vf, self.audio_format or AudioFormat(), self._cancel)
        graph = build_graph(
            self.recipe,
            self.inputs,
            timing,
            registry=registry,
            params=self.params,
            analysis=self.analysis,
            duration=self.duration,
        )
        root = graph.root
        if not root.has_video:
            graph.close()
            raise StreamError(
                f"output {self.recipe.output!r} has no video", file=self.recipe.filename
            )
        if self.duration is not None:
            total = timing.frames_for(self.duration)
        elif root.frames is not None:
            total = root.frames
        else:
            graph.close()
            raise StreamError(
                f"output {self.recipe.output!r} never ends",
                file=self.recipe.filename,
                hint="give the run a duration",
            )
        if not root.has_audio:
            timing.audio = None
        if self.frame_range is not None:
            first, end = self.frame_range
            if first >= total:
                graph.close()
                raise StreamError(
                    f"frame range starts at {first}, the output has {total} frames",
                    file=self.recipe.filename,
                )
            self.first_frame, total = first, min(end, total)
        return graph, timing, total

    async def shape(self) -> OutputShape:
        """The output's formats and length (the graph is built, then closed).

        Raises:
            StreamError / InterpreterError: the recipe cannot run.
        """
        keep, self.frame_range = self.frame_range, None
        try:
            graph, timing, total = await asyncio.to_thread(self._build)
        finally:
            self.frame_range = keep
        await asyncio.to_thread(graph.close)
        return OutputShape(timing.video, timing.audio, total)

    async def run(self) -> Any:
        """Render the whole output; returns what ``sink.finish()`` returns.

        Raises:
            Cancelled: cancel() was called (the sink is aborted).
            StreamError / InterpreterError: a stage failed (the sink is aborted).
            asyncio.CancelledError: the awaiting task was cancelled (run is stopped first).
        """
        loop = asyncio.get_running_loop()
        graph, timing, end = await asyncio.to_thread(self._build)
        total = end - self.first_frame
        self.total_frames = total
        try:
            await self.sink.start(timing.video, timing.audio, self.on_playlist_update)
        except BaseException:
            await asyncio.to_thread(graph.close)
            raise
        stages = _Stages(self, graph, timing, total, loop, first=self.first_frame)
        stages.start()
        try:
            await asyncio.shield(stages.done)
        except asyncio.CancelledError:
            self._cancel.set()
            await asyncio.to_thread(stages.join)
            with contextlib.suppress(Exception):
                await self.sink.abort()
            raise
        await asyncio.to_thread(stages.join)
        if stages.errors or self._cancel.is_set():
            with contextlib.suppress(Exception):
                await self.sink.abort()
            if stages.errors:
                raise stages.errors[0]
            raise Cancelled(
                f"cancelled after {self.frames_written} of {total} frames",
                file=self.recipe.filename,
            )
        result = await self.sink.finish()
        elapsed = time.perf_counter() - stages.started
        stages.emit(
            Progress(
                total, total, total / timing.fps, total / elapsed if elapsed else 0.0, done=True
            )
        )
        return result


class _Stages:
    """The graph and sink threads of one run, and the queue and errors they share.

    The graph thread renders frames into a bounded queue; the sink thread
    writes them and posts progress to the event loop. Either stage that fails
    records its error and sets the run's cancel flag, which stops the other.
    """

    def __init__(
        self,
        interp: StreamInterpreter,
        graph: Graph,
        timing: Timing,
        total: int,
        loop: asyncio.AbstractEventLoop,
        *,
        first: int = 0,
    ) -> None:
        self.interp = interp
        self.first = first
        self.graph = graph
        self.timing = timing
        self.total = total
        self.loop = loop
        self.cancel = interp._cancel
        self.queue: queue.Queue[object] = queue.Queue(maxsize=interp.queue_size)
        self.errors: list[BaseException] = []
        self.done: asyncio.Future[None] = loop.create_future()
        self.started = time.perf_counter()
        self.every = max(1, round(timing.fps))  # progress about once per second of output
        self.pending: set[asyncio.Future[Any]] = set()  # async progress callbacks in flight
        self.threads = [
            threading.Thread(target=self.graph_stage, name="stream-graph", daemon=True),
            threading.Thread(target=self.sink_stage, name="stream-sink", daemon=True),
        ]

    def start(self) -> None:
        """Start both threads."""
        for t in self.threads:
            t.start()

    def join(self) -> None:
        """Wait for both threads, then close the graph (blocking: run it off the loop)."""
        for t in self.threads:
            t.join()
        self.graph.close()

    def emit(self, p: Progress) -> None:
        """Hand a progress event to ``on_progress`` (on the event loop)."""
        if self.interp.on_progress is None:
            return
        r = self.interp.on_progress(p)
        if inspect.isawaitable(r):
            task = asyncio.ensure_future(r)
            self.pending.add(task)
            task.add_done_callback(self.pending.discard)

    def put(self, item: object) -> bool:
        """Queue an item for the sink; False when the run was cancelled first."""
        while not self.cancel.is_set():
            try:
                self.queue.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def graph_stage(self) -> None:
        """Thread body: render every frame, then the end marker."""
        try:
            self._render()
        except Cancelled:
            return
        except InterpreterError as e:
            self.errors.append(e)
            self.cancel.set()
        except Exception as e:  # add where it happened; the cause stays chained
            n = self.graph.clock.n
            err = StreamError(
                f"rendering frame {n} (t={self.timing.time_of(n):.3f} s) failed: "
                f"{type(e).__name__}: {e}",
                file=self.interp.recipe.filename,
            )
            err.__cause__ = e
            self.errors.append(err)
            self.cancel.set()

    def _render(self) -> None:
        root = self.graph.root
        if self.first:
            root.skip(self.graph.clock, 0, [self.timing.samples_for(n) for n in range(self.first)])
        for n in range(self.first, self.first + self.total):
            if self.cancel.is_set():
                return
            self.graph.clock.n = n
            ns = self.timing.samples_for(n)
            frame, audio = root.read(ns)
            if frame is None:
                raise StreamError(f"frame {n}: the output produced no video")
            if not self.put((frame, self._frame_audio(n, ns, audio))):
                return
        self.put(_DONE)

    def _frame_audio(self, n: int, ns: int, audio: np.ndarray | None) -> np.ndarray | None:
        """The ``ns`` samples of frame ``n`` as contiguous float32 (silence when missing)."""
        if self.timing.audio is None:
            return None
        channels = self.timing.audio.channels
        if audio is None:
            audio = silence(channels, ns)
        elif audio.shape != (channels, ns):
            raise StreamError(f"frame {n}: audio shape {audio.shape}, expected {(channels, ns)}")
        return np.ascontiguousarray(audio, dtype=np.float32)

    def sink_stage(self) -> None:
        """Thread body: write queued frames to the sink until the end marker."""
        try:
            self._write()
        except BaseException as e:
            self.errors.append(e)
            self.cancel.set()
        finally:
            self.loop.call_soon_threadsafe(_resolve, self.done)

    def _write(self) -> None:
        interp, total = self.interp, self.total
        while True:
            try:
                item = self.queue.get(timeout=0.05)
            except queue.Empty:
                if self.cancel.is_set():
                    return
                continue
            if item is _DONE or self.cancel.is_set():
                return
            assert isinstance(item, tuple)
            interp.sink.write(item[0], item[1])
            interp.frames_written += 1
            n = interp.frames_written
            if n % self.every == 0 and n < total:
                elapsed = time.perf_counter() - self.started
                self.loop.call_soon_threadsafe(
                    self.emit,
                    Progress(n, total, n / self.timing.fps, n / elapsed if elapsed else 0.0),
                )
