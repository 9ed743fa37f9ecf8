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

__all__ = ["Cancelled", "FrameSink", "Progress", "StreamError", "StreamInterpreter"]

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
        return graph, timing, total

    async def run(self) -> Any:
        """Render the whole output; returns what ``sink.finish()`` returns.

        Raises:
            Cancelled: cancel() was called (the sink is aborted).
            StreamError / InterpreterError: a stage failed (the sink is aborted).
            asyncio.CancelledError: the awaiting task was cancelled (run is stopped first).
        """
        loop = asyncio.get_running_loop()
        graph, timing, total = await asyncio.to_thread(self._build)
        self.total_frames = total
        try:
            await self.sink.start(timing.video, timing.audio, self.on_playlist_update)
        except BaseException:
            await asyncio.to_thread(graph.close)
            raise
        q: queue.Queue[object] = queue.Queue(maxsize=self.queue_size)
        errors: list[BaseException] = []
        done = loop.create_future()
        started = time.perf_counter()
        every = max(1, round(timing.fps))
        pending: set[asyncio.Future[Any]] = set()

        def emit(p: Progress) -> None:
            if self.on_progress is None:
                return
            r = self.on_progress(p)
            if inspect.isawaitable(r):
                task = asyncio.ensure_future(r)
                pending.add(task)
                task.add_done_callback(pending.discard)

        def put(item: object) -> bool:
            while not self._cancel.is_set():
                try:
                    q.put(item, timeout=0.05)
                    return True
                except queue.Full:
                    continue
            return False

        def graph_stage() -> None:
            try:
                root = graph.root
                channels = timing.audio.channels if timing.audio else 0
                for n in range(total):
                    if self._cancel.is_set():
                        return
                    graph.clock.n = n
                    ns = timing.samples_for(n)
                    frame, audio = root.read(ns)
                    if frame is None:
                        raise StreamError(f"frame {n}: the output produced no video")
                    if timing.audio is not None:
                        if audio is None:
                            audio = silence(channels, ns)
                        elif audio.shape != (channels, ns):
                            raise StreamError(
                                f"frame {n}: audio shape {audio.shape}, expected {(channels, ns)}"
                            )
                        audio = np.ascontiguousarray(audio, dtype=np.float32)
                    else:
                        audio = None
                    if not put((frame, audio)):
                        return
                put(_DONE)
            except Cancelled:
                return
            except InterpreterError as e:
                errors.append(e)
                self._cancel.set()
            except Exception as e:  # add where it happened; the cause stays chained
                err = StreamError(
                    f"rendering frame {graph.clock.n} (t={timing.time_of(graph.clock.n):.3f} s) failed: "
                    f"{type(e).__name__}: {e}",
                    file=self.recipe.filename,
                )
                err.__cause__ = e
                errors.append(err)
                self._cancel.set()

        def sink_stage() -> None:
            try:
                while True:
                    try:
                        item = q.get(timeout=0.05)
                    except queue.Empty:
                        if self._cancel.is_set():
                            return
                        continue
                    if item is _DONE:
                        return
                    if self._cancel.is_set():
                        return
                    assert isinstance(item, tuple)
                    self.sink.write(item[0], item[1])
                    self.frames_written += 1
                    n = self.frames_written
                    if n % every == 0 and n < total:
                        elapsed = time.perf_counter() - started
                        loop.call_soon_threadsafe(
                            emit,
                            Progress(n, total, n / timing.fps, n / elapsed if elapsed else 0.0),
                        )
            except BaseException as e:
                errors.append(e)
                self._cancel.set()
            finally:
                loop.call_soon_threadsafe(_resolve, done)

        threads = [
            threading.Thread(target=graph_stage, name="stream-graph", daemon=True),
            threading.Thread(target=sink_stage, name="stream-sink", daemon=True),
        ]
        for t in threads:
            t.start()

        def join() -> None:
            for t in threads:
                t.join()
            graph.close()

        try:
            await asyncio.shield(done)
        except asyncio.CancelledError:
            self._cancel.set()
            await asyncio.to_thread(join)
            with contextlib.suppress(Exception):
                await self.sink.abort()
            raise
        await asyncio.to_thread(join)
        if errors or self._cancel.is_set():
            with contextlib.suppress(Exception):
                await self.sink.abort()
            if errors:
                raise errors[0]
            raise Cancelled(
                f"cancelled after {self.frames_written} of {total} frames",
                file=self.recipe.filename,
            )
        result = await self.sink.finish()
        elapsed = time.perf_counter() - started
        emit(
            Progress(
                total, total, total / timing.fps, total / elapsed if elapsed else 0.0, done=True
            )
        )
        return result
