"""The ``artdag`` command line.

Subcommands are the modules of :mod:`streamer.entry.commands` (discovered with
pkgutil); each exposes ``register(subparsers)`` and sets ``func(args) -> int``.
Exit codes: 0 success, 1 failure, 2 bad usage or configuration, 130 interrupted.

Start-up cost is part of the interface: building the parser imports every
command module, so those modules import only the standard library and light
project modules at the top, and what a command runs with (numpy, numba, PyAV,
Litestar, Redis, ...) inside the function that runs it. ``artdag --help``
then takes a few tens of milliseconds (see bench/cli.py).
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence

from streamer.entry import commands

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every discovered subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="artdag", description="artdag L1: render recipes and stream them live as HLS."
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        try:
            module = importlib.import_module(f"{commands.__name__}.{info.name}")
        except Exception as exc:  # one broken command must not take down the others
            print(
                f"artdag: warning: command module {info.name!r} failed to load: {exc}",
                file=sys.stderr,
            )
            continue
        register = getattr(module, "register", None)
        if callable(register):
            register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help(sys.stderr)
        return 2
    # imported once a command runs: --help never needs them
    from streamer.embedded.stack import ServiceError
    from streamer.settings import SettingsError

    try:
        return int(func(args) or 0)
    except SettingsError as exc:
        print(f"artdag: configuration error: {exc}", file=sys.stderr)
        return 2
    except ServiceError as exc:
        print(f"artdag: service error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("artdag: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
