"""Signers' public keys: fetched from their actor documents, cached in Redis.

A key id (``https://peer.example/actor#main-key``) is fetched without its
fragment with ``Accept: application/activity+json``, through
:func:`streamer.federation.peer_http.peer_request` (network guard, size limit,
timeout). The answer is an actor whose ``publicKey`` (an object or a list) has
the key id, or the key object itself (``publicKeyPem`` at the top). The key,
its owner and PEM are cached for :data:`KEY_CACHE_TTL` seconds; when a
signature fails with a cached key the key is fetched afresh once (it may have
been rotated). The fetch itself is signed with our actor's key when we have
one (servers in "authorized fetch" mode ask for it).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from redis.exceptions import RedisError

from streamer.federation.actor_keys import ActorKeys
from streamer.federation.errors import PeerError, SignatureError
from streamer.federation.httpsig import VerifiedSignature, sign_request, verify_request
from streamer.federation.peer_http import peer_request
from streamer.keys import RedisKeys

__all__ = [
    "ACTIVITY_ACCEPT",
    "KEY_CACHE_TTL",
    "KeyStore",
    "PublicKeyInfo",
    "public_key_of",
]

log = logging.getLogger(__name__)

KEY_CACHE_TTL = 3600
ACTIVITY_ACCEPT = 'application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
_MAX_PEM = 16 * 1024


@dataclass(frozen=True)
class PublicKeyInfo:
    """A fetched public key: its id, the actor owning it, and its PEM."""

    key_id: str
    owner: str
    pem: str


def _keys_in(doc: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    if "publicKeyPem" in doc:
        return [doc]
    found = doc.get("publicKey")
    candidates = found if isinstance(found, list) else [found]
    return [c for c in candidates if isinstance(c, Mapping)]


def public_key_of(doc: Any, key_id: str) -> PublicKeyInfo:
    """The key ``key_id`` from an actor (or key) document.

    Raises:
        SignatureError: the document has no such key, or it is malformed.
    """
    if not isinstance(doc, Mapping):
        raise SignatureError(f"{key_id}: the key document is not a JSON object")
    for key in _keys_in(doc):
        if key.get("id") != key_id:
            continue
        pem, owner = key.get("publicKeyPem"), key.get("owner") or doc.get("id")
        if not isinstance(pem, str) or not pem or len(pem) > _MAX_PEM:
            raise SignatureError(f"{key_id}: publicKeyPem is missing or malformed")
        if not isinstance(owner, str) or not owner:
            raise SignatureError(f"{key_id}: the key names no owner")
        if doc.get("id") not in (key_id, owner) and "publicKeyPem" not in doc:
            raise SignatureError(f"{key_id}: the key's owner is not the document's actor")
        return PublicKeyInfo(key_id=key_id, owner=owner, pem=pem)
    raise SignatureError(f"{key_id}: the actor document has no such key")


class KeyStore:
    """Public keys by key id, from Redis or fetched from the signer's server.

    Args:
        redis: Redis client (the cache; its failures only skip the cache).
        keys: Redis key names.
        allow_private: ``ARTDAG_ALLOW_PRIVATE_ENDPOINTS``.
        signer: our actor keys, to sign the fetches (None: unsigned).
        ttl: seconds a fetched key is cached.
    """

    def __init__(
        self,
        redis: Any,
        keys: RedisKeys,
        *,
        allow_private: bool,
        signer: ActorKeys | None,
        ttl: int = KEY_CACHE_TTL,
    ) -> None:
        self._redis = redis
        self._keys = keys
        self._allow_private = allow_private
        self._signer = signer
        self._ttl = ttl

    async def _from_cache(self, key_id: str) -> PublicKeyInfo | None:
        try:
            raw = await self._redis.get(self._keys.actor_key(key_id))
        except (RedisError, OSError) as exc:
            log.warning("key cache not readable: %s", exc)
            return None
        if raw is None:
            return None
        try:
            doc = json.loads(raw)
            return PublicKeyInfo(key_id=key_id, owner=str(doc["owner"]), pem=str(doc["pem"]))
        except (ValueError, KeyError, TypeError):
            return None

    async def _remember(self, info: PublicKeyInfo) -> None:
        value = json.dumps({"owner": info.owner, "pem": info.pem})
        try:
            await self._redis.set(self._keys.actor_key(info.key_id), value, ex=self._ttl)
        except (RedisError, OSError) as exc:
            log.warning("key cache not writable: %s", exc)

    def _headers(self, url: str) -> dict[str, str]:
        headers = {"Accept": ACTIVITY_ACCEPT}
        if self._signer is not None:
            headers.update(sign_request("GET", url, None, self._signer))
        return headers

    async def fetch(self, key_id: str) -> PublicKeyInfo:
        """Fetch ``key_id`` from its server (no cache) and cache it.

        Raises:
            PeerError: the server cannot be reached, is refused or answers badly.
            SignatureError: the answer holds no such key.
        """
        url = key_id.partition("#")[0]
        resp = await peer_request(
            "GET", url, allow_private=self._allow_private, headers=self._headers, max_redirects=3
        )
        if resp.status != 200:
            raise PeerError(f"{url} answered HTTP {resp.status} for the signer's key")
        try:
            doc = json.loads(resp.body)
        except ValueError:
            raise PeerError(f"{url} did not answer JSON for the signer's key") from None
        info = public_key_of(doc, key_id)
        await self._remember(info)
        return info

    async def get(self, key_id: str) -> PublicKeyInfo:
        """The key ``key_id``: cached, else fetched (see :meth:`fetch`)."""
        info = await self._from_cache(key_id)
        return info if info is not None else await self.fetch(key_id)

    async def pem(self, key_id: str) -> str:
        """The key's PEM (the ``fetch_public_key`` of :func:`verify_request`).

        Raises:
            SignatureError: the key cannot be had (a signature that cannot be checked).
        """
        try:
            return (await self.get(key_id)).pem
        except PeerError as exc:
            raise SignatureError(f"the signer's key cannot be fetched: {exc.detail}") from None

    async def verify(
        self,
        method: str,
        path_with_query: str,
        headers: Mapping[str, str],
        body: bytes,
        *,
        target_scheme: str = "https",
        now: float | None = None,
    ) -> tuple[VerifiedSignature, PublicKeyInfo]:
        """Verify a signed request; a failure with a cached key refetches it once.

        Returns:
            The signature and the signer's key (its ``owner`` is the signing actor).

        Raises:
            SignatureError: unsigned, bad, stale, or the key cannot be had.
        """
        used: dict[str, PublicKeyInfo] = {}
        from_cache: set[str] = set()

        async def lookup(key_id: str, *, cache: bool) -> str:
            info = await self._from_cache(key_id) if cache else None
            if info is not None:
                from_cache.add(key_id)
            else:
                try:
                    info = await self.fetch(key_id)
                except PeerError as exc:
                    raise SignatureError(
                        f"the signer's key cannot be fetched: {exc.detail}"
                    ) from None
            used[key_id] = info
            return info.pem

        async def cached(key_id: str) -> str:
            return await lookup(key_id, cache=True)

        async def fresh(key_id: str) -> str:
            return await lookup(key_id, cache=False)

        args = (method, path_with_query, headers, body)
        try:
            verified = await verify_request(*args, cached, target_scheme=target_scheme, now=now)
        except SignatureError as exc:
            if not from_cache or "does not verify" not in exc.detail:
                raise
            verified = await verify_request(*args, fresh, target_scheme=target_scheme, now=now)
        return verified, used[verified.key_id]
