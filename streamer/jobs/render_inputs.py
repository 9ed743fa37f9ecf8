"""What the live render job needs around the interpreter: inputs, analyses, pacing, HLS options."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from cache.errors import StorageError
from effects.frame import AudioFormat, VideoFormat, YUVFrame
from hls.options import HLSOptions
from interpreter.analysis import AnalysisCache, AnalysisResult
from interpreter.analysis.analyze import resolve_features
from interpreter.analysis.decode import probe
from interpreter.ids import analysis_id
from interpreter.loader import load_recipe
from interpreter.nodes import Recipe
from interpreter.validate import validate
from streamer.content.primary import SharedDocs
from streamer.content.stores import Stores
from streamer.settings import Settings

__all__ = [
    "ENCODER_DELAY_SECONDS",
    "InputError",
    "PacedSink",
    "hls_options",
    "keep_segments",
    "load_checked",
    "paced_lead",
    "resolve_inputs",
    "run_analyses",
]


def load_checked(source: str, recipe_id: str) -> Recipe:
    """Load and validate a stored recipe (blocking: call it in a thread)."""
    recipe = load_recipe(source, filename=f"recipe {recipe_id[:12]}")
    validate(recipe)
    return recipe


class InputError(Exception):
    """A run input cannot be made available locally (the run fails with this text)."""


def hls_options(settings: Settings) -> HLSOptions:
    """HLS encoder options from the settings.

    Low-Latency HLS (``part_seconds``) also turns off x264's rate-control lookahead
    and B-frames: the first packet of a frame then leaves the encoder 4 frames
    later instead of about 17 (0.4 s less glass-to-glass at 30 fps), for more bits
    at the same CRF.
    """
    ll = settings.hls.part_seconds > 0
    return HLSOptions(
        segment_duration=settings.hls.segment_seconds,
        container="fmp4" if settings.hls.container == "fmp4" else "mpegts",
        preset=settings.hls.x264_preset,
        part_duration=settings.hls.part_seconds,
        rc_lookahead=0 if ll else None,
        bframes=0 if ll else None,
    )


#: Seconds of output x264 holds back before the first packet leaves it (about 16
#: frames with 2 frame threads at ``veryfast``), rounded up.
ENCODER_DELAY_SECONDS = 0.7


def paced_lead(options: HLSOptions) -> float:
    """Seconds of output a paced run writes at full speed: its first segment and x264's delay."""
    first = options.segment_duration
    if options.first_segment_duration is not None:
        first = min(first, options.first_segment_duration)
    return first + ENCODER_DELAY_SECONDS


class PacedSink:
    """A FrameSink wrapper that writes no faster than ``pace`` times real time after a lead.

    Live streams are consumed in real time; pacing keeps a long render from
    racing ahead of its viewers (and gives tests a window mid-render). The
    first ``lead`` seconds of output are not held back: the first segment is
    then listed as soon as it is encoded instead of after its own duration plus
    the encoder's delay in real time, and viewers start with that much buffer.
    The sleep happens in the pipeline thread, in slices short enough for a
    cancel to be noticed within a frame. With ``pace`` None nothing is held
    back; the wrapper then only records when the run started writing.

    Attributes:
        started_at: ``time.time()`` when the interpreter started the sink (graph built).
        first_write_at: ``time.time()`` of the first frame handed to the sink.
    """

    def __init__(self, inner: Any, pace: float | None, lead: float = 0.0) -> None:
        if pace is not None and pace <= 0:
            raise ValueError(f"pace must be > 0, got {pace!r}")
        self.inner = inner
        self.pace = pace
        self.lead = max(0.0, lead)
        self.started_at: float | None = None
        self.first_write_at: float | None = None
        self._frame_seconds = 0.0
        self._lead_frames = 0
        self._t0: float | None = None
        self._n = 0

    async def start(
        self, video: VideoFormat, audio: AudioFormat | None, on_playlist_update: Any
    ) -> None:
        self.started_at = time.time()
        if self.pace is not None:
            self._frame_seconds = video.fps_den / video.fps_num / self.pace
        self._lead_frames = round(self.lead * video.fps_num / video.fps_den)
        await self.inner.start(video, audio, on_playlist_update)

    def write(self, frame: YUVFrame, audio: np.ndarray | None) -> None:
        now = time.monotonic()
        if self._t0 is None:
            self._t0 = now
            self.first_write_at = time.time()
        due = self._t0 + (self._n - self._lead_frames) * self._frame_seconds
        if due > now:
            time.sleep(due - now)
        self._n += 1
        self.inner.write(frame, audio)

    async def finish(self) -> Any:
        return await self.inner.finish()

    async def abort(self) -> None:
        await self.inner.abort()


async def resolve_inputs(stores: Stores, inputs: Mapping[str, str]) -> dict[str, Path]:
    """Input name -> local file; a CID missing here is fetched from IPFS (read-through).

    Raises:
        InputError: an input is neither here nor on IPFS, or the node did not answer.
    """
    out: dict[str, Path] = {}
    for name, cid in inputs.items():
        try:
            out[name] = await stores.read_through.path(cid, f"input {name!r}")
        except StorageError as exc:
            raise InputError(str(exc)) from exc
    return out


async def run_analyses(
    stores: Stores,
    plan: Mapping[str, Any] | None,
    files: Mapping[str, Path],
    inputs: Mapping[str, str],
    recipe: Recipe | None = None,
    *,
    params: Mapping[str, Any] | None = None,
    duration: float | None = None,
    shared: SharedDocs | None = None,
) -> dict[str, Any] | None:
    """Step id -> analysis JSON of the plan's ANALYZE steps (None: none).

    Results come from the node's analysis cache (computed on a miss, in threads), so
    the interpreter gets them ready-made instead of decoding the audio again. An
    ANALYZE of a SEGMENT of an input uses the whole file's cached analysis seen
    through the cut (:func:`interpreter.runtime.analysis.windowed`). An ANALYZE
    of media the recipe makes (a click track, a tone) analyses its audio rendered
    offline (:func:`interpreter.runtime.offline.analyze_generated`), cached under
    the plan's analysis id, ``analysis_id(input step cache id, features)``.

    Args:
        stores: The node's stores (the analysis cache is under the local root).
        plan: The run's plan (its ``analysis`` requests).
        files: Recipe input name -> local file.
        inputs: Recipe input name -> CID.
        recipe: The validated recipe (needed for SEGMENTs and generated media).
        params: The run's parameter overrides.
        duration: The run's duration (caps the audio rendered of a long generator).
        shared: IPFS-primary storage: an analysis another node recorded is read from
            IPFS instead of computed, and one computed here is added there.
    """
    from interpreter.runtime.analysis import segment_window, windowed

    by_cid = {cid: files[name] for name, cid in inputs.items() if name in files}
    cache = AnalysisCache(Path(stores.local.root))
    out: dict[str, Any] = {}
    for a in (plan or {}).get("analysis") or []:
        sid = str(a["step_id"])
        features = list(a.get("features") or []) or None
        if a.get("input_cid") in by_cid:
            result = await _input_analysis(
                cache, shared, str(a["input_cid"]), by_cid[a["input_cid"]], features
            )
            out[sid] = json.loads(result.to_json())
            continue
        if recipe is None:
            continue  # the run must carry it (or the renderer says so)
        found = segment_window(recipe, sid)
        if found is None:
            result = await _generated(
                cache, recipe, sid, files, str(a["input_cid"]), params, duration
            )
            out[sid] = json.loads(result.to_json())
            continue
        name, start, length = found
        if name not in files or name not in inputs:
            continue
        result = await _input_analysis(cache, shared, inputs[name], files[name], features)
        out[sid] = windowed(json.loads(result.to_json()), start, length)
    return out or None


async def _input_analysis(
    cache: AnalysisCache,
    shared: SharedDocs | None,
    input_cid: str,
    path: Path,
    features: list[str] | None,
) -> AnalysisResult:
    """The analysis of an input: this node's cache, another node's (IPFS), or computed.

    In IPFS-primary mode a result computed here is added to IPFS and recorded
    under its analysis id (the batch path's ``analyze`` phase reads the same rows).
    """
    if shared is None or not shared.primary:
        return await cache.get_or_compute(input_cid, path, features)
    if features is None:
        info = await asyncio.to_thread(probe, path)
        names = resolve_features(None, info)
    else:
        names = resolve_features(features)
    aid = analysis_id(input_cid, names)
    if await asyncio.to_thread(cache.load, aid) is None:
        data = await shared.fetch(aid, f"analysis {aid[:12]}")
        if data is not None:  # another node's result, already on IPFS and recorded
            found = AnalysisResult.from_json(data.decode(), source=f"analysis {aid[:12]}")
            await asyncio.to_thread(cache.store, found)
            return found
    result = await cache.get_or_compute(input_cid, path, list(names))
    await shared.publish(result.to_json().encode(), key=aid, kind="analysis", record="ANALYZE")
    return result


async def _generated(
    cache: AnalysisCache,
    recipe: Recipe,
    sid: str,
    files: Mapping[str, Path],
    input_id: str,
    params: Mapping[str, Any] | None,
    duration: float | None,
) -> AnalysisResult:
    """The cached analysis of the audio ANALYZE step ``sid``'s input makes (rendered on a miss)."""
    from interpreter.runtime.offline import analyze_generated
    from interpreter.validate import default_registry

    result = await asyncio.to_thread(
        analyze_generated,
        recipe,
        sid,
        files,
        registry=default_registry(),
        input_id=input_id,
        params=params,
        duration=duration,
        cached=cache.load,
    )
    if not await asyncio.to_thread(cache.path_for(result.analysis_id).is_file):
        await asyncio.to_thread(cache.store, result)
    return result


_MEDIA_SUFFIXES = (".ts", ".m4s", ".mp4", ".aac")


async def keep_segments(stores: Stores, out_dir: Path) -> int:
    """Copy the run's segment files into the content store; returns how many.

    They are named by their CIDs already; in the store they stay reachable by CID
    (``/cache/<playlist>/mp4``, ``/cache/<segment>/raw``) without an IPFS node and
    after the run's HLS folder is deleted.
    """

    def segment_files() -> list[Path]:
        return sorted(p for p in out_dir.iterdir() if p.is_file() and p.suffix in _MEDIA_SUFFIXES)

    files = await asyncio.to_thread(segment_files)
    for path in files:
        if not await asyncio.to_thread(stores.local.has, path.stem):
            await stores.local.aput_file(path)
    return len(files)
