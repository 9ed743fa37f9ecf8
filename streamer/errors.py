"""The application layer's errors: domain services raise these, ``api/`` maps them to HTTP.

Each carries a ``detail`` for people and the ``field`` at fault when one is
(``"inputs.video"``, ``"cid"``). The class says what went wrong, not which
status answers it: that table lives in :mod:`api.errors`.
"""

from __future__ import annotations

__all__ = [
    "Conflict",
    "Denied",
    "DomainError",
    "InvalidValue",
    "Missing",
    "TooLarge",
    "TooSlow",
    "Unauthenticated",
    "Unavailable",
    "Unprocessable",
]


class DomainError(Exception):
    """Root of the application layer's errors.

    Args:
        detail: what is wrong, for people.
        field: the request field at fault, if any.
    """

    def __init__(self, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field


class InvalidValue(DomainError, ValueError):
    """A value is malformed (bad CID, bad parameter, bad paging)."""


class Unauthenticated(DomainError, PermissionError):
    """Who asks is not established: no credentials, or a bad signature or token.

    ``challenge`` is the ``WWW-Authenticate`` value the answer carries.
    """

    challenge = "Bearer"


class Denied(DomainError, PermissionError):
    """Understood but refused (another user's token, a path outside the import roots)."""


class Missing(DomainError, LookupError):
    """The named thing (run, recipe, CID, provider) does not exist."""


class Conflict(DomainError):
    """The request conflicts with the current state (recipe in use by an active run)."""


class TooLarge(DomainError):
    """A body or file is larger than allowed."""


class TooSlow(DomainError):
    """The client sent its request too slowly (a request body stalled)."""


class Unprocessable(DomainError, ValueError):
    """Well-formed but not usable (an input the recipe does not declare)."""


class Unavailable(DomainError):
    """A backing service (queue, IPFS, L2) cannot do it now; trying later may work."""
