"""``artdag`` subcommands: one module each, discovered by :mod:`streamer.entry.cli`.

A command module exposes ``register(subparsers) -> None``, adds its parser and
sets ``func(args) -> int`` with ``set_defaults``. Modules whose name starts
with ``_`` are helpers, not commands.

Every ``artdag`` call imports every command module to build the parser, so a
command module imports only the standard library and light project modules at
the top; what the command runs with (numpy, PyAV, Redis, the app, ...) is
imported inside the functions that run it. ``tests/streamer/test_cli_imports.py``
holds that, ``bench/cli.py`` measures it.
"""
