"""Signed requests from this L1's actor to a peer, in the signature scheme the peer takes.

A request is signed with the cavage draft (what the fediverse speaks) unless
the peer asked for RFC 9421 before: a peer answering 401 with an
``Accept-Signature`` header (RFC 9421 section 5.1) gets the request again,
signed the RFC 9421 way, and is remembered in Redis for a day
(``fed:scheme:<origin>``) so later requests go that way at once.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from redis.exceptions import RedisError

from streamer.federation.actor_keys import ActorKeys
from streamer.federation.httpsig import Scheme, sign_request
from streamer.federation.peer_http import MAX_ANSWER_BYTES, PEER_TIMEOUT, PeerResponse, peer_request
from streamer.keys import RedisKeys

__all__ = ["SCHEME_MEMORY_TTL", "signed_request"]

log = logging.getLogger(__name__)

SCHEME_MEMORY_TTL = 24 * 3600


async def _remembered(redis: Any, keys: RedisKeys | None, origin: str) -> Scheme:
    if redis is None or keys is None:
        return "cavage"
    try:
        value = await redis.get(keys.peer_scheme(origin))
    except (RedisError, OSError) as exc:
        log.warning("signature scheme memory not readable: %s", exc)
        return "cavage"
    return "rfc9421" if value in (b"rfc9421", "rfc9421") else "cavage"


async def _remember(redis: Any, keys: RedisKeys | None, origin: str) -> None:
    if redis is None or keys is None:
        return
    try:
        await redis.set(keys.peer_scheme(origin), "rfc9421", ex=SCHEME_MEMORY_TTL)
    except (RedisError, OSError) as exc:
        log.warning("signature scheme memory not writable: %s", exc)


async def signed_request(
    method: str,
    url: str,
    body: bytes | None,
    signer: ActorKeys,
    *,
    allow_private: bool,
    headers: Mapping[str, str] | None = None,
    redis: Any = None,
    keys: RedisKeys | None = None,
    timeout: float = PEER_TIMEOUT,
    max_bytes: int = MAX_ANSWER_BYTES,
) -> PeerResponse:
    """Send ``method url`` with ``body``, signed by ``signer``; returns the peer's answer.

    Args:
        method: HTTP method.
        url: the peer's URL (checked by the network guard before anything is sent).
        body: request body (None: none).
        signer: this L1's actor keys.
        allow_private: ``ARTDAG_ALLOW_PRIVATE_ENDPOINTS``.
        headers: more headers (``Content-Type``, ``Accept``...).
        redis: Redis client for the scheme memory (None: cavage always first).
        keys: Redis key names (with ``redis``).
        timeout: seconds per attempt.
        max_bytes: the most answer bytes read.

    Raises:
        streamer.federation.errors.PeerError: refused, unreachable, timeout, too large.
    """
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc.lower()}"
    scheme = await _remembered(redis, keys, origin)
    while True:
        sent = {**dict(headers or {}), **sign_request(method, url, body, signer, scheme=scheme)}
        resp = await peer_request(
            method,
            url,
            allow_private=allow_private,
            headers=sent,
            body=body,
            timeout=timeout,
            max_bytes=max_bytes,
        )
        if resp.status == 401 and "Accept-Signature" in resp.headers and scheme == "cavage":
            scheme = "rfc9421"  # the peer asks for RFC 9421 signatures
            await _remember(redis, keys, origin)
            continue
        return resp
