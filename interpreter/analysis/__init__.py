"""Phase 1: analysis of inputs (audio tempo, beats, energy, bands; video motion, cuts).

Entry points: :func:`analyze_file` (blocking, pure) and :class:`AnalysisCache`
(async, compute on miss). The interpreter samples :class:`AnalysisResult` per
output frame with :meth:`AnalysisResult.sample` / :meth:`AnalysisResult.sample_many`.
"""

from __future__ import annotations

from .analyze import (
    AUDIO_FEATURES,
    FEATURES,
    VIDEO_FEATURES,
    analyze_file,
    file_sha256_id,
    resolve_features,
)
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
