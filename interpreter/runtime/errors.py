"""Errors raised while executing a recipe (all under InterpreterError)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from interpreter.errors import InterpreterError

if TYPE_CHECKING:
    from interpreter.nodes import Recipe, Step

__all__ = ["Cancelled", "SourceError", "StreamError", "step_error"]


class StreamError(InterpreterError):
    """A run failed while rendering (decode, evaluation, effects or output)."""


class SourceError(StreamError, ValueError):
    """A source cannot be read or does not hold what the recipe asks of it."""


class Cancelled(StreamError):
    """The run was cancelled; raised inside pipeline stages to unwind them."""


def step_error(
    recipe: Recipe, step: Step, message: str, key: str | None = None, hint: str = ""
) -> StreamError:
    """A StreamError about ``step``, placed at its ``key`` in the recipe's source.

    Args:
        recipe: The recipe ``step`` belongs to (file name and source lines).
        step: The step that cannot run.
        message: What is wrong, without the step id.
        key: Config key the error is about (None: the step itself).
        hint: How to fix it, shown under the source line.
    """
    pos = step.where(key)
    return StreamError(
        f"step {step.id!r}: {message}",
        file=recipe.filename,
        line=pos.line,
        column=pos.column,
        text=recipe.line_text(pos.line),
        hint=hint,
    )
