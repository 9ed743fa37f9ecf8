"""Warm a worker process at start-up, in the background, so its first live run starts fast.

A fresh process pays, on its first run, for lazy imports (numba, the
interpreter runtime, librosa's submodules), for loading every numba kernel
from the on-disk cache (``@njit(cache=True)``; compiling it the very first
time), for opening libx264 and AAC, and for the recipe tools. :class:`Warmup`
does all of that in one daemon thread, in small units (:func:`default_units`:
imports, a recipe, a tiny render to HLS, each effect's kernels, the analysis
imports and a tiny analysis), while the event loop keeps serving; it logs
``worker ready`` with the time spent per group.

A job that arrives meanwhile is not held back: it runs at once and loads what
it needs itself. Python's import locks and numba's compiler lock make the two
threads share the work instead of doing it twice, and the render job pauses
the warm-up between units until its first segment is listed
(:func:`pause_warmup`), so the job shares the CPU with at most the unit in
flight. Each unit catches its own failure (logged; the job then pays that
cost itself).

Warming is per process (imports, numba dispatchers and codecs are process-wide),
so :func:`start_warmup` starts it once per process and hands later callers
(several workers in one process: ``artdag serve``, the tests) the same one.
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import logging
import tempfile
import threading
import time
import wave
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "ANALYSIS_MODULES",
    "MAX_PAUSE_SECONDS",
    "MODULES",
    "WARMUP_KEY",
    "WARMUP_RECIPE",
    "Unit",
    "Warmup",
    "current_warmup",
    "default_units",
    "pause_warmup",
    "recipe_units",
    "start_warmup",
]

log = logging.getLogger(__name__)

#: Where a worker keeps the process's :class:`Warmup` in the job ``ctx``.
WARMUP_KEY = "warmup"

#: Modules a live run imports lazily (the interpreter runtime, the encoders), in order.
MODULES = (
    "effects.catalog",
    "interpreter.validate",
    "interpreter.planner",
    "interpreter.stream",
    "interpreter.runtime.builder",
    "interpreter.runtime.generators",
    "interpreter.runtime.sources",
    "hls.output",
    "hls.encoder",
    "interpreter.analysis",
)

#: What audio analysis imports on first use (librosa loads its submodules lazily),
#: one by one so that a job waits at most for one of them.
ANALYSIS_MODULES = (
    "scipy.fft",
    "scipy.signal",
    "scipy.sparse",
    "scipy.stats",
    "scipy.optimize",
    "scipy.interpolate",
    "librosa.core",
    "librosa.util",
    "librosa.feature",
    "librosa.onset",
    "librosa.beat",
)

#: Longest a warm-up waits, in total, for starting jobs (:meth:`Warmup.pause`).
MAX_PAUSE_SECONDS = 30.0

#: A tiny live recipe over every kind of stage a run has: generators, an
#: expression fed by analysis, effects, a mux with audio.
WARMUP_RECIPE = """\
name: warm-up
version: '1.0'
steps:
- id: beat
  type: SOURCE
  config: {generator: clicks, duration: 1.5, bpm: 120}
- id: features
  type: ANALYZE
  inputs: [beat]
  config: {features: [beats, energy]}
- id: video
  type: SOURCE
  config: {generator: testsrc, duration: 1.5, width: 64, height: 48, fps: 30}
- id: hue
  type: EFFECT
  inputs: [video, features]
  config: {effect: hue, degrees: 90 * t + 10 * energy}
- id: zoom
  type: EFFECT
  inputs: [hue]
  config: {effect: transform, zoom: 1.1}
- id: show
  type: MUX
  inputs: [zoom, beat]
output: show
"""

_ANALYSIS = {"beats": [0.0, 0.5, 1.0], "energy": {"rate": 10.0, "values": [1.0, 0.5] * 8}}

Unit = tuple[str, Callable[[], object]]
"""One piece of warm-up: its group name (``imports``, ``kernels``...) and the call."""


def warm_recipe() -> None:
    """Parse, validate and plan a recipe (the first ``POST /runs`` does it in this process)."""
    from interpreter.loader import load_recipe
    from interpreter.planner import plan_recipe
    from interpreter.validate import validate

    recipe = load_recipe(WARMUP_RECIPE, filename="<warm-up>")
    validate(recipe)
    plan_recipe(recipe, {})


def warm_render() -> None:
    """Render the warm-up recipe to HLS in a temp dir (interpreter, x264, AAC, mpegts, playlist)."""
    from cache.cid import cid_of_bytes
    from hls.options import HLSOptions
    from hls.output import LocalHLSOutput
    from interpreter.loader import load_recipe
    from interpreter.stream import StreamInterpreter

    recipe = load_recipe(WARMUP_RECIPE, filename="<warm-up>")
    with tempfile.TemporaryDirectory(prefix="artdag-warmup-") as tmp:
        sink = LocalHLSOutput(Path(tmp), HLSOptions(preset="veryfast"), cid_of_bytes)
        interp = StreamInterpreter(recipe, {}, sink, analysis=_ANALYSIS)
        asyncio.run(interp.run())  # this thread's own loop, never the worker's


def kernel_units() -> Iterator[Unit]:
    """One unit per registered effect: run it once (loads its numba kernels from the cache);
    then the ABR ladder's frame scaler."""
    from effects.catalog import default_registry
    from effects.registry import Registry
    from effects.warmup import warm_up
    from hls.scaler import warm_scaler

    for spec in default_registry():
        yield "kernels", functools.partial(warm_up, Registry([spec]))
    yield "kernels", warm_scaler


def warm_analysis() -> None:
    """Analyse a generated click track (decode, resample, librosa's beat tracker and STFT)."""
    from interpreter.analysis import analyze_file

    rate, seconds = 22050, 3.0
    t = np.arange(int(rate * seconds)) / rate
    clicks = np.sin(2 * np.pi * 1000 * t) * np.exp(-60 * np.mod(t, 0.5))
    pcm = (clicks * 20000).astype("<i2").tobytes()
    with tempfile.TemporaryDirectory(prefix="artdag-warmup-") as tmp:
        path = Path(tmp) / "clicks.wav"
        with wave.open(str(path), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(rate)
            w.writeframes(pcm)
        analyze_file(path, "audio", input_cid="warm-up")


def recipe_units() -> Iterator[Unit]:
    """The warm-up of a process without a worker (``artdag serve --no-worker``): it only
    parses, validates and plans recipes (``POST /runs``)."""
    for name in ("effects.catalog", "interpreter.validate", "interpreter.planner"):
        yield "imports", functools.partial(importlib.import_module, name)
    yield "recipe", warm_recipe


def default_units() -> Iterator[Unit]:
    """The warm-up, in order of what a first live run needs first."""
    for name in MODULES:
        yield "imports", functools.partial(importlib.import_module, name)
    yield "recipe", warm_recipe
    yield "render", warm_render
    yield from kernel_units()
    for name in ANALYSIS_MODULES:
        yield "analysis", functools.partial(importlib.import_module, name)
    yield "analysis", warm_analysis


class Warmup:
    """The warm-up of this process: runs ``units()`` one by one in a daemon thread.

    Between units it waits while a job is starting (:meth:`pause`), so a job
    that arrives during the warm-up shares the CPU with at most the unit in
    flight.

    Args:
        units: Makes the units (default :func:`default_units`); evaluated lazily,
            in the thread.
        name: Who is warming, for the log line (``<name> ready: warm-up took ...``).

    Attributes:
        times: Seconds spent per group (``imports``, ``recipe``, ...), in order.
        errors: Failed units: ``group: why``.
        done: Set when every unit has run (or the warm-up was stopped).
        paused_seconds: Seconds spent waiting for starting jobs.
    """

    def __init__(
        self, units: Callable[[], Iterable[Unit]] = default_units, name: str = "worker"
    ) -> None:
        self.units = units
        self.name = name
        self.times: dict[str, float] = {}
        self.errors: list[str] = []
        self.done = threading.Event()
        self.seconds = 0.0
        self.paused_seconds = 0.0
        self._stop = threading.Event()
        self._cond = threading.Condition()
        self._holds = 0
        self._thread = threading.Thread(target=self._run, name="artdag-warmup", daemon=True)

    def start(self) -> None:
        """Start the thread (returns at once)."""
        self._thread.start()

    def stop(self) -> None:
        """Skip the units not started yet (the one running finishes)."""
        self._stop.set()
        with self._cond:
            self._cond.notify_all()

    @property
    def ready(self) -> bool:
        """Whether the warm-up has finished."""
        return self.done.is_set()

    async def wait(self, timeout: float | None = None) -> bool:
        """Wait (without blocking the loop) until done; False on timeout."""
        return await asyncio.to_thread(self.done.wait, timeout)

    def pause(self) -> Callable[[], None]:
        """Hold the next units back while a job starts; call the result to let them go.

        The returned function may be called any number of times. Holds stop
        counting after :data:`MAX_PAUSE_SECONDS` of waiting in total.
        """
        released = threading.Event()
        with self._cond:
            self._holds += 1

        def resume() -> None:
            with self._cond:
                if not released.is_set():
                    released.set()
                    self._holds -= 1
                    self._cond.notify_all()

        return resume

    def summary(self) -> str:
        """``imports 0.41 s, recipe 0.02 s, ...`` (and failures)."""
        parts = [f"{name} {secs:.2f} s" for name, secs in self.times.items()]
        if self.paused_seconds:
            parts.append(f"paused for jobs {self.paused_seconds:.2f} s")
        parts += [f"failed: {why}" for why in self.errors]
        return ", ".join(parts) or "nothing"

    def _wait_turn(self) -> None:
        with self._cond:
            t = time.perf_counter()
            left = MAX_PAUSE_SECONDS - self.paused_seconds
            self._cond.wait_for(lambda: not self._holds or self._stop.is_set(), max(0.0, left))
            self.paused_seconds += time.perf_counter() - t

    def _run(self) -> None:
        t0 = time.perf_counter()
        try:
            for group, call in self.units():
                self._wait_turn()
                if self._stop.is_set():
                    break
                t = time.perf_counter()
                try:
                    call()
                except Exception as exc:  # an optimisation: the job pays it itself instead
                    self.errors.append(f"{group}: {type(exc).__name__}: {exc}")
                    log.warning("warm-up (%s) failed: %s", group, self.errors[-1])
                self.times[group] = self.times.get(group, 0.0) + time.perf_counter() - t
        except Exception as exc:  # making the units failed (e.g. an import): stop there
            self.errors.append(f"{type(exc).__name__}: {exc}")
            log.warning("warm-up stopped: %s", self.errors[-1])
        finally:
            self.seconds = time.perf_counter() - t0
            self.done.set()
            log.info("%s ready: warm-up took %.2f s (%s)", self.name, self.seconds, self.summary())


_lock = threading.Lock()
_process_warmup: Warmup | None = None


def start_warmup(units: Callable[[], Iterable[Unit]] = default_units) -> Warmup:
    """This process's warm-up, started on the first call (later calls return the same one).

    Args:
        units: What to warm (:func:`default_units` for a worker, :func:`recipe_units`
            for an API-only server); only the first call's choice counts.
    """
    global _process_warmup
    with _lock:
        if _process_warmup is None:
            name = "worker" if units is default_units else "server"
            _process_warmup = Warmup(units, name)
            _process_warmup.start()
        return _process_warmup


def current_warmup() -> Warmup | None:
    """This process's warm-up if one was started (running or done), else None."""
    return _process_warmup


def pause_warmup(ctx: Mapping[str, Any]) -> Callable[[], None]:
    """Pause the worker's warm-up (if any, in ``ctx``) while a job starts; returns the resume."""
    warmup = ctx.get(WARMUP_KEY)
    if isinstance(warmup, Warmup) and not warmup.ready:
        return warmup.pause()
    return _nothing


def _nothing() -> None:
    return None
