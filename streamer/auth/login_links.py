"""One-time sign-in links for the embedded default (no L2): as notebook servers print.

``artdag serve`` prints one at start and ``artdag login-link`` makes another:
``<public url>/auth/link/<code>``. The code is 32 random bytes, kept in Redis
(:meth:`streamer.keys.RedisKeys.login_code`) for :data:`LINK_TTL` seconds and
consumed by the first visit (``GETDEL``), which gets a session cookie. With
``L2_SERVER`` set there are no links: the L2 flow is the only way in.
"""

from __future__ import annotations

import re
import secrets
import time

from redis.asyncio import Redis

from streamer.auth import tokens
from streamer.errors import Denied, Missing
from streamer.keys import RedisKeys
from streamer.settings import Settings

__all__ = [
    "CODE_PATTERN",
    "LINK_TTL",
    "LOCAL_USER",
    "create_login_link",
    "link_base",
    "redeem_login_code",
]

#: How long an unused link works.
LINK_TTL = 24 * 3600
#: The user a link signs in when none is named.
LOCAL_USER = "admin"
#: What a code looks like (URL-safe base64 of 32 bytes).
CODE_PATTERN = r"^[A-Za-z0-9_-]{43}$"
_CODE_RE = re.compile(CODE_PATTERN)


def _refuse_with_l2(settings: Settings) -> None:
    if settings.federation.l2_server:
        raise Denied(
            f"sign-in links are off while L2_SERVER is set: sign in through "
            f"{settings.federation.l2_server}",
            field="code",
        )


def link_base(settings: Settings) -> str:
    """Where the links point: ``L1_PUBLIC_URL`` when given, else this server's port on localhost."""
    if settings.server.public_url_set:
        return settings.server.public_url.rstrip("/")
    return f"http://localhost:{settings.server.port}"


async def create_login_link(
    redis: Redis, keys: RedisKeys, settings: Settings, *, user: str = LOCAL_USER
) -> str:
    """A new one-time sign-in URL for ``user`` (under :func:`link_base`).

    Raises:
        Denied: ``L2_SERVER`` is set.
        TokenError: ``user`` is not a valid user name.
    """
    _refuse_with_l2(settings)
    user = tokens.check_user(user)
    code = secrets.token_urlsafe(32)
    await redis.set(keys.login_code(code), user, ex=LINK_TTL)
    return f"{link_base(settings)}/auth/link/{code}"


async def redeem_login_code(
    redis: Redis, keys: RedisKeys, settings: Settings, key: bytes, code: str
) -> tuple[str, str, int]:
    """Consume ``code``: ``(user, session token, seconds it lasts)``.

    Raises:
        Denied: ``L2_SERVER`` is set.
        Missing: no such code (never made, used already, or expired).
    """
    _refuse_with_l2(settings)
    raw = await redis.getdel(keys.login_code(code)) if _CODE_RE.match(code) else None
    if raw is None:
        raise Missing(
            "this sign-in link is unknown, used already or expired: "
            "make a new one with `artdag login-link`",
            field="code",
        )
    user = raw.decode() if isinstance(raw, bytes) else str(raw)
    ttl = tokens.DEFAULT_TTL
    session, _ = tokens.mint_token(key, user, ttl=ttl)
    await tokens.track_token(redis, user, session, int(time.time()) + ttl, keys=keys)
    return user, session, ttl
