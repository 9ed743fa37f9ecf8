"""What the guarded HTTP protocols share: the two timers and the 408 a slow head gets.

The protocols (:mod:`streamer.entry.http_guard_h11`,
:mod:`streamer.entry.http_guard_httptools`) only tell :class:`GuardTimers`
whether their connection now waits for a request head or drains an answered
request's body; the timers start, keep running or stop accordingly (see
:mod:`streamer.entry.http_server` for the semantics).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import ClassVar

from api.errors import error_body
from streamer.settings import DEFAULT_BODY_TIMEOUT, DEFAULT_HEADER_TIMEOUT

__all__ = ["GuardTimers", "GuardedProtocol", "head_timeout_response"]


def head_timeout_response(seconds: float) -> bytes:
    """The whole 408 response (API error shape, ``connection: close``) for a slow head."""
    detail = f"the request head did not arrive within {seconds:g} s (ARTDAG_HEADER_TIMEOUT)"
    body = json.dumps(error_body(408, detail)).encode()
    head = (
        "HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    )
    return head.encode() + body


class GuardedProtocol(asyncio.Protocol):
    """The base both guarded protocols share: the seconds they enforce (a configured
    subclass sets them, :func:`streamer.entry.http_server.guarded_protocol`)."""

    header_timeout: ClassVar[float] = DEFAULT_HEADER_TIMEOUT
    drain_timeout: ClassVar[float] = DEFAULT_BODY_TIMEOUT


class GuardTimers:
    """A connection's head timer and drain timer.

    Args:
        loop: the connection's event loop.
        header_timeout: seconds a request head may take.
        drain_timeout: seconds an answered request's unread body may take.
        on_head: called when a head took too long (the connection still waits for it).
        on_drain: called when a drain took too long.
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        header_timeout: float,
        drain_timeout: float,
        on_head: Callable[[], None],
        on_drain: Callable[[], None],
    ) -> None:
        self._loop = loop
        self._head_s, self._drain_s = header_timeout, drain_timeout
        self._on_head, self._on_drain = on_head, on_drain
        self._head: asyncio.TimerHandle | None = None
        self._drain: asyncio.TimerHandle | None = None

    def watch(self, *, waiting_head: bool, draining: bool) -> None:
        """Start the timer of each state the connection is in (a running one keeps its
        deadline) and stop the others."""
        self._head = self._arm(self._head, self._fire_head if waiting_head else None, self._head_s)
        self._drain = self._arm(self._drain, self._fire_drain if draining else None, self._drain_s)

    def stop(self) -> None:
        """Stop both timers (the connection closed, or is no longer HTTP)."""
        self.watch(waiting_head=False, draining=False)

    def _arm(
        self,
        handle: asyncio.TimerHandle | None,
        callback: Callable[[], None] | None,
        delay: float,
    ) -> asyncio.TimerHandle | None:
        if callback is None:
            if handle is not None:
                handle.cancel()
            return None
        return handle or self._loop.call_later(delay, callback)

    def _fire_head(self) -> None:
        self._head = None
        self._on_head()

    def _fire_drain(self) -> None:
        self._drain = None
        self._on_drain()
