"""The interpreter's exception root and its positioned, user-facing subclasses.

Every error a user can cause with a recipe (syntax, validation, expression,
plan, missing input at run time) is an :class:`InterpreterError` carrying the
file, line and column, the offending source line and a hint, so ``str(err)``
reads like a compiler message::

    beat.yaml:12:15: unknown effect 'blurr'
        effect: blurr
                ^
    hint: did you mean 'blur'?
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = [
    "CycleError",
    "DanglingInputError",
    "ExpressionError",
    "InterpreterError",
    "MissingInputError",
    "ParamRangeError",
    "PlanError",
    "RecipeSyntaxError",
    "RecipeValidationError",
    "TypeMismatchError",
    "UnknownEffectError",
    "UnknownParamError",
    "UnusedInputError",
]


class InterpreterError(Exception):
    """Root of every error raised by the interpreter layer.

    Attributes:
        message: What is wrong, without the position.
        file: Recipe file name (``"<recipe>"`` for text without a file).
        line: 1-based line, 0 when unknown.
        column: 1-based column, 0 when unknown.
        text: The source line the error points at ("" when unknown).
        hint: What the user can do about it ("" when there is nothing to say).
    """

    def __init__(
        self,
        message: str,
        *,
        file: str = "<recipe>",
        line: int = 0,
        column: int = 0,
        text: str = "",
        hint: str = "",
    ) -> None:
        self.message = message
        self.file = file
        self.line = line
        self.column = column
        self.text = text
        self.hint = hint
        super().__init__(message)

    @property
    def location(self) -> str:
        """``file:line:col`` (or just ``file`` when the position is unknown)."""
        if self.line <= 0:
            return self.file
        return f"{self.file}:{self.line}:{max(self.column, 1)}"

    def __str__(self) -> str:
        out = [f"{self.location}: {self.message}"]
        if self.text:
            out.append("    " + self.text.rstrip("\n"))
            if self.column > 0:
                # keep tabs so the caret lines up under the offending text
                lead = "".join(c if c == "\t" else " " for c in self.text[: self.column - 1])
                out.append("    " + lead + "^")
        if self.hint:
            out.append("hint: " + self.hint)
        return "\n".join(out)

    def __reduce__(self) -> tuple[Callable[..., InterpreterError], tuple[Any, ...]]:
        # picklable across process pools despite keyword-only arguments
        return (
            _rebuild,
            (type(self), self.message, self.file, self.line, self.column, self.text, self.hint),
        )


def _rebuild(
    cls: type[InterpreterError],
    message: str,
    file: str,
    line: int,
    column: int,
    text: str,
    hint: str,
) -> InterpreterError:
    err = cls.__new__(cls)
    InterpreterError.__init__(
        err, message, file=file, line=line, column=column, text=text, hint=hint
    )
    return err


class RecipeSyntaxError(InterpreterError, ValueError):
    """The text is not well-formed YAML / S-expression, or not a recipe shape."""


class RecipeValidationError(InterpreterError, ValueError):
    """The recipe parses but is not meaningful (names, types, ranges, graph)."""


class UnknownEffectError(RecipeValidationError):
    """An EFFECT step names an effect the registry does not know."""


class UnknownParamError(RecipeValidationError):
    """A config field or effect parameter that the node type does not accept."""


class ParamRangeError(RecipeValidationError):
    """A parameter value has the wrong type or lies outside its accepted range."""


class TypeMismatchError(RecipeValidationError):
    """An input of the wrong kind (audio fed to a video-only node, ...)."""


class DanglingInputError(RecipeValidationError):
    """A step refers to a step or recipe input that does not exist."""


class UnusedInputError(RecipeValidationError):
    """A declared recipe input (or step) that nothing reaches the output through."""


class CycleError(RecipeValidationError):
    """The steps form a cycle; the message names its nodes in order."""


class MissingInputError(InterpreterError, KeyError):
    """A recipe input was not bound to a file or CID at plan / run time."""

    def __str__(self) -> str:  # KeyError would quote the message
        return InterpreterError.__str__(self)


class ExpressionError(InterpreterError, ValueError):
    """A time-varying parameter expression is malformed or too large."""


class PlanError(InterpreterError):
    """The plan cannot be built or a plan document is malformed."""
