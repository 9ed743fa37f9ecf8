"""The HTTP server's configuration, and an HTTP/1.1 protocol that cuts slow clients off.

uvicorn (0.54, h11) has no timeout on the request head: a client that opens
a connection and trickles its head a byte at a time (slow-loris) holds it
open for ever, and once a response went out while the request body was
still arriving (413 before reading, 404) uvicorn reads and drops that body
for as long as bytes keep coming. An ASGI application only sees a request
once its head is complete, so both are bounded here, in the protocol:

- head: a connection has ``ARTDAG_HEADER_TIMEOUT`` seconds from its start (or
  from the end of the previous response when kept alive) to complete a request
  head; then it gets a 408 in the API's error shape (when part of a head came)
  and is closed. uvicorn's keep-alive timeout (5 s) still closes a kept-alive
  connection that sends nothing.
- drain: the unread rest of an answered request is read and dropped for at
  most ``ARTDAG_BODY_TIMEOUT`` seconds, then the connection is closed (closing
  at once could reset it before the client has read the answer).

The body of a request being handled is bounded in the application
(:mod:`streamer.present.body_timeout`). An open connection costs a protocol
object and a socket, no task, so many slow clients do not keep others from
being served (``tests/api/test_request_limits.py`` holds 50 open).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any, ClassVar

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from api.errors import error_body
from streamer.settings import DEFAULT_BODY_TIMEOUT, DEFAULT_HEADER_TIMEOUT, ServerSettings

__all__ = ["GuardedH11Protocol", "guarded_protocol", "http_config"]


def _timeout_response(seconds: float) -> bytes:
    detail = f"the request head did not arrive within {seconds:g} s (ARTDAG_HEADER_TIMEOUT)"
    body = json.dumps(error_body(408, detail)).encode()
    head = (
        "HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    )
    return head.encode() + body


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a request-head timer and a bounded drain (module docstring).

    :func:`guarded_protocol` makes the subclass with the configured seconds.
    """

    header_timeout: ClassVar[float] = DEFAULT_HEADER_TIMEOUT
    drain_timeout: ClassVar[float] = DEFAULT_BODY_TIMEOUT

    def __init__(
        self,
        config: uvicorn.Config,
        server_state: Any,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self._head_timer: asyncio.TimerHandle | None = None
        self._drain_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """A new connection: its first head is due within ``header_timeout``."""
        super().connection_made(transport)
        self._watch()

    def data_received(self, data: bytes) -> None:
        """Bytes arrived: the head may be complete, or the next one begun."""
        super().data_received(data)
        self._watch()

    def on_response_complete(self) -> None:
        """A response went out: the next head is due, or an unread body drains."""
        super().on_response_complete()
        self._watch()

    def connection_lost(self, exc: Exception | None) -> None:
        """The connection closed: no timer outlives it."""
        self._head_timer = self._timer(self._head_timer, None)
        self._drain_timer = self._timer(self._drain_timer, None)
        super().connection_lost(exc)

    def _watch(self) -> None:
        """Arm or cancel the two timers for the connection's state now."""
        closing = self.transport.is_closing()
        theirs, ours = self.conn.their_state, self.conn.our_state
        waiting_head = not closing and theirs is h11.IDLE
        draining = not closing and theirs is h11.SEND_BODY and ours in (h11.DONE, h11.MUST_CLOSE)
        self._head_timer = self._timer(
            self._head_timer, self._head_timed_out if waiting_head else None, self.header_timeout
        )
        self._drain_timer = self._timer(
            self._drain_timer, self._drain_timed_out if draining else None, self.drain_timeout
        )

    def _timer(
        self,
        handle: asyncio.TimerHandle | None,
        callback: Callable[[], None] | None,
        delay: float = 0.0,
    ) -> asyncio.TimerHandle | None:
        """Keep a running timer while ``callback`` is wanted, start one, or cancel it (None)."""
        if callback is None:
            if handle is not None:
                handle.cancel()
            return None
        return handle or self.loop.call_later(delay, callback)

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
            return
        partial, _ = self.conn.trailing_data
        if partial:  # a head began: say why it is closed
            self.logger.info("closing a connection whose request head is not complete")
            self.transport.write(_timeout_response(self.header_timeout))
        self.transport.close()

    def _drain_timed_out(self) -> None:
        self._drain_timer = None
        if not self.transport.is_closing() and self.conn.their_state is h11.SEND_BODY:
            self.transport.close()


def guarded_protocol(header_timeout: float, drain_timeout: float) -> type[GuardedH11Protocol]:
    """The :class:`GuardedH11Protocol` subclass with these seconds (uvicorn's ``http=``)."""
    head, drain = header_timeout, drain_timeout

    class ConfiguredH11Protocol(GuardedH11Protocol):
        header_timeout = head
        drain_timeout = drain

    return ConfiguredH11Protocol


def http_config(
    app: Any,
    server: ServerSettings,
    *,
    host: str | None = None,
    port: int | None = None,
    log_level: str = "info",
) -> uvicorn.Config:
    """The uvicorn configuration serving ``app`` with the guarded protocol.

    Args:
        app: the ASGI application.
        server: the server settings (address, header and body timeouts).
        host: overrides ``server.host``.
        port: overrides ``server.port``.
        log_level: uvicorn's log level.
    """
    return uvicorn.Config(
        app,
        host=server.host if host is None else host,
        port=server.port if port is None else port,
        log_level=log_level,
        lifespan="on",
        http=guarded_protocol(server.header_timeout, server.body_timeout),
    )
