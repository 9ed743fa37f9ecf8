"""The HTTP server's configuration, and HTTP/1.1 protocols that cut slow clients off.

uvicorn (0.54) has no timeout on the request head: a client that opens a
connection and trickles its head a byte at a time (slow-loris) holds it open
for ever, and once a response went out while the request body was still
arriving (413 before reading, 404) uvicorn reads and drops that body for as
long as bytes keep coming. An ASGI application only sees a request once its
head is complete, so both are bounded here, in the protocol:

- head: a connection has ``ARTDAG_HEADER_TIMEOUT`` seconds from its start (or
  from the end of the previous response when kept alive) to complete a request
  head; then it gets a 408 in the API's error shape (when part of a head came)
  and is closed, silently when nothing came. uvicorn's keep-alive timeout (5 s)
  still closes a kept-alive connection that sends nothing.
- drain: the unread rest of an answered request is read and dropped for at
  most ``ARTDAG_BODY_TIMEOUT`` seconds, then the connection is closed (closing
  at once could reset it before the client has read the answer).

Which protocol: uvicorn's httptools one (C parser, ~20 % less server CPU per
request than h11 in ``bench/viewers.py``) subclassed as
:class:`~streamer.entry.http_guard_httptools.GuardedHttpToolsProtocol` when
httptools imports (a dependency, so always in a normal install), else the
pure-Python h11 one,
:class:`~streamer.entry.http_guard_h11.GuardedH11Protocol`. Both enforce the
same limits (``tests/api/test_request_limits.py`` runs against each); no
setting chooses, :func:`http_config` takes ``protocol=`` for the tests.

The body of a request being handled is bounded in the application
(:mod:`streamer.present.body_timeout`). An open connection costs a protocol
object and a socket, no task, so many slow clients do not keep others from
being served (the tests hold 50 open).
"""

from __future__ import annotations

from typing import Any, TypeVar, cast

import uvicorn

from streamer.entry.http_guard import GuardedProtocol
from streamer.entry.http_guard_h11 import GuardedH11Protocol
from streamer.settings import ServerSettings

__all__ = [
    "GuardedH11Protocol",
    "GuardedProtocol",
    "available_protocols",
    "guarded_protocol",
    "http_config",
]

P = TypeVar("P", bound=GuardedProtocol)


def available_protocols() -> dict[str, type[GuardedProtocol]]:
    """The guarded protocols this install has, by parser name, the preferred first."""
    try:
        from streamer.entry.http_guard_httptools import GuardedHttpToolsProtocol
    except ImportError:  # no httptools: h11 only (pure Python, ~20 % more CPU)
        return {"h11": GuardedH11Protocol}
    return {"httptools": GuardedHttpToolsProtocol, "h11": GuardedH11Protocol}


def guarded_protocol(base: type[P], header_timeout: float, drain_timeout: float) -> type[P]:
    """The subclass of ``base`` with these seconds (uvicorn's ``http=``)."""
    seconds = {"header_timeout": header_timeout, "drain_timeout": drain_timeout}
    return cast(type[P], type(f"Configured{base.__name__}", (base,), seconds))


def http_config(
    app: Any,
    server: ServerSettings,
    *,
    host: str | None = None,
    port: int | None = None,
    log_level: str = "info",
    protocol: type[GuardedProtocol] | None = None,
) -> uvicorn.Config:
    """The uvicorn configuration serving ``app`` with a guarded protocol.

    Args:
        app: the ASGI application.
        server: the server settings (address, header and body timeouts).
        host: overrides ``server.host``.
        port: overrides ``server.port``.
        log_level: uvicorn's log level.
        protocol: the guarded protocol class (default: the first of
            :func:`available_protocols`, httptools when installed).
    """
    base = protocol or next(iter(available_protocols().values()))
    return uvicorn.Config(
        app,
        host=server.host if host is None else host,
        port=server.port if port is None else port,
        log_level=log_level,
        lifespan="on",
        http=guarded_protocol(base, server.header_timeout, server.body_timeout),
    )
