"""uvicorn's httptools protocol with a request-head timer and a bounded drain.

The protocol ``artdag serve`` uses when httptools is installed (semantics:
:mod:`streamer.entry.http_server`). httptools keeps no connection state one
could ask, so it is followed from the parser's callbacks: a head has begun at
``on_message_begin`` (its first byte) and is complete at
``on_headers_complete``; a request's body is all read at
``on_message_complete``. A head is awaited while the last request is answered
and its body read (or before the first); an answered request whose body is
not all read drains.
"""

from __future__ import annotations

import asyncio
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from streamer.entry.http_guard import GuardedProtocol, GuardTimers, head_timeout_response

__all__ = ["GuardedHttpToolsProtocol"]


class GuardedHttpToolsProtocol(HttpToolsProtocol, GuardedProtocol):
    """uvicorn's httptools protocol, slow heads and answered bodies bounded (module docstring).

    :func:`streamer.entry.http_server.guarded_protocol` makes the subclass with
    the configured seconds.
    """

    def __init__(
        self,
        config: uvicorn.Config,
        server_state: Any,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self._head_begun = False  # part of a head arrived, not all of it
        self._body_read = True  # the last request's body is all read (none yet: nothing due)
        self._upgraded = False  # handed to a WebSocket protocol: no longer ours to time
        self._guard = GuardTimers(
            self.loop,
            self.header_timeout,
            self.drain_timeout,
            self._head_timed_out,
            self._drain_timed_out,
        )

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """A new connection: its first head is due within ``header_timeout``."""
        super().connection_made(transport)
        self._watch()

    def data_received(self, data: bytes) -> None:
        """Bytes arrived (the parser's callbacks below ran): re-arm for the state now."""
        super().data_received(data)
        self._watch()

    def on_message_begin(self) -> None:
        """The first byte of a request head."""
        self._head_begun = True
        super().on_message_begin()

    def on_headers_complete(self) -> None:
        """A whole head: its timer stops, the request's body is due (if any)."""
        self._head_begun = False
        self._body_read = False
        super().on_headers_complete()
        self._watch()

    def on_message_complete(self) -> None:
        """The request's body is all read (or drained)."""
        self._body_read = True
        super().on_message_complete()

    def on_response_complete(self) -> None:
        """A response went out: the next head is due, or an unread body drains."""
        super().on_response_complete()
        self._watch()

    def handle_websocket_upgrade(self) -> None:
        """The connection becomes a WebSocket: the HTTP timers end here."""
        self._upgraded = True
        self._guard.stop()
        super().handle_websocket_upgrade()

    def connection_lost(self, exc: Exception | None) -> None:
        """The connection closed: no timer outlives it."""
        self._guard.stop()
        super().connection_lost(exc)

    def _answered(self) -> bool:
        """Whether the last request's response is complete (True before the first)."""
        return self.cycle is None or self.cycle.response_complete

    def _waiting_head(self) -> bool:
        return not self._closed() and self._answered() and self._body_read

    def _draining(self) -> bool:
        return not self._closed() and self._answered() and not self._body_read

    def _closed(self) -> bool:
        return self._upgraded or self.transport.is_closing()

    def _watch(self) -> None:
        self._guard.watch(waiting_head=self._waiting_head(), draining=self._draining())

    def _head_timed_out(self) -> None:
        if not self._waiting_head():
            return
        if self._head_begun:  # a head began: say why it is closed
            self.logger.info("closing a connection whose request head is not complete")
            self.transport.write(head_timeout_response(self.header_timeout))
        self.transport.close()

    def _drain_timed_out(self) -> None:
        if self._draining():
            self.transport.close()
