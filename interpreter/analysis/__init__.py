"""Phase 1: analysis of inputs (audio tempo, beats, energy, bands; video motion, cuts).

Entry points: :func:`analyze_file` (blocking, pure) and :class:`AnalysisCache`
(async, compute on miss). The interpreter samples :class:`AnalysisResult` per
output frame with :meth:`AnalysisResult.sample` / :meth:`AnalysisResult.sample_many`.

The names below load on first use (PEP 562): the analysers import librosa,
PyAV and numpy, which a process that only needs the feature names (the CLI's
help) should not pay for.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .features import AUDIO_FEATURES, FEATURES, VIDEO_FEATURES

if TYPE_CHECKING:
    from .analyze import analyze_file, file_sha256_id, resolve_features
    from .cache import AnalysisCache
    from .errors import AnalysisError, UnknownFeatureError
    from .result import SCHEMA, SCHEMA_VERSION, AnalysisResult, AudioAnalysis, VideoAnalysis

__all__ = [
    "AUDIO_FEATURES",
    "FEATURES",
    "SCHEMA",
    "SCHEMA_VERSION",
    "VIDEO_FEATURES",
    "AnalysisCache",
    "AnalysisError",
    "AnalysisResult",
    "AudioAnalysis",
    "UnknownFeatureError",
    "VideoAnalysis",
    "analyze_file",
    "file_sha256_id",
    "resolve_features",
]

# exported name -> submodule defining it
_LAZY = {
    "analyze_file": "analyze",
    "file_sha256_id": "analyze",
    "resolve_features": "analyze",
    "AnalysisCache": "cache",
    "AnalysisError": "errors",
    "UnknownFeatureError": "errors",
    "SCHEMA": "result",
    "SCHEMA_VERSION": "result",
    "AnalysisResult": "result",
    "AudioAnalysis": "result",
    "VideoAnalysis": "result",
}


def __getattr__(name: str) -> Any:
    submodule = _LAZY.get(name)
    if submodule is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{submodule}", __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value
