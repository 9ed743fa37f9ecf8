"""What the server calls itself, for the API's info answer and the web UI's pages."""

from __future__ import annotations

import importlib.metadata

__all__ = ["SERVER_NAME", "server_version"]

SERVER_NAME = "artdag-l1"


def server_version() -> str:
    """The installed package's version (``0.0.0+unknown`` when run from a bare checkout)."""
    try:
        return importlib.metadata.version("artdag-l1")
    except importlib.metadata.PackageNotFoundError:
        return "0.0.0+unknown"
