"""Errors raised while analysing an input file."""

from __future__ import annotations

from ..errors import InterpreterError

__all__ = ["AnalysisError", "UnknownFeatureError"]


class AnalysisError(InterpreterError):
    """An input could not be analysed (unreadable, no suitable stream, bad feature).

    ``file`` names the input (not a recipe); ``line``/``column`` stay 0.
    """


class UnknownFeatureError(AnalysisError, ValueError):
    """A requested feature name is not one :data:`FEATURES` knows."""
