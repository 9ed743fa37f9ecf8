"""What a scoped token may do: the scopes, and the one table from writes to scopes.

Reads (GET, HEAD, OPTIONS) need no scope. A write needs the scope of the first
rule of :data:`RULES` whose pattern matches its path; a write no rule names
needs ``admin`` (a new route is closed to scoped tokens until it is listed).

Tokens minted here without ``--scope`` are unscoped: they may do every write
(revoking other users' tokens still needs ``admin``: :func:`is_admin`). Tokens
from L2 (and the sessions made from them) carry the scopes L2 granted;
``admin`` grants all.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = [
    "ADMIN",
    "RULES",
    "SCOPES",
    "allows",
    "is_admin",
    "known_scopes",
    "required_scope",
]

ADMIN = "admin"

#: scope -> what it allows (README and docs/federation.md list the same)
SCOPES: dict[str, str] = {
    "runs:write": "start, cancel and delete runs (POST /runs, /recipes/{id}/run, /api/plan, "
    "/api/execute, /api/run-recipe)",
    "recipes:write": "upload, validate and delete recipes",
    "cache:write": "upload, import, annotate and delete cached content",
    "publish": "publish cached content to L2 (POST /cache/{cid}/publish)",
    "storage:write": "add, change, test and delete storage providers",
    ADMIN: "everything, and revoking any user's tokens",
}

#: (path pattern, scope needed by a write there; None: none needed), first match wins
RULES: tuple[tuple[re.Pattern[str], str | None], ...] = (
    (re.compile(r"^/(auth/revoke|auth/revoke-user|logout)$"), None),  # one's own tokens
    (re.compile(r"^/inbox$"), None),  # signed by its sender, not a token
    (re.compile(r"^/(cache|web/media)/[^/]+/publish$"), "publish"),
    (re.compile(r"^/(web/)?recipes/[^/]+/run$"), "runs:write"),
    (re.compile(r"^/(web/)?runs?(/|$)"), "runs:write"),
    (re.compile(r"^/api/(plan|execute|run-recipe)$"), "runs:write"),
    (re.compile(r"^/(web/)?recipes(/|$)"), "recipes:write"),
    (re.compile(r"^/(web/)?(cache|media)(/|$)"), "cache:write"),
    (re.compile(r"^/storage(/|$)"), "storage:write"),
)


def required_scope(path: str) -> str | None:
    """The scope a write to ``path`` needs (``admin`` when no rule names the path)."""
    for pattern, scope in RULES:
        if pattern.match(path):
            return scope
    return ADMIN


def allows(scopes: tuple[str, ...] | None, needed: str | None) -> bool:
    """Whether a token with ``scopes`` (None: unscoped) may do what needs ``needed``."""
    if needed is None or scopes is None:
        return True
    return ADMIN in scopes or needed in scopes


def is_admin(scopes: tuple[str, ...] | None) -> bool:
    """Whether the token may act on any user's tokens."""
    return scopes is not None and ADMIN in scopes


def known_scopes(names: Iterable[object]) -> tuple[str, ...]:
    """The names among ``names`` that are scopes here (others are ignored), sorted."""
    return tuple(sorted({n for n in names if isinstance(n, str) and n in SCOPES}))
