"""``artdag services up|down|status [--data-dir DIR] [--json]``: the embedded stack."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``services``."""
    parser = subparsers.add_parser(
        "services",
        help="start, stop or inspect the embedded PostgreSQL + Redis",
        description="The embedded PostgreSQL + Redis used when REDIS_URL/DATABASE_URL are unset. "
        "`up` leaves them running in the background until `down`.",
    )
    parser.add_argument("action", choices=("up", "down", "status"))
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="where the services keep their data (default: $ARTDAG_DATA_DIR/services)",
    )
    parser.add_argument("--json", action="store_true", help="print the status as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Execute ``services``."""
    from streamer.embedded.stack import EmbeddedStack
    from streamer.settings import Settings

    data_dir = args.data_dir or Settings.from_env().storage.services_dir
    stack = EmbeddedStack(data_dir)
    if args.action == "up":
        urls = stack.up(detached=True)
        print(f"DATABASE_URL={urls.database_url}")
        print(f"REDIS_URL={urls.redis_url}")
        return 0
    if args.action == "down":
        stack.down()
        print(f"stopped the embedded services in {stack.data_dir}")
        return 0
    status = stack.status()
    if args.json:
        print(json.dumps(status, indent=2))
    else:
        print(f"data dir: {status['data_dir']}")
        for name in ("postgres", "redis"):
            entry = status[name]
            state = f"running (pid {entry['pid']})" if entry["running"] else "stopped"
            print(f"{name:9} {state:24} {entry['url'] or ''}")
    return 0 if status["postgres"]["running"] and status["redis"]["running"] else 1
