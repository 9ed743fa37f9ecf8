"""Authentication: the app-wide write guard, the session cookie and the ``/auth`` routes.

Every request with a mutating method (POST, PUT, PATCH, DELETE) must carry a
valid, unrevoked token, as ``Authorization: Bearer <token>`` or the session
cookie :data:`SESSION_COOKIE`, whose scopes allow the write
(:mod:`streamer.auth.scopes`: one table from paths to scopes; 403 otherwise);
reads (GET, HEAD, OPTIONS) and websockets are open. :func:`require_auth` is installed once as an application guard by
:func:`streamer.entry.app.create_app`, so it covers every engineer's routes. A
handler can opt out with ``opt={"auth": "public"}``.

After the guard ran, :func:`current_user` gives the caller's user name (on
reads too, when a valid token or cookie comes with them; None otherwise).

Routes:

- ``GET /auth?auth_token=...[&next=/path]``: verify the token (through L2's
  ``/auth/verify``, a request signed by this L1's actor, when ``L2_SERVER`` is
  set; locally otherwise), mint a session token for that user with the token's
  scopes, set it as an HttpOnly cookie and redirect.
- ``GET /logout``: revoke the session token, clear the cookie, redirect to ``/``.
- ``POST /auth/revoke`` ``{"token": "..."}`` (default: the caller's own token).
- ``POST /auth/revoke-user`` ``{"user": "..."}`` (default: the caller).

The two revocation routes take a token (one's own tokens; an ``admin`` token:
anyone's) or a request signed by L2's actor (HTTP Signatures: anyone's). A raw
L2 token presented without L2's signature is refused there (401).

Who a token names and the revocation rules are :mod:`streamer.auth.sessions`'s.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Annotated, Any

from litestar import Request, Response, Router, get, post
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.enums import ScopeType
from litestar.handlers.base import BaseRouteHandler
from litestar.params import JSONBody, PathParameter, QueryParameter
from litestar.response import Redirect
from msgspec import UnsetType
from redis.exceptions import RedisError

from api.auth_models import RevokedToken, RevokedUser, RevokeToken, RevokeUser
from api.errors import ApiError, BadRequest, Forbidden, ServiceUnavailable
from api.openapi_errors import error_answers
from api.openapi_media import documented
from streamer.auth import login_links, scopes, sessions
from streamer.auth.l2 import L2_JTI, L2VerifyError
from streamer.auth.login_links import CODE_PATTERN
from streamer.auth.tokens import TokenClaims, TokenError
from streamer.present.deps import Res, resources_of_connection
from streamer.present.session import (
    SESSION_COOKIE,
    caller_token,
    current_user,
    remember_caller,
)
from streamer.resources import Resources

__all__ = [
    "SAFE_METHODS",
    "SESSION_COOKIE",
    "Unauthorized",
    "auth_router",
    "authenticate",
    "current_user",
    "require_auth",
]

log = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_OPTIONAL_BODY = documented(body_required=False)


class Unauthorized(ApiError):
    """401: no valid token (the answer asks for a Bearer token)."""

    status = 401

    def __init__(self, detail: str) -> None:
        super().__init__(detail, field="Authorization", headers={"WWW-Authenticate": "Bearer"})


def _presented_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    header = connection.headers.get("authorization")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise Unauthorized("Authorization header must be 'Bearer <token>'")
        return value.strip()
    return connection.cookies.get(SESSION_COOKIE) or None


def _has_credentials(connection: ASGIConnection[Any, Any, Any, Any]) -> bool:
    return bool(connection.headers.get("authorization") or connection.cookies.get(SESSION_COOKIE))


async def authenticate(connection: ASGIConnection[Any, Any, Any, Any]) -> TokenClaims | None:
    """The claims of the request's token; None when it presents none.

    Raises:
        Unauthorized: a token is present but malformed, expired or revoked.
        ServiceUnavailable: Redis (the revocation list) does not answer.
    """
    token = _presented_token(connection)
    if token is None:
        return None
    try:
        claims = await sessions.claims_of(resources_of_connection(connection), token)
    except TokenError as exc:
        raise Unauthorized(f"invalid token: {exc.reason}") from None
    except (RedisError, OSError) as exc:
        log.warning("token check failed: Redis: %s", exc)
        raise ServiceUnavailable("cannot check the token: Redis is not available") from None
    remember_caller(connection, claims.user, token)
    return claims


async def require_auth(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """Application guard: mutating requests need a valid token; reads are open."""
    if connection.scope["type"] != ScopeType.HTTP:
        return
    if handler.opt.get("auth") == "public":
        return
    if connection.scope.get("method", "GET") in SAFE_METHODS:
        if _has_credentials(connection):
            # reads stay open: a bad token is ignored, a good one names the caller
            with contextlib.suppress(Unauthorized, ServiceUnavailable):
                await authenticate(connection)
        return
    claims = await authenticate(connection)
    if claims is None:
        raise Unauthorized(
            f"{connection.scope.get('method')} needs 'Authorization: Bearer <token>' "
            "or a session cookie (see 'artdag token create')"
        )
    needed = scopes.required_scope(connection.url.path)
    if not scopes.allows(claims.scopes, needed):
        raise Forbidden(
            f"the token's scopes ({', '.join(claims.scopes or ()) or 'none'}) do not "
            f"include {needed!r}, which {connection.scope.get('method')} "
            f"{connection.url.path} needs",
            field="Authorization",
        )


# --- routes ----------------------------------------------------------------------


def _safe_next(value: str | None) -> str:
    """Only same-site paths: ``/x`` yes, ``//host`` or ``http://...`` no."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


def _cookie(res: Resources, value: str, max_age: int) -> Cookie:
    secure = str(res.settings.server.public_url).startswith("https://")
    return Cookie(
        key=SESSION_COOKIE,
        value=value,
        max_age=max_age,
        httponly=True,
        secure=secure,
        samesite="lax",
        path="/",
    )


@get(
    "/auth",
    status_code=303,
    summary="Receive an auth token (from L2) and start a session",
    response_description="to `next` (or `/`), with the session cookie set",
    responses=error_answers((401, "the token is not valid (malformed, expired or revoked)")),
)
async def auth_login(
    res: Res,
    auth_token: Annotated[
        str | None,
        QueryParameter(description="a token of this server, or of L2 when L2_SERVER is set"),
    ] = None,
    next_path: Annotated[
        str | None,
        QueryParameter(name="next", description="a path on this server to go to (default `/`)"),
    ] = None,
) -> Redirect:
    """Verify ``auth_token``, set the session cookie and redirect to ``next`` (or ``/``)."""
    if not auth_token:
        raise BadRequest("auth_token: missing (GET /auth?auth_token=...)", field="auth_token")
    try:
        session = await sessions.start_session(res, auth_token)
    except L2VerifyError as exc:
        raise Unauthorized(str(exc)) from None
    except TokenError as exc:
        raise Unauthorized(f"invalid token: {exc.reason}") from None
    response = Redirect(path=_safe_next(next_path), status_code=303)
    response.set_cookie(_cookie(res, session.token, session.ttl))
    return response


@get(
    "/auth/link/{code:str}",
    status_code=303,
    summary="Sign in with a one-time link (artdag serve / artdag login-link)",
    response_description="to `/`, with the session cookie set",
    responses=error_answers((403, "sign-in links are off while L2_SERVER is set")),
    opt={"auth": "public"},
)
async def auth_link(
    res: Res,
    code: Annotated[
        str, PathParameter(description="the link's one-time code", pattern=CODE_PATTERN)
    ],
) -> Redirect:
    """Consume the code (it works once), set the session cookie and go to ``/``."""
    _, token, ttl = await login_links.redeem_login_code(
        res.redis, res.keys, res.settings, res.token_key, code
    )
    response = Redirect(path="/", status_code=303)
    response.set_cookie(_cookie(res, token, ttl))
    return response


@get(
    "/logout",
    status_code=303,
    summary="End the session",
    response_description="to `/`, with the session cookie cleared",
)
async def logout(res: Res, request: Request[Any, Any, Any]) -> Redirect:
    """Revoke the session token (if any), clear the cookie and redirect to ``/``."""
    session = request.cookies.get(SESSION_COOKIE)
    if session:
        await sessions.end_session(res, session)
    response = Redirect(path="/", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


_SIGNATURE_HEADERS = ("signature", "signature-input")


async def _revoker(res: Resources, request: Request[Any, Any, Any]) -> tuple[str | None, bool]:
    """Who asks to revoke (None for L2), and whether they may revoke anyone's tokens.

    A request carrying an HTTP Signature must be signed by L2's actor; otherwise
    the caller's token decides (an ``admin`` token may revoke anyone's). A raw
    L2 token is refused here: L2's calls are signed.
    """
    if any(h in request.headers for h in _SIGNATURE_HEADERS):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        await sessions.l2_caller(
            res, request.method, target, dict(request.headers.items()), await request.body()
        )
        return None, True  # L2 names the token or user in the body
    claims = await authenticate(request)
    if claims is None:
        raise Unauthorized(
            "revoking needs 'Authorization: Bearer <token>', the session cookie, "
            "or a request signed by L2's actor"
        )
    if claims.jti == L2_JTI:
        raise Unauthorized("L2's calls must be signed by its actor (HTTP Signatures)")
    return claims.user, scopes.is_admin(claims.scopes)


_REVOKE_DOC = "a token, the session cookie, or an HTTP Signature of L2's actor"


@post(
    "/auth/revoke",
    summary="Revoke a token",
    description=f"Authenticated by {_REVOKE_DOC}.",
    status_code=200,
    operation_class=_OPTIONAL_BODY,
    opt={"auth": "public"},  # authenticated here: a token or L2's signature
    responses=error_answers((403, "the token belongs to another user")),
)
async def revoke(
    res: Res, request: Request[Any, Any, Any], data: JSONBody[RevokeToken | None] = None
) -> RevokedToken:
    """Revoke ``{"token": ...}`` (one of the caller's) or, without a body, the caller's own."""
    caller, any_user = await _revoker(res, request)
    given = data.token if data is not None else None
    token = caller_token(request) if given is None or isinstance(given, UnsetType) else given
    digest = await sessions.revoke(res, caller, token, any_user=any_user)
    return RevokedToken(revoked=True, token_hash=digest)


@post(
    "/auth/revoke-user",
    summary="Revoke every token of a user",
    description=f"Authenticated by {_REVOKE_DOC} (L2 calls it when a user logs out).",
    status_code=200,
    operation_class=_OPTIONAL_BODY,
    opt={"auth": "public"},  # authenticated here: a token or L2's signature
    responses=error_answers((403, "a user may only revoke their own tokens")),
)
async def revoke_user(
    res: Res, request: Request[Any, Any, Any], data: JSONBody[RevokeUser | None] = None
) -> Response[RevokedUser]:
    """Revoke all tokens of ``{"user": ...}`` (the caller's own; anyone's for L2 or an admin)."""
    caller, any_user = await _revoker(res, request)
    given = data.user if data is not None else None
    user = caller if given is None or isinstance(given, UnsetType) else given
    count = await sessions.revoke_all(res, caller, user, any_user=any_user)
    response = Response(RevokedUser(revoked_user=user or "", tracked_tokens=count))
    if request.cookies.get(SESSION_COOKIE) and user == caller:
        response.delete_cookie(SESSION_COOKIE, path="/")
    return response


auth_router = Router(
    path="/", route_handlers=[auth_login, auth_link, logout, revoke, revoke_user], tags=["auth"]
)
