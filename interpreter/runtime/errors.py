"""Errors raised while executing a recipe (all under InterpreterError)."""

from __future__ import annotations

from interpreter.errors import InterpreterError

__all__ = ["Cancelled", "SourceError", "StreamError"]


class StreamError(InterpreterError):
    """A run failed while rendering (decode, evaluation, effects or output)."""


class SourceError(StreamError, ValueError):
    """A source cannot be read or does not hold what the recipe asks of it."""


class Cancelled(StreamError):
    """The run was cancelled; raised inside pipeline stages to unwind them."""
