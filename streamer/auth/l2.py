"""The contract with L2 (docs/federation.md): verifying its tokens, trusting its calls.

``GET /auth?auth_token=`` asks L2 who a token belongs to with a request signed
by this L1's actor (``POST {L2_SERVER}/auth/verify``); L2's answer names the
user, the scopes it grants, the expiry, the issuer (L2's actor) and the
audience (this L1). A token whose issuer is not the configured L2, or whose
audience is another server, is refused. The token is then recorded in Redis
(its hash, for as long as it is valid, with its user and scopes) so that it may
be used as a Bearer token and L2 may revoke it.

L2's own calls (``/auth/revoke``, ``/auth/revoke-user``) are trusted when they
are signed with a key of L2's actor (:func:`verify_l2_call`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from streamer.auth import tokens
from streamer.auth.scopes import known_scopes
from streamer.auth.tokens import TokenClaims, TokenError
from streamer.errors import Unauthenticated
from streamer.federation.actor_keys import ActorKeys, actor_url
from streamer.federation.client import signed_request
from streamer.federation.errors import PeerError, SignatureError
from streamer.federation.keyfetch import KeyStore
from streamer.keys import RedisKeys
from streamer.settings import Settings

__all__ = [
    "L2_JTI",
    "L2_TIMEOUT",
    "L2_VERIFY_PATH",
    "L2Grant",
    "L2VerifyError",
    "is_l2_actor",
    "recorded_l2_claims",
    "remember_l2_token",
    "verify_l2_call",
    "verify_with_l2",
]

L2_TIMEOUT = 10.0
L2_VERIFY_PATH = "/auth/verify"
#: the ``jti`` of the claims of a raw L2 token (L2 tokens are opaque to L1)
L2_JTI = "l2"


class L2VerifyError(Unauthenticated):
    """L2 did not confirm the token, or its answer is not one this L1 accepts (401)."""


@dataclass(frozen=True)
class L2Grant:
    """What L2 says about a token: its user, expiry, scopes and issuer."""

    user: str
    expiry: int | None
    scopes: tuple[str, ...]
    issuer: str


def is_l2_actor(settings: Settings, url: str) -> bool:
    """Whether ``url`` (an actor or key id) is the configured L2's.

    Same origin as ``L2_SERVER``, or ``https`` on ``L2_DOMAIN`` when that is set.
    """
    l2 = settings.federation.l2_server
    if not l2 or not isinstance(url, str):
        return False
    ours, theirs = urlsplit(l2), urlsplit(url)
    if (theirs.scheme, theirs.netloc.lower()) == (ours.scheme, ours.netloc.lower()):
        return True
    domain = settings.federation.l2_domain
    return bool(domain) and theirs.scheme == "https" and theirs.hostname == (domain or "").lower()


def _user_domain_ok(settings: Settings, user: str) -> bool:
    """``@bob@host`` / ``bob@host`` must name the L2's host (or ``L2_DOMAIN``)."""
    _, at, domain = user.lstrip("@").rpartition("@")
    if not at:
        return True
    allowed = {urlsplit(settings.federation.l2_server or "").hostname or ""}
    if settings.federation.l2_domain:
        allowed.add(settings.federation.l2_domain.lower())
    return domain.lower() in allowed


def _audiences(settings: Settings) -> set[str]:
    public = settings.server.public_url.rstrip("/")
    return {public, public + "/", actor_url(public)}


def _grant(settings: Settings, doc: Any) -> L2Grant:
    """Check L2's answer against the contract.

    Raises:
        L2VerifyError: naming what is wrong with it.
    """
    if not isinstance(doc, dict) or doc.get("valid") is False:
        raise L2VerifyError("L2 says the token is not valid", field="auth_token")
    named = doc.get("username") or doc.get("user")
    try:
        user = tokens.check_user(named if isinstance(named, str) else "")
    except TokenError:
        raise L2VerifyError("L2's answer names no (valid) user", field="auth_token") from None
    issuer = doc.get("issuer")
    if not isinstance(issuer, str) or not is_l2_actor(settings, issuer):
        raise L2VerifyError(
            f"the token was issued by {issuer!r}, not by this server's L2 "
            f"({settings.federation.l2_server})",
            field="auth_token",
        )
    if not _user_domain_ok(settings, user):
        raise L2VerifyError(f"the user {user!r} is not one of this server's L2", field="auth_token")
    audience = doc.get("audience")
    if audience not in _audiences(settings):
        raise L2VerifyError(
            f"the token is bound to {audience!r}, not to this server", field="auth_token"
        )
    scopes = doc.get("scopes", [])
    if not isinstance(scopes, list):
        raise L2VerifyError("L2's answer: scopes must be a list", field="auth_token")
    expiry = doc.get("expires_at")
    if isinstance(expiry, int | float) and expiry <= time.time():
        raise L2VerifyError("L2 says the token has expired", field="auth_token")
    return L2Grant(
        user=user,
        expiry=int(expiry) if isinstance(expiry, int | float) else None,
        scopes=known_scopes(scopes),
        issuer=issuer,
    )


async def verify_with_l2(
    settings: Settings,
    token: str,
    signer: ActorKeys,
    *,
    redis: Any = None,
    keys: RedisKeys | None = None,
) -> L2Grant:
    """Ask L2 about ``token`` with a signed ``POST {L2_SERVER}/auth/verify``.

    The network guard refuses an ``L2_SERVER`` on a loopback, private or
    link-local address (unless ``ARTDAG_ALLOW_PRIVATE_ENDPOINTS``) before
    anything is sent; redirects are not followed.

    Raises:
        L2VerifyError: L2 refused the token, or answered outside the contract (401).
        PeerError: L2 is not configured, refused, unreachable or failing (503).
    """
    l2 = settings.federation.l2_server
    if not l2:
        raise PeerError("L2_SERVER is not set", field="L2_SERVER")
    public = settings.server.public_url.rstrip("/")
    body = json.dumps({"token": token, "l1_server": public, "l1_actor": actor_url(public)}).encode()
    resp = await signed_request(
        "POST",
        l2.rstrip("/") + L2_VERIFY_PATH,
        body,
        signer,
        allow_private=settings.network.allow_private_endpoints,
        headers={
            "Content-Type": "application/json",
            "Accept": "application/json",
            "Authorization": f"Bearer {token}",
        },
        redis=redis,
        keys=keys,
        timeout=L2_TIMEOUT,
    )
    if resp.status >= 500:
        raise PeerError(f"L2 at {l2} failed (HTTP {resp.status}); try again later")
    if resp.status != 200:
        raise L2VerifyError(f"L2 refused the token (HTTP {resp.status})", field="auth_token")
    try:
        doc = json.loads(resp.body)
    except ValueError:
        raise PeerError(f"L2 at {l2} did not answer JSON") from None
    return _grant(settings, doc)


async def verify_l2_call(
    settings: Settings,
    store: KeyStore,
    method: str,
    target: str,
    headers: Mapping[str, str],
    body: bytes,
) -> str:
    """Check that a request is signed by L2's actor; returns that actor.

    Raises:
        SignatureError: unsigned, badly signed, or signed by anyone else (401).
    """
    if not settings.federation.l2_server:
        raise SignatureError("no L2 is configured here (L2_SERVER)", field="Signature")
    scheme = "https" if settings.server.public_url.startswith("https:") else "http"
    verified, key = await store.verify(method, target, headers, body, target_scheme=scheme)
    if not (is_l2_actor(settings, verified.key_id) and is_l2_actor(settings, key.owner)):
        raise SignatureError(
            f"signed by {key.owner!r}, not by this server's L2 ({settings.federation.l2_server})",
            field="Signature",
        )
    return key.owner


async def remember_l2_token(
    redis: Any, token: str, grant: L2Grant, expiry: int, *, keys: RedisKeys
) -> None:
    """Record a verified L2 token until ``expiry``, and track it under its user."""
    now = int(time.time())
    record = {
        "user": grant.user,
        "issued": now,
        "scopes": list(grant.scopes),
        "issuer": grant.issuer,
    }
    ttl = max(expiry - now, 1)
    await redis.set(keys.l2_token(tokens.token_hash(token)), json.dumps(record), ex=ttl)
    await tokens.track_token(redis, grant.user, token, expiry, keys=keys)


def _record(raw: str) -> tuple[str, int | None, tuple[str, ...] | None]:
    """``(user, issued, scopes)`` of a record (JSON, or the older ``user|issued``: unscoped)."""
    if raw.startswith("{"):
        doc = json.loads(raw)
        issued = doc.get("issued")
        return (
            str(doc["user"]),
            issued if isinstance(issued, int) else None,
            known_scopes(doc.get("scopes") or []),
        )
    user, _, issued = raw.partition("|")
    return user, int(issued) if issued.isdigit() else None, None


async def recorded_l2_claims(redis: Any, token: str, *, keys: RedisKeys) -> TokenClaims | None:
    """The claims of an L2 token recorded by :func:`remember_l2_token`; None when not recorded."""
    key = keys.l2_token(tokens.token_hash(token))
    raw = await redis.get(key)
    if raw is None:
        return None
    try:
        user, issued, scopes = _record(raw.decode() if isinstance(raw, bytes) else str(raw))
    except (ValueError, KeyError, TypeError):
        return None
    ttl = await redis.ttl(key)
    now = int(time.time())
    return TokenClaims(user, issued or now, now + max(int(ttl), 1), L2_JTI, scopes)
