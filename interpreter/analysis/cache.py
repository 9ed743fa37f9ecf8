"""``AnalysisCache``: results under ``<root>/analysis/<analysis_id>.json``.

A hit reads the JSON and decodes nothing; a miss runs :func:`analyze_file` in a
worker thread (so the event loop stays free), writes the JSON atomically and,
when a ``publish`` hook is given (IPFS on), stores it there too.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path

from ..ids import analysis_id
from .analyze import analyze_file, resolve_features
from .decode import probe
from .result import SCHEMA_VERSION, AnalysisResult

__all__ = ["AnalysisCache"]

Publish = Callable[[bytes], Awaitable[str]]


class AnalysisCache:
    """Local analysis cache with compute-on-miss.

    Args:
        root_dir: The cache root (``CACHE_DIR``); results go in ``analysis/`` below it.
        publish: Optional async hook that stores the JSON bytes elsewhere (e.g.
            ``IPFSStore.add_bytes``) and returns its CID; called once per computed
            result, the CID is written beside the JSON as ``<id>.cid``.

    Attributes:
        computed: How many results this instance computed (each one decoded the input).
        hits: How many requests were answered from the cache.
    """

    def __init__(self, root_dir: str | Path, publish: Publish | None = None) -> None:
        self.dir = Path(root_dir) / "analysis"
        self.publish = publish
        self.computed = 0
        self.hits = 0
        self._locks: dict[str, asyncio.Lock] = {}

    def path_for(self, aid: str) -> Path:
        """Where the result with analysis id ``aid`` is stored."""
        return self.dir / f"{aid}.json"

    def load(self, aid: str) -> AnalysisResult | None:
        """The cached result for ``aid``, or ``None`` (also for one of an older schema
        version: it lacks fields this build computes, so it is computed again)."""
        p = self.path_for(aid)
        try:
            text = p.read_text()
        except FileNotFoundError:
            return None
        result = AnalysisResult.from_json(text, source=str(p))
        return result if result.version >= SCHEMA_VERSION else None

    def published_cid(self, aid: str) -> str | None:
        """CID returned by ``publish`` for ``aid``, if it was published."""
        try:
            return self.path_for(aid).with_suffix(".cid").read_text().strip() or None
        except FileNotFoundError:
            return None

    def store(self, result: AnalysisResult) -> Path:
        """Write ``result`` atomically; returns its path."""
        self.dir.mkdir(parents=True, exist_ok=True)
        target = self.path_for(result.analysis_id)
        fd, tmp = tempfile.mkstemp(dir=self.dir, suffix=".tmp")
        try:
            with os.fdopen(fd, "w") as f:
                f.write(result.to_json())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return target

    async def get_or_compute(
        self, input_cid: str, path: str | Path, features: Iterable[str] | str | None
    ) -> AnalysisResult:
        """Return the cached analysis of ``input_cid`` or compute it from ``path``.

        ``features=None`` means every feature the file's streams allow (this probes
        the container header, which decodes nothing). Concurrent requests for
        the same id compute once.
        """
        if features is None:
            info = await asyncio.to_thread(probe, Path(path))
            names = resolve_features(None, info)
        else:
            names = resolve_features(features)
        aid = analysis_id(input_cid, names)
        lock = self._locks.setdefault(aid, asyncio.Lock())
        async with lock:
            cached = await asyncio.to_thread(self.load, aid)
            if cached is not None:
                self.hits += 1
                return cached
            result = await asyncio.to_thread(analyze_file, path, names, input_cid=input_cid)
            self.computed += 1
            await asyncio.to_thread(self.store, result)
            if self.publish is not None:
                cid = await self.publish(result.to_json().encode())
                await asyncio.to_thread(self.path_for(aid).with_suffix(".cid").write_text, cid)
            return result
