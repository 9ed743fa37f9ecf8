"""``artdag worker [--queue NAME] [--concurrency N] [--burst]`` and ``artdag worker status``.

``artdag worker status [--json] [--watch [SECONDS]] [--iterations N] [--recent N] [--local]``
prints what ``GET /api/workers`` answers (:func:`api.workers.worker_status`):
queue length, jobs in progress, each worker's health record and recent results.
Exit status 0 when a worker reported within its health interval (with
``--local``: a worker on this host, the container health check), else 1;
2 when Redis cannot be reached.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import socket
import sys
from typing import Any

from streamer.keys import RedisKeys

__all__ = ["format_status", "queue_status", "register", "run", "status_exit_code"]


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``worker``."""
    parser = subparsers.add_parser(
        "worker",
        help="run an arq worker, or show queue and worker health",
        description="Run an arq worker for render/analysis jobs (`artdag worker`), "
        "or show the queue length and worker health (`artdag worker status`).",
    )
    parser.add_argument("action", nargs="?", choices=("run", "status"), default="run")
    parser.add_argument(
        "--queue", default=None, help="queue name (default ARTDAG_QUEUE, else artdag:queue)"
    )
    parser.add_argument(
        "--concurrency", type=_positive, default=4, help="jobs run at once (default 4)"
    )
    parser.add_argument("--burst", action="store_true", help="exit when the queue is empty")
    status = parser.add_argument_group("status options")
    status.add_argument("--json", action="store_true", help="status: print JSON (one per line)")
    status.add_argument(
        "--watch",
        type=_positive_float,
        nargs="?",
        const=10.0,
        default=None,
        metavar="SECONDS",
        help="status: print again every SECONDS (default 10) until interrupted",
    )
    status.add_argument(
        "--iterations", type=_positive, default=None, help="status --watch: stop after N prints"
    )
    status.add_argument(
        "--recent", type=_count, default=10, help="status: recent job results shown (default 10)"
    )
    status.add_argument(
        "--local",
        action="store_true",
        help="status: succeed only if a worker on this host reported (container health check)",
    )
    parser.set_defaults(func=run)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a positive integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a positive integer")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a positive number") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a positive number")
    return value


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected an integer 0-200") from None
    if not 0 <= value <= 200:
        raise argparse.ArgumentTypeError(f"{text!r}: expected an integer 0-200")
    return value


async def queue_status(
    redis_url: str, queue: str | None = None, *, recent: int = 10
) -> dict[str, Any]:
    """:func:`streamer.jobs.monitor.worker_status` over a fresh connection to ``redis_url``.

    Also carries ``worker_health`` (arq's queue health line or None) and
    ``health_ttl_ms`` for older callers.
    """
    import redis.asyncio as aioredis

    from streamer.jobs.monitor import worker_status

    queue = queue or RedisKeys().queue
    client = aioredis.Redis.from_url(redis_url)
    try:
        status = await worker_status(client, queue, recent=recent)
        raw = await client.get(RedisKeys(queue=queue).health_check)
    finally:
        await client.aclose()
    status["worker_health"] = raw.decode() if isinstance(raw, bytes) else raw
    status["health_ttl_ms"] = status["arq_health_ttl_ms"]
    return status


def status_exit_code(status: dict[str, Any], *, local: bool = False) -> int:
    """0 when a worker reported (``local``: one on this host), else 1."""
    if local:
        host = socket.gethostname()
        return 0 if any(w.get("host") == host for w in status["workers"]) else 1
    return 0 if status["healthy"] else 1


def _clock(ts: float | None) -> str:
    return dt.datetime.fromtimestamp(ts).strftime("%H:%M:%S") if ts else "-"


def _span(seconds: float) -> str:
    seconds = int(max(0, seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"


def format_status(status: dict[str, Any]) -> str:
    """The human-readable status, as ``artdag worker status`` prints it."""
    lines = [
        f"queue {status['queue']}: {status['queued']} queued"
        + (f" ({status['deferred']} deferred)" if status["deferred"] else "")
        + f", {status['in_progress']} in progress  [{_clock(status['checked_at'])}]"
    ]
    workers = status["workers"]
    lines.append(f"workers ({len(workers)}):" if workers else "workers: none reporting")
    for w in workers:
        lines.append(
            f"  {w.get('worker_id')}  up {_span(status['checked_at'] - w.get('started_at', 0))}"
            f"  ongoing {w.get('jobs_ongoing')}/{w.get('max_jobs')}"
            f"  complete {w.get('jobs_complete')}  failed {w.get('jobs_failed')}"
            f"  retried {w.get('jobs_retried')}  seen {w.get('age_s', 0):.0f}s ago"
        )
    health = status["arq_health"]
    lines.append(f"arq health: {health['line']}" if health else "arq health: no line")
    if status["in_progress_jobs"]:
        lines.append("in progress:")
        for job in status["in_progress_jobs"]:
            lines.append(
                f"  {job['job_id']}  {job.get('function', '?')}  try {job.get('try', '?')}"
                f"  enqueued {_clock(job.get('enqueued_at'))}"
            )
    if status.get("chunks"):
        lines.append("chunks in progress:")
        for c in status["chunks"]:
            lines.append(
                f"  run {c['run_id']} chunk {c['index']}  {c['worker']}"
                f"  heartbeat {c['heartbeat_age_s']:.1f}s ago"
            )
    if status["recent"]:
        lines.append(f"recent results ({len(status['recent'])}):")
        for r in status["recent"]:
            outcome = "ok  " if r["success"] else "FAIL"
            duration = f"{r['duration_s']:.1f}s" if r["duration_s"] is not None else "-"
            line = f"  {_clock(r['finished_at'])}  {outcome}  {r['function']}  {r['job_id']}"
            line += f"  {duration}"
            if not r["success"]:
                line += f"  {r.get('error')}"
            lines.append(line)
    if not workers and not health:
        # only here: streamer.entry.worker imports the whole job stack (seconds),
        # which the container health check (a worker reporting) must not pay
        from streamer.entry.worker import HEALTH_CHECK_INTERVAL

        lines.append(f"worker: none reported in the last {HEALTH_CHECK_INTERVAL} s")
    return "\n".join(lines)


def _print_status(status: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(status, sort_keys=True), flush=True)
    else:
        print(format_status(status), flush=True)


async def _status_loop(args: argparse.Namespace, redis_url: str) -> int:
    """One status print, or (``--watch``) one every interval; Redis errors are
    reported and, when watching, retried."""
    from redis.exceptions import RedisError

    done = 0
    code = 1
    while True:
        try:
            status = await queue_status(redis_url, args.queue, recent=args.recent)
        except (RedisError, OSError) as exc:
            print(f"artdag worker status: Redis at {redis_url}: {exc}", file=sys.stderr, flush=True)
            code = 2
        else:
            _print_status(status, args.json)
            code = status_exit_code(status, local=args.local)
        done += 1
        if args.watch is None or (args.iterations is not None and done >= args.iterations):
            return code
        if not args.json:
            print("", flush=True)
        await asyncio.sleep(args.watch)


def run(args: argparse.Namespace) -> int:
    """Execute ``worker``."""
    from streamer.entry.commands._common import configure_logging, settings_with_stack_urls
    from streamer.settings import Settings

    settings = settings_with_stack_urls(Settings.from_env())
    args.queue = args.queue or settings.services.queue_name
    if args.action == "status":
        try:
            return asyncio.run(_status_loop(args, settings.services.redis_url))
        except KeyboardInterrupt:
            return 0
    from streamer.entry.worker import run_worker

    configure_logging()
    failed = run_worker(settings, burst=args.burst, queue=args.queue, concurrency=args.concurrency)
    return 1 if failed else 0
