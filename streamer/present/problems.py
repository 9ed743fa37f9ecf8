"""What a failed request answers: the one table from the layers' errors to HTTP statuses.

``api/errors.py`` turns a :class:`Problem` into the API's JSON error; the web
forms show it inline in the page they answer. Both use this module so that
an error answers the same status whichever way it was asked.
"""

from __future__ import annotations

from dataclasses import dataclass

from cache.errors import (
    InvalidCIDError,
    NotFoundError,
    StorageError,
    StorageFullError,
    StorageUnavailableError,
    TooLargeError,
)
from interpreter.errors import InterpreterError
from streamer.errors import (
    Conflict,
    Denied,
    DomainError,
    InvalidValue,
    Missing,
    TooLarge,
    TooSlow,
    Unauthenticated,
    Unavailable,
    Unprocessable,
)

__all__ = [
    "DOMAIN_STATUS",
    "Problem",
    "domain_status",
    "problem_of",
    "storage_status",
]

#: Domain error class -> HTTP status (the most specific class in the MRO wins).
DOMAIN_STATUS: dict[type[DomainError], int] = {
    InvalidValue: 400,
    Unauthenticated: 401,
    Denied: 403,
    Missing: 404,
    TooSlow: 408,
    Conflict: 409,
    TooLarge: 413,
    Unprocessable: 422,
    Unavailable: 503,
}


def domain_status(exc: DomainError) -> int:
    """The status answering ``exc``: its nearest class in :data:`DOMAIN_STATUS` (else 400)."""
    for cls in type(exc).__mro__:
        if cls in DOMAIN_STATUS:
            return DOMAIN_STATUS[cls]
    return 400


def storage_status(exc: StorageError) -> int:
    """The status answering a storage error (not found 404, invalid CID 400, too large 413,
    unreachable 503, no space left 507, any other failure 502)."""
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, InvalidCIDError):
        return 400
    if isinstance(exc, TooLargeError):
        return 413
    if isinstance(exc, StorageUnavailableError):
        return 503
    if isinstance(exc, StorageFullError):
        return 507
    return 502


@dataclass(frozen=True)
class Problem:
    """Why a request failed, for people.

    Attributes:
        status: the HTTP status that answers it.
        detail: what is wrong.
        field: the request field at fault, if any (``inputs.video``, ``recipe``).
        line: 1-based line in the recipe (0: no position).
        column: 1-based column in the recipe (0: no position).
        text: the recipe line the position points at.
        hint: what to do about it.
    """

    status: int
    detail: str
    field: str | None = None
    line: int = 0
    column: int = 0
    text: str = ""
    hint: str = ""


def problem_of(exc: Exception) -> Problem | None:
    """The :class:`Problem` of a domain, recipe or storage error; None for anything else."""
    if isinstance(exc, DomainError):
        return Problem(domain_status(exc), exc.detail, exc.field)
    if isinstance(exc, InterpreterError):
        return Problem(
            422,
            exc.message,
            "recipe",
            line=exc.line,
            column=max(exc.column, 1) if exc.line > 0 else 0,
            text=exc.text.rstrip("\n"),
            hint=exc.hint,
        )
    if isinstance(exc, StorageError):
        field = "cid" if isinstance(exc, InvalidCIDError) else None
        return Problem(storage_status(exc), str(exc) or type(exc).__name__, field)
    return None
