"""``artdag worker [--queue NAME] [--concurrency N] [--burst]`` and ``artdag worker status``."""

from __future__ import annotations

import argparse
import asyncio
import time

import redis.asyncio as aioredis

from streamer.commands._common import configure_logging, settings_with_stack_urls
from streamer.settings import Settings
from streamer.worker import HEALTH_CHECK_INTERVAL, QUEUE_NAME, health_check_key, run_worker

__all__ = ["queue_status", "register", "run"]


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``worker``."""
    parser = subparsers.add_parser(
        "worker",
        help="run an arq worker, or show queue and worker health",
        description="Run an arq worker for render/analysis jobs (`artdag worker`), "
        "or show the queue length and worker health (`artdag worker status`).",
    )
    parser.add_argument("action", nargs="?", choices=("run", "status"), default="run")
    parser.add_argument("--queue", default=QUEUE_NAME, help=f"queue name (default {QUEUE_NAME})")
    parser.add_argument(
        "--concurrency", type=_positive, default=4, help="jobs run at once (default 4)"
    )
    parser.add_argument("--burst", action="store_true", help="exit when the queue is empty")
    parser.set_defaults(func=run)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a positive integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a positive integer")
    return value


async def queue_status(redis_url: str, queue: str = QUEUE_NAME) -> dict[str, object]:
    """Queue length, jobs in progress and the last worker health line from Redis."""
    client = aioredis.from_url(redis_url)
    try:
        queued = await client.zcard(queue)
        in_progress = 0
        async for _ in client.scan_iter(match="arq:in-progress:*", count=500):
            in_progress += 1
        raw = await client.get(health_check_key(queue))
        ttl = await client.pttl(health_check_key(queue)) if raw else -2
    finally:
        await client.aclose()
    health = raw.decode() if isinstance(raw, bytes) else raw
    return {
        "queue": queue,
        "queued": int(queued),
        "in_progress": in_progress,
        "worker_health": health,
        "healthy": bool(health),
        "health_ttl_ms": ttl,
        "checked_at": time.time(),
    }


def run(args: argparse.Namespace) -> int:
    """Execute ``worker``."""
    settings = settings_with_stack_urls(Settings.from_env())
    if args.action == "status":
        status = asyncio.run(queue_status(settings.services.redis_url, args.queue))
        print(
            f"queue {status['queue']}: {status['queued']} queued, "
            f"{status['in_progress']} in progress"
        )
        if status["healthy"]:
            print(f"worker: {status['worker_health']}")
            return 0
        print(f"worker: none reported in the last {HEALTH_CHECK_INTERVAL} s")
        return 1
    configure_logging()
    failed = run_worker(settings, burst=args.burst, queue=args.queue, concurrency=args.concurrency)
    return 1 if failed else 0
