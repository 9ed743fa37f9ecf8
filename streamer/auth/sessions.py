"""Who a presented token names, browser sessions, and the rules of revocation.

A presented token is valid when this cluster signed it (or it is an L2 token
recorded by ``GET /auth``) and it is not revoked. ``GET /auth`` exchanges a
token (verified by L2 when ``L2_SERVER`` is set) for a session token of our
own, with the token's scopes. A caller may revoke their own tokens; an admin
token (scope ``admin``) or a call signed by L2's actor may revoke anyone's.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

from streamer.auth import tokens
from streamer.auth.l2 import (
    recorded_l2_claims,
    remember_l2_token,
    verify_l2_call,
    verify_with_l2,
)
from streamer.auth.tokens import TokenClaims, TokenError
from streamer.errors import Denied, InvalidValue, Unavailable
from streamer.federation.inbox import key_store
from streamer.resources import Resources

__all__ = [
    "Session",
    "claims_of",
    "end_session",
    "l2_caller",
    "revoke",
    "revoke_all",
    "start_session",
]


@dataclass(frozen=True)
class Session:
    """A new session token, its user and how many seconds it lasts."""

    user: str
    token: str
    ttl: int


async def claims_of(res: Resources, token: str) -> TokenClaims:
    """Verify a presented token: our signature, or an L2 token recorded by ``/auth``.

    Raises:
        TokenError: malformed, badly signed, expired or revoked.
        redis.exceptions.RedisError / OSError: the revocation list cannot be read.
    """
    claims: TokenClaims | None
    try:
        claims = tokens.verify_token(res.token_key, token)
    except TokenError:
        claims = await recorded_l2_claims(res.redis, token, keys=res.keys)
        if claims is None:
            raise
    return await tokens.check_not_revoked(res.redis, token, claims, keys=res.keys)


async def start_session(res: Resources, auth_token: str) -> Session:
    """Verify ``auth_token`` and mint a session token for its user (tracked for revocation).

    With ``L2_SERVER`` set, L2 verifies the token, which is then remembered
    (L2 revokes with it); otherwise it must be one of ours.

    Raises:
        streamer.auth.l2.L2VerifyError: L2 did not confirm the token (401).
        streamer.federation.errors.PeerError: L2 cannot be reached (503).
        TokenError: the token is not valid here.
    """
    scopes: tuple[str, ...] | None
    if res.settings.federation.l2_server:
        if res.actor_keys is None:
            raise Unavailable("the actor's keys are not loaded: cannot sign the call to L2")
        grant = await verify_with_l2(
            res.settings, auth_token, res.actor_keys, redis=res.redis, keys=res.keys
        )
        expiry = min(
            grant.expiry or int(time.time()) + tokens.DEFAULT_TTL, int(time.time()) + tokens.MAX_TTL
        )
        await remember_l2_token(res.redis, auth_token, grant, expiry, keys=res.keys)
        user, scopes = grant.user, grant.scopes
    else:
        claims = await claims_of(res, auth_token)
        user, expiry, scopes = claims.user, claims.expiry, claims.scopes
    ttl = max(min(expiry - int(time.time()), tokens.MAX_TTL), 1)
    session, _ = tokens.mint_token(res.token_key, user, ttl=ttl, scopes=scopes)
    await tokens.track_token(res.redis, user, session, int(time.time()) + ttl, keys=res.keys)
    return Session(user, session, ttl)


async def end_session(res: Resources, session_token: str) -> bool:
    """Revoke a session token if it is ours and unexpired; False when there was nothing to do."""
    try:
        tokens.verify_token(res.token_key, session_token)
    except TokenError:
        return False  # not ours or expired: nothing to revoke
    await tokens.revoke_token(res.redis, session_token, keys=res.keys)
    return True


async def l2_caller(
    res: Resources, method: str, target: str, headers: Mapping[str, str], body: bytes
) -> str:
    """The L2 actor that signed this request.

    Raises:
        streamer.federation.errors.SignatureError: not signed by L2's actor (401).
    """
    return await verify_l2_call(res.settings, key_store(res), method, target, headers, body)


async def revoke(
    res: Resources, caller: str | None, token: str | None, *, any_user: bool = False
) -> str:
    """Revoke ``token`` on behalf of ``caller``; returns its hash.

    A token this cluster signed must be the caller's (unless ``any_user``: an
    admin, or L2); anything else (expired, foreign, garbage) is revoked by hash,
    which harms nobody.

    Raises:
        InvalidValue: no token text.
        Denied: the token belongs to another user.
    """
    if not isinstance(token, str) or not token:
        raise InvalidValue("token: expected the token text", field="token")
    try:
        owner: str | None = tokens.verify_token(res.token_key, token).user
    except TokenError:
        owner = None
    if owner is not None and owner != caller and not any_user:
        raise Denied(f"the token belongs to {owner!r}, not to {caller!r}", field="token")
    return await tokens.revoke_token(res.redis, token, keys=res.keys)


async def revoke_all(
    res: Resources, caller: str | None, user: str | None, *, any_user: bool = False
) -> int:
    """Revoke every token of ``user`` (the caller's own, unless ``any_user``); returns
    how many were tracked.

    Raises:
        InvalidValue: no user name.
        Denied: ``user`` is not the caller.
    """
    if not isinstance(user, str) or not user:
        raise InvalidValue("user: expected a user name", field="user")
    if user != caller and not any_user:
        raise Denied(f"{caller!r} may only revoke their own tokens, not {user!r}", field="user")
    return await tokens.revoke_user(res.redis, user, keys=res.keys)
