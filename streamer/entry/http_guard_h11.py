"""uvicorn's h11 protocol with a request-head timer and a bounded drain.

The pure-Python fallback when httptools is not installed (semantics:
:mod:`streamer.entry.http_server`). The connection's state is h11's: a head
is awaited while the client's side is ``IDLE``, an answered body drains while
it is ``SEND_BODY`` and ours is done.
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from streamer.entry.http_guard import GuardedProtocol, GuardTimers, head_timeout_response

__all__ = ["GuardedH11Protocol"]


class GuardedH11Protocol(H11Protocol, GuardedProtocol):
    """uvicorn's h11 protocol, slow heads and answered bodies bounded (module docstring).

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
        """Bytes arrived: the head may be complete, or the next one begun."""
        super().data_received(data)
        self._watch()

    def on_response_complete(self) -> None:
        """A response went out: the next head is due, or an unread body drains."""
        super().on_response_complete()
        self._watch()

    def connection_lost(self, exc: Exception | None) -> None:
        """The connection closed: no timer outlives it."""
        self._guard.stop()
        super().connection_lost(exc)

    def _watch(self) -> None:
        closing = self.transport.is_closing()
        theirs, ours = self.conn.their_state, self.conn.our_state
        self._guard.watch(
            waiting_head=not closing and theirs is h11.IDLE,
            draining=not closing and theirs is h11.SEND_BODY and ours in (h11.DONE, h11.MUST_CLOSE),
        )

    def _head_timed_out(self) -> None:
        if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
            return
        partial, _ = self.conn.trailing_data
        if partial:  # a head began: say why it is closed
            self.logger.info("closing a connection whose request head is not complete")
            self.transport.write(head_timeout_response(self.header_timeout))
        self.transport.close()

    def _drain_timed_out(self) -> None:
        if not self.transport.is_closing() and self.conn.their_state is h11.SEND_BODY:
            self.transport.close()
