"""``artdag login-link [--user NAME]``: print a new one-time sign-in link (no L2 configured)."""

from __future__ import annotations

import argparse
import sys

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``login-link`` command."""
    parser = subparsers.add_parser(
        "login-link",
        help="print a one-time link that signs a browser in",
        description="Print a new one-time sign-in link for the running server's web UI "
        "(valid 24 hours, consumed by the first visit). Not available with L2_SERVER set: "
        "then L2 is the only way in.",
    )
    parser.add_argument("--user", default="admin", help="the user it signs in (default admin)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Make and print the link; 1 when Redis is unavailable, 2 with L2 configured."""
    import asyncio

    import redis.asyncio as aioredis
    from redis.exceptions import RedisError

    from streamer.auth.login_links import create_login_link
    from streamer.auth.tokens import TokenError
    from streamer.entry.commands._common import settings_with_stack_urls
    from streamer.errors import Denied
    from streamer.settings import Settings

    settings = settings_with_stack_urls(Settings.from_env())

    async def make() -> str:
        client = aioredis.from_url(settings.services.redis_url, socket_connect_timeout=5)
        try:
            return await create_login_link(client, settings.services.keys, settings, user=args.user)
        finally:
            await client.aclose()

    try:
        print(asyncio.run(make()))
    except Denied as exc:
        print(f"artdag login-link: {exc}", file=sys.stderr)
        return 2
    except TokenError as exc:
        print(f"artdag login-link: --user: {exc}", file=sys.stderr)
        return 2
    except (RedisError, OSError) as exc:
        print(f"artdag login-link: Redis: {exc}", file=sys.stderr)
        return 1
    return 0
