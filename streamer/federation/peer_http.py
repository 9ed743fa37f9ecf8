"""Requests to federation peers (other actors' servers, L2), behind the network guard.

Every request: the URL must be ``http(s)``; its host is checked with
:func:`streamer.netguard.check_host` (``allow_loopback=False``: a peer on
loopback, a private or a link-local address is refused unless
``ARTDAG_ALLOW_PRIVATE_ENDPOINTS``) before any connection, and each connection
is checked again by :class:`~streamer.netguard.GuardedResolver`. Redirects are
followed by hand (a few at most), each target checked the same way first:
aiohttp's resolver is not asked about literal addresses. Answers are read up to
a size limit, within a timeout. Failures raise :class:`PeerError`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import aiohttp
from multidict import CIMultiDictProxy

from streamer.federation.errors import PeerError
from streamer.netguard import GuardedResolver, RefusedAddress, check_host

__all__ = [
    "MAX_ANSWER_BYTES",
    "PEER_TIMEOUT",
    "PeerResponse",
    "check_peer_url",
    "peer_request",
]

PEER_TIMEOUT = 10.0
MAX_ANSWER_BYTES = 1024 * 1024
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


@dataclass(frozen=True)
class PeerResponse:
    """A peer's answer (body read in full, within the limit)."""

    url: str
    status: int
    headers: CIMultiDictProxy[str]
    body: bytes


async def check_peer_url(url: str, *, allow_private: bool) -> None:
    """Refuse ``url`` unless it is ``http(s)`` on a host a federation peer may be at.

    The host name is resolved in a thread (the event loop never waits on DNS).

    Raises:
        PeerError: not http(s), no host, or a refused address (nothing was sent).
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise PeerError(f"{url!r} is not an http(s) URL", field="url")
    try:
        await asyncio.to_thread(
            check_host, parts.hostname, allow_private=allow_private, allow_loopback=False
        )
    except RefusedAddress as exc:
        raise PeerError(f"{url} is not reachable from here: {exc}", field="url") from None


async def _read_limited(resp: aiohttp.ClientResponse, limit: int) -> bytes:
    if resp.content_length is not None and resp.content_length > limit:
        raise PeerError(f"{resp.url} answered {resp.content_length} bytes (limit {limit})")
    chunks: list[bytes] = []
    size = 0
    async for chunk in resp.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > limit:
            raise PeerError(f"{resp.url} answered more than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def peer_request(
    method: str,
    url: str,
    *,
    allow_private: bool,
    headers: Mapping[str, str] | Callable[[str], Mapping[str, str]] | None = None,
    body: bytes | None = None,
    max_bytes: int = MAX_ANSWER_BYTES,
    timeout: float = PEER_TIMEOUT,
    max_redirects: int = 0,
) -> PeerResponse:
    """Send one request to a federation peer; returns its answer, whatever its status.

    Args:
        method: HTTP method.
        url: absolute http(s) URL.
        allow_private: ``ARTDAG_ALLOW_PRIVATE_ENDPOINTS`` (private, link-local and
            loopback peers allowed; metadata addresses never).
        headers: request headers, or a function of the URL giving them (signature
            headers change with the URL a redirect leads to).
        body: request body.
        max_bytes: the most answer bytes read.
        timeout: seconds for the whole exchange, redirects included.
        max_redirects: redirects followed (GET/HEAD only); 0: a redirect is the answer.

    Raises:
        PeerError: refused address, unreachable, timeout, or answer too large.
    """
    connector = aiohttp.TCPConnector(
        resolver=GuardedResolver(allow_private=allow_private, allow_loopback=False)
    )
    client_timeout = aiohttp.ClientTimeout(total=timeout)
    try:
        async with aiohttp.ClientSession(timeout=client_timeout, connector=connector) as session:
            for _ in range(max_redirects + 1):
                await check_peer_url(url, allow_private=allow_private)
                sent = dict(headers(url) if callable(headers) else headers or {})
                async with session.request(
                    method, url, headers=sent, data=body, allow_redirects=False
                ) as resp:
                    location = resp.headers.get("Location")
                    if resp.status in _REDIRECTS and location and max_redirects > 0:
                        if method.upper() not in ("GET", "HEAD"):
                            raise PeerError(f"{url} redirected a {method} request")
                        url = urljoin(url, location)
                        continue
                    data = await _read_limited(resp, max_bytes)
                    return PeerResponse(url, resp.status, resp.headers, data)
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        raise PeerError(f"{url} could not be reached: {exc or type(exc).__name__}") from exc
    raise PeerError(f"{url}: more than {max_redirects} redirects")
