"""``artdag token create --user NAME [--ttl 30d] [--scope S ...]`` and ``artdag token revoke TOKEN|--user NAME``.

``create`` prints a token signed with the installation's key (see
:mod:`streamer.auth.tokens`) and records it under the user in Redis, so ``revoke
--user`` (and ``POST /auth/revoke-user``) can revoke it later. When Redis is
not reachable the token is still printed (with a warning): the per-user
revocation cutoff covers untracked tokens. ``revoke`` needs Redis. Without
``--scope`` a token is unscoped; with it, the token may do only what those
scopes allow (:mod:`streamer.auth.scopes`; ``admin`` may revoke anyone's tokens).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from typing import TYPE_CHECKING

from streamer.auth import tokens
from streamer.auth.scopes import SCOPES

if TYPE_CHECKING:
    from streamer.keys import RedisKeys
    from streamer.settings import Settings

__all__ = ["parse_ttl", "register", "run_create", "run_revoke"]

_TTL_RE = re.compile(r"^(\d+)([smhd]?)$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_ttl(text: str) -> int:
    """``3600``, ``90s``, ``15m``, ``12h`` or ``30d`` -> seconds (1 s .. 366 days)."""
    match = _TTL_RE.match(text.strip().lower())
    if not match:
        raise argparse.ArgumentTypeError(f"{text!r}: expected seconds or N[s|m|h|d], e.g. 30d")
    seconds = int(match.group(1)) * _UNITS[match.group(2)]
    if not 0 < seconds <= tokens.MAX_TTL:
        raise argparse.ArgumentTypeError(f"{text!r}: between 1 second and 366 days")
    return seconds


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``token`` with ``create`` and ``revoke``."""
    p = subparsers.add_parser("token", help="create or revoke API tokens")
    sub = p.add_subparsers(dest="token_command", metavar="ACTION", required=True)
    c = sub.add_parser("create", help="print a new token for a user")
    c.add_argument("--user", required=True, help="user name the token acts as")
    c.add_argument(
        "--ttl", type=parse_ttl, default=tokens.DEFAULT_TTL, help="lifetime (default 30d)"
    )
    c.add_argument(
        "--scope",
        action="append",
        choices=sorted(SCOPES),
        help="limit the token to this scope (repeatable; default: unscoped)",
    )
    c.set_defaults(func=run_create)
    r = sub.add_parser("revoke", help="revoke one token, or every token of a user")
    who = r.add_mutually_exclusive_group(required=True)
    who.add_argument("token", nargs="?", help="the token to revoke")
    who.add_argument("--user", help="revoke every token of this user")
    r.set_defaults(func=run_revoke)


def _settings() -> Settings:
    from streamer.settings import Settings  # imports aiohttp: not at --help

    return Settings.from_env()


def _redis_url(settings: Settings) -> str | None:
    from streamer.embedded.stack import ServiceError
    from streamer.entry.commands._common import settings_with_stack_urls

    try:
        return settings_with_stack_urls(settings).services.redis_url
    except ServiceError:
        return None


def run_create(args: argparse.Namespace) -> int:
    """Mint, track (best effort) and print a token."""
    from redis.exceptions import RedisError

    from streamer.embedded.stack import ServiceError

    settings = _settings()
    try:
        token, claims = tokens.mint_token(
            tokens.cluster_key(settings), args.user, ttl=args.ttl, scopes=args.scope
        )
    except tokens.TokenError as exc:
        print(f"artdag token: {exc}", file=sys.stderr)
        return 2
    url = _redis_url(settings)
    try:
        if url is None:
            raise ServiceError("REDIS_URL is not set and no embedded stack is running")
        asyncio.run(_track(url, args.user, token, claims.expiry, settings.services.keys))
    except (ServiceError, RedisError, OSError) as exc:
        print(
            f"warning: token not recorded in Redis ({exc}); `token revoke --user` still covers it",
            file=sys.stderr,
        )
    print(token)
    return 0


async def _track(url: str, user: str, token: str, expiry: int, keys: RedisKeys) -> None:
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(url, socket_connect_timeout=5)
    try:
        await tokens.track_token(client, user, token, expiry, keys=keys)
    finally:
        await client.aclose()


def run_revoke(args: argparse.Namespace) -> int:
    """Revoke a token or a user's tokens; exit 1 when Redis is unavailable."""
    from redis.exceptions import RedisError

    settings = _settings()
    url = _redis_url(settings)
    if url is None:
        print(
            "artdag token: REDIS_URL is not set and no embedded stack is running", file=sys.stderr
        )
        return 1
    try:
        message = asyncio.run(_revoke(url, args.token, args.user, settings.services.keys))
    except (RedisError, OSError) as exc:
        print(f"artdag token: Redis at {url}: {exc}", file=sys.stderr)
        return 1
    print(message)
    return 0


async def _revoke(url: str, token: str | None, user: str | None, keys: RedisKeys) -> str:
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(url, socket_connect_timeout=5)
    try:
        if user is not None:
            count = await tokens.revoke_user(client, user, keys=keys)
            return f"revoked every token of {user} ({count} tracked)"
        assert token is not None
        digest = await tokens.revoke_token(client, token, keys=keys)
        return f"revoked token {digest[:16]}"
    finally:
        await client.aclose()
