"""Tokens issued by the L2 server: asking L2 who a token belongs to, and remembering it.

An L2 token presented to ``GET /auth`` is verified through L2's
``POST /auth/verify``; it is then recorded in Redis (its hash, for as long as
it is valid) so that L2 can later call ``POST /auth/revoke-user`` with it.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from streamer.auth import tokens
from streamer.auth.tokens import TokenClaims
from streamer.keys import RedisKeys
from streamer.netguard import GuardedResolver, RefusedAddress, check_host

__all__ = [
    "L2_TIMEOUT",
    "L2VerifyError",
    "recorded_l2_claims",
    "remember_l2_token",
    "verify_with_l2",
]

L2_TIMEOUT = 10.0


class L2VerifyError(Exception):
    """L2 did not confirm the token (or could not be reached)."""


async def verify_with_l2(
    l2_server: str, token: str, public_url: str, *, allow_private: bool = False
) -> tuple[str, int | None]:
    """Ask L2 who ``token`` belongs to: ``(user, expiry or None)``.

    L2's ``POST /auth/verify`` receives the token as a Bearer header and in the
    body; a 200 JSON answer names the user (``username`` or ``user``) and may
    carry ``valid: false`` or an ``expires_at`` unix time.

    Redirects are not followed (a redirect is a refusal), the L2 host is checked
    with :func:`streamer.netguard.check_host` and its name resolved through
    :class:`streamer.netguard.GuardedResolver`: a link-local, metadata or (unless
    ``allow_private``) private address is refused before anything is sent.

    Raises:
        L2VerifyError: refused, unreachable or an unexpected answer.
    """
    url = l2_server.rstrip("/") + "/auth/verify"
    try:
        # a name is resolved: in a thread, the event loop never waits on DNS
        host = urlsplit(url).hostname or ""
        await asyncio.to_thread(check_host, host, allow_private=allow_private)
    except RefusedAddress as exc:
        raise L2VerifyError(f"L2 at {l2_server} is not reachable from here: {exc}") from None
    connector = aiohttp.TCPConnector(resolver=GuardedResolver(allow_private=allow_private))
    timeout = aiohttp.ClientTimeout(total=L2_TIMEOUT)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout, connector=connector) as session,
            session.post(
                url,
                json={"token": token, "l1_server": public_url},
                headers={"Authorization": f"Bearer {token}"},
                allow_redirects=False,
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


async def remember_l2_token(
    redis: Any, token: str, user: str, expiry: int, *, keys: RedisKeys
) -> None:
    """Record a verified L2 token until ``expiry``, and track it under its user."""
    ttl = max(expiry - int(time.time()), 1)
    await redis.set(keys.l2_token(tokens.token_hash(token)), f"{user}|{int(time.time())}", ex=ttl)
    await tokens.track_token(redis, user, token, expiry, keys=keys)


async def recorded_l2_claims(redis: Any, token: str, *, keys: RedisKeys) -> TokenClaims | None:
    """The claims of an L2 token recorded by :func:`remember_l2_token`; None when not recorded."""
    key = keys.l2_token(tokens.token_hash(token))
    raw = await redis.get(key)
    if raw is None:
        return None
    user, _, issued = (raw.decode() if isinstance(raw, bytes) else str(raw)).partition("|")
    ttl = await redis.ttl(key)
    now = int(time.time())
    return TokenClaims(user, int(issued or now), now + max(int(ttl), 1), "l2")
