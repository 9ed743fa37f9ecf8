"""HTTP/1.1 by hand over asyncio streams: for clients that misbehave on purpose
(slow heads, stalled bodies, lengths that lie) against a live server."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

__all__ = ["RawConnection", "RawResponse", "head_bytes"]


def head_bytes(method: str, target: str, headers: Mapping[str, str]) -> bytes:
    """A request head (``Host`` added when missing)."""
    lines = [f"{method} {target} HTTP/1.1"]
    if not any(k.lower() == "host" for k in headers):
        lines.append("Host: 127.0.0.1")
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


@dataclass
class RawResponse:
    """A response read off the socket."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        """The body as JSON."""
        return json.loads(self.body)


class RawConnection:
    """One TCP connection to ``url``'s host and port."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, url: str) -> RawConnection:
        """Connect to the server at ``url``."""
        parts = urlsplit(url)
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        return cls(reader, writer)

    async def send(self, data: bytes) -> bool:
        """Write ``data``; False when the server has closed the connection."""
        try:
            self.writer.write(data)
            await self.writer.drain()
        except (ConnectionError, OSError):
            return False
        return True

    async def trickle(self, data: bytes, interval: float) -> None:
        """Send ``data`` one byte every ``interval`` seconds, until it is all sent or refused."""
        for i in range(len(data)):
            if not await self.send(data[i : i + 1]):
                return
            await asyncio.sleep(interval)

    async def response(self, timeout: float) -> RawResponse:
        """Read one response (``Content-Length`` framed) within ``timeout`` seconds."""
        async with asyncio.timeout(timeout):
            head = await self.reader.readuntil(b"\r\n\r\n")
            status_line, *lines = head.decode("latin-1").split("\r\n")
            headers = {}
            for line in lines:
                if ":" in line:
                    key, value = line.split(":", 1)
                    headers[key.strip().lower()] = value.strip()
            body = await self.reader.readexactly(int(headers.get("content-length", "0")))
        return RawResponse(int(status_line.split()[1]), headers, body)

    async def closed_within(self, timeout: float) -> bool:
        """Whether the server closes the connection within ``timeout`` seconds
        (what else it sends meanwhile is read and dropped)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        try:
            while (left := deadline - loop.time()) > 0:
                async with asyncio.timeout(left):
                    if not await self.reader.read(65536):
                        return True
        except TimeoutError:
            return False
        except ConnectionError:
            return True
        return False

    async def close(self) -> None:
        """Close our end."""
        self.writer.close()
        with contextlib.suppress(Exception):
            await self.writer.wait_closed()
