"""``artdag`` subcommands: one module each, discovered by :mod:`streamer.entry.cli`.

A command module exposes ``register(subparsers) -> None``, adds its parser and
sets ``func(args) -> int`` with ``set_defaults``. Modules whose name starts
with ``_`` are helpers, not commands.
"""
