"""The caller of a request, as the API's auth guard recorded it; shared by ``api/`` and ``web/``.

The guard (:func:`api.auth.require_auth`) verifies the request's token and
records its user and text in the request scope with :func:`remember_caller`;
handlers and templates read them with :func:`current_user` and
:func:`caller_token`.
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection

__all__ = ["SESSION_COOKIE", "caller_token", "current_user", "remember_caller"]

#: The HttpOnly cookie carrying a browser's session token.
SESSION_COOKIE = "artdag_session"
_STATE_USER = "auth_user"
_STATE_TOKEN = "auth_token"


def remember_caller(connection: ASGIConnection[Any, Any, Any, Any], user: str, token: str) -> None:
    """Record the verified caller of this request."""
    state = connection.scope.setdefault("state", {})
    state[_STATE_USER] = user
    state[_STATE_TOKEN] = token


def current_user(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    """The authenticated user of this request; None when it carries no valid token."""
    value = connection.scope.get("state", {}).get(_STATE_USER)
    return str(value) if value else None


def caller_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    """The verified token this request came with, if any."""
    value = connection.scope.get("state", {}).get(_STATE_TOKEN)
    return str(value) if value else None
