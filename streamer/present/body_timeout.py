"""A stalled or trickling request body is cut off (``ARTDAG_BODY_TIMEOUT``, 408).

An ASGI middleware around every route (API and web UI). While a request's
body is still arriving, each ``receive()`` the handler awaits may wait at most
``timeout`` seconds for bytes, and the body as a whole gets ``timeout``
seconds plus one second per :data:`MIN_BODY_RATE` bytes received (a minimum
rate, as Apache's mod_reqtimeout has: a byte every few seconds would pass any
per-read timeout). Past either, :class:`streamer.errors.TooSlow` is raised,
which answers 408 in the one error shape (inline on the web forms). The
handler's cleanup runs on the way out, so an upload's partial file is removed
(:meth:`cache.local.LocalStore.put_stream`). The 408 carries
``Connection: close``: the rest of such a body is not worth waiting for.

Once the body is complete ``receive()`` is passed through untouched: a
streaming response listens on it for the client going away, for as long as
the response lasts. A slow request *head* never reaches the application;
:mod:`streamer.entry.http_server` bounds that in the HTTP protocol.
"""

from __future__ import annotations

import asyncio

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, ReceiveMessage, Scope, Send

from streamer.errors import TooSlow

__all__ = ["MIN_BODY_RATE", "BodyTimeoutMiddleware"]

#: Bytes per second a body must average once its first ``timeout`` seconds are used.
MIN_BODY_RATE = 1024

_CLOSE = (b"connection", b"close")


def _too_slow(timeout: float, received: int, elapsed: float) -> str:
    return (
        f"the request body stalled or came too slowly: {received} bytes in {elapsed:.1f} s "
        f"(ARTDAG_BODY_TIMEOUT={timeout:g} s per read, then at least {MIN_BODY_RATE} bytes/s)"
    )


class BodyTimeoutMiddleware:
    """Bound each wait for request body bytes (see the module docstring).

    Args:
        app: the wrapped ASGI application (a Litestar route).
        timeout: seconds one read may wait (``ARTDAG_BODY_TIMEOUT``).
    """

    def __init__(self, app: ASGIApp, timeout: float) -> None:
        self.app = app
        self.timeout = timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the route with a bounded ``receive`` (HTTP only) and a closing 408."""
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        complete = False
        stalled = False
        timeout = self.timeout
        loop = asyncio.get_running_loop()
        started: float | None = None
        received = 0

        async def bounded_receive() -> ReceiveMessage:
            nonlocal complete, stalled, started, received
            if complete:
                return await receive()
            now = loop.time()
            started = now if started is None else started
            left = started + timeout + received / MIN_BODY_RATE - now
            try:
                async with asyncio.timeout(max(0.0, min(timeout, left))):
                    message = await receive()
            except TimeoutError:
                stalled = True
                raise TooSlow(_too_slow(timeout, received, loop.time() - started)) from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
            if message["type"] != "http.request" or not message.get("more_body", False):
                complete = True
            return message

        async def closing_send(message: Message) -> None:
            if stalled and message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", ()), _CLOSE]}
            await send(message)

        await self.app(scope, bounded_receive, closing_send)
