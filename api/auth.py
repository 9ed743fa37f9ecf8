"""Authentication: the app-wide write guard and the ``/auth`` routes.

Every request with a mutating method (POST, PUT, PATCH, DELETE) must carry a
valid, unrevoked token, as ``Authorization: Bearer <token>`` or the session
cookie :data:`SESSION_COOKIE`; reads (GET, HEAD, OPTIONS) and websockets are
open. :func:`require_auth` is installed once as an application guard by
:func:`streamer.entry.app.create_app`, so it covers every engineer's routes. A
handler can opt out with ``opt={"auth": "public"}``.

After the guard ran, :func:`current_user` gives the caller's user name (on
reads too, when a valid token or cookie comes with them; None otherwise).

Routes:

- ``GET /auth?auth_token=...[&next=/path]``: verify the token (through L2's
  ``/auth/verify`` when ``L2_SERVER`` is set, locally otherwise), mint a
  session token for that user, set it as an HttpOnly cookie and redirect.
- ``GET /logout``: revoke the session token, clear the cookie, redirect to ``/``.
- ``POST /auth/revoke`` ``{"token": "..."}`` (default: the caller's own token).
- ``POST /auth/revoke-user`` ``{"user": "..."}`` (default: the caller).

Redis keys come from :class:`streamer.keys.RedisKeys` (``res.keys``).
"""

from __future__ import annotations

import contextlib
import logging
import time
from typing import Annotated, Any

import aiohttp
from litestar import Request, Response, Router, get, post
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie, State
from litestar.handlers.base import BaseRouteHandler
from litestar.params import FromQuery, QueryParameter
from litestar.response import Redirect
from redis.exceptions import RedisError

from api.errors import ApiError, BadRequest, Forbidden, ServiceUnavailable
from streamer.auth import tokens
from streamer.auth.tokens import TokenClaims, TokenError
from streamer.keys import RedisKeys
from streamer.present.deps import resources_of_connection
from streamer.resources import Resources

__all__ = [
    "SAFE_METHODS",
    "SESSION_COOKIE",
    "L2VerifyError",
    "auth_router",
    "authenticate",
    "current_user",
    "require_auth",
]

log = logging.getLogger(__name__)

SESSION_COOKIE = "artdag_session"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
L2_TIMEOUT = 10.0
_STATE_USER = "auth_user"


class Unauthorized(ApiError):
    """401: no valid token (the answer asks for a Bearer token)."""

    status = 401

    def __init__(self, detail: str) -> None:
        super().__init__(detail, field="Authorization", headers={"WWW-Authenticate": "Bearer"})


class L2VerifyError(Exception):
    """L2 did not confirm the token (or could not be reached)."""


def _presented_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    header = connection.headers.get("authorization")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise Unauthorized("Authorization header must be 'Bearer <token>'")
        return value.strip()
    return connection.cookies.get(SESSION_COOKIE) or None


async def _claims_of(res: Resources, token: str) -> TokenClaims:
    """Verify a presented token: our signature, or an L2 token recorded by ``/auth``."""
    redis = res.redis
    keys = res.keys
    claims: TokenClaims | None
    try:
        claims = tokens.verify_token(res.token_key, token)
    except TokenError:
        claims = await _recorded_l2_claims(redis, token, keys)
        if claims is None:
            raise
    return await tokens.check_not_revoked(redis, token, claims, keys=keys)


async def _recorded_l2_claims(redis: Any, token: str, keys: RedisKeys) -> TokenClaims | None:
    raw = await redis.get(keys.l2_token(tokens.token_hash(token)))
    if raw is None:
        return None
    user, _, issued = (raw.decode() if isinstance(raw, bytes) else str(raw)).partition("|")
    ttl = await redis.ttl(keys.l2_token(tokens.token_hash(token)))
    now = int(time.time())
    return TokenClaims(user, int(issued or now), now + max(int(ttl), 1), "l2")


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
        claims = await _claims_of(resources_of_connection(connection), token)
    except TokenError as exc:
        raise Unauthorized(f"invalid token: {exc.reason}") from None
    except (RedisError, OSError) as exc:
        log.warning("token check failed: Redis: %s", exc)
        raise ServiceUnavailable("cannot check the token: Redis is not available") from None
    connection.scope.setdefault("state", {})[_STATE_USER] = claims.user
    connection.scope["state"]["auth_token"] = token
    return claims


async def require_auth(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """Application guard: mutating requests need a valid token; reads are open."""
    if connection.scope["type"] != "http":
        return
    if handler.opt.get("auth") == "public":
        return
    if connection.scope.get("method", "GET") in SAFE_METHODS:
        if _has_credentials(connection):
            # reads stay open: a bad token is ignored, a good one names the caller
            with contextlib.suppress(Unauthorized, ServiceUnavailable):
                await authenticate(connection)
        return
    if await authenticate(connection) is None:
        raise Unauthorized(
            f"{connection.scope.get('method')} needs 'Authorization: Bearer <token>' "
            "or a session cookie (see 'artdag token create')"
        )


def current_user(request: Request[Any, Any, Any]) -> str | None:
    """The authenticated user of this request (set by :func:`require_auth`)."""
    value = request.scope.get("state", {}).get(_STATE_USER)
    return str(value) if value else None


# --- L2 --------------------------------------------------------------------------


async def verify_with_l2(l2_server: str, token: str, public_url: str) -> tuple[str, int | None]:
    """Ask L2 who ``token`` belongs to: ``(user, expiry or None)``.

    L2's ``POST /auth/verify`` receives the token as a Bearer header and in the
    body; a 200 JSON answer names the user (``username`` or ``user``) and may
    carry ``valid: false`` or an ``expires_at`` unix time.

    Raises:
        L2VerifyError: refused, unreachable or an unexpected answer.
    """
    url = l2_server.rstrip("/") + "/auth/verify"
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=L2_TIMEOUT)) as session,
            session.post(
                url,
                json={"token": token, "l1_server": public_url},
                headers={"Authorization": f"Bearer {token}"},
            ) as resp,
        ):
            if resp.status != 200:
                raise L2VerifyError(f"L2 refused the token (HTTP {resp.status})")
            doc = await resp.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        raise L2VerifyError(f"L2 at {l2_server} could not verify the token: {exc}") from exc
    if not isinstance(doc, dict) or doc.get("valid") is False:
        raise L2VerifyError("L2 says the token is not valid")
    user = doc.get("username") or doc.get("user")
    if not isinstance(user, str) or not user:
        raise L2VerifyError("L2's answer names no user")
    expiry = doc.get("expires_at")
    return user, int(expiry) if isinstance(expiry, int | float) else None


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


@get("/auth", summary="Receive an auth token (from L2) and start a session")
async def auth_login(
    res: Resources,
    auth_token: FromQuery[str | None] = None,
    next_path: Annotated[str | None, QueryParameter(name="next")] = None,
) -> Response[Any]:
    """Verify ``auth_token``, set the session cookie and redirect to ``next`` (or ``/``)."""
    if not auth_token:
        raise BadRequest("auth_token: missing (GET /auth?auth_token=...)", field="auth_token")
    redis = res.redis
    keys = res.keys
    key = res.token_key
    l2 = res.settings.federation.l2_server
    if l2:
        try:
            user, expiry = await verify_with_l2(l2, auth_token, res.settings.server.public_url)
        except L2VerifyError as exc:
            raise Unauthorized(str(exc)) from None
        expiry = expiry or int(time.time()) + tokens.DEFAULT_TTL
        l2_ttl = max(expiry - int(time.time()), 1)
        # remember the L2 token so L2 can call /auth/revoke-user with it
        digest = tokens.token_hash(auth_token)
        await redis.set(keys.l2_token(digest), f"{user}|{int(time.time())}", ex=l2_ttl)
        await tokens.track_token(redis, user, auth_token, expiry, keys=keys)
    else:
        try:
            claims = await _claims_of(res, auth_token)
        except TokenError as exc:
            raise Unauthorized(f"invalid token: {exc.reason}") from None
        user, expiry = claims.user, claims.expiry
    ttl = max(min(expiry - int(time.time()), tokens.MAX_TTL), 1)
    session, _ = tokens.mint_token(key, user, ttl=ttl)
    await tokens.track_token(redis, user, session, int(time.time()) + ttl, keys=keys)
    response: Response[Any] = Redirect(path=_safe_next(next_path), status_code=303)
    response.set_cookie(_cookie(res, session, ttl))
    return response


@get("/logout", summary="End the session")
async def logout(res: Resources, request: Request[Any, Any, State]) -> Response[Any]:
    """Revoke the session token (if any), clear the cookie and redirect to ``/``."""
    session = request.cookies.get(SESSION_COOKIE)
    if session:
        try:
            tokens.verify_token(res.token_key, session)
        except TokenError:
            pass  # not ours or expired: nothing to revoke
        else:
            await tokens.revoke_token(res.redis, session, keys=res.keys)
    response: Response[Any] = Redirect(path="/", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


async def _json_object(request: Request[Any, Any, Any]) -> dict[str, Any]:
    body = await request.body()
    if not body.strip():
        return {}
    try:
        doc = await request.json()
    except Exception:
        raise BadRequest("expected a JSON object body") from None
    if not isinstance(doc, dict):
        raise BadRequest(f"expected a JSON object, got {type(doc).__name__}")
    return doc


@post("/auth/revoke", summary="Revoke a token", status_code=200)
async def revoke(res: Resources, request: Request[Any, Any, State]) -> dict[str, Any]:
    """Revoke ``{"token": ...}`` (one of the caller's) or, without a body, the caller's own."""
    caller = current_user(request)
    doc = await _json_object(request)
    token = doc.get("token", request.scope.get("state", {}).get("auth_token"))
    if not isinstance(token, str) or not token:
        raise BadRequest("token: expected the token text", field="token")
    try:
        owner: str | None = tokens.verify_token(res.token_key, token).user
    except TokenError:
        owner = None  # expired, foreign or garbage: revoking its hash harms nobody
    if owner is not None and owner != caller:
        raise Forbidden(f"the token belongs to {owner!r}, not to {caller!r}", field="token")
    digest = await tokens.revoke_token(res.redis, token, keys=res.keys)
    return {"revoked": True, "token_hash": digest}


@post("/auth/revoke-user", summary="Revoke every token of a user", status_code=200)
async def revoke_user(
    res: Resources, request: Request[Any, Any, State]
) -> Response[dict[str, Any]]:
    """Revoke all tokens of ``{"user": ...}`` (the caller's own; L2 calls it on logout)."""
    caller = current_user(request)
    doc = await _json_object(request)
    user = doc.get("user", caller)
    if not isinstance(user, str) or not user:
        raise BadRequest("user: expected a user name", field="user")
    if user != caller:
        raise Forbidden(f"{caller!r} may only revoke their own tokens, not {user!r}", field="user")
    count = await tokens.revoke_user(res.redis, user, keys=res.keys)
    response = Response({"revoked_user": user, "tracked_tokens": count})
    if request.cookies.get(SESSION_COOKIE):
        response.delete_cookie(SESSION_COOKIE, path="/")
    return response


auth_router = Router(
    path="/", route_handlers=[auth_login, logout, revoke, revoke_user], tags=["auth"]
)
