"""API tokens: HMAC-SHA256 signing, verification and revocation through Redis.

A token is ``<base64url(claims JSON)>.<base64url(HMAC-SHA256(key, first part))>``
with the claims ``user``, ``iat`` (issued, unix seconds), ``exp`` (expiry),
``jti`` (random id) and, for a scoped token, ``scp`` (its scopes, see
:mod:`streamer.auth.scopes`; a token without ``scp`` is unscoped). The key is ``ARTDAG_CLUSTER_KEY`` or, when unset, a random
key generated once into ``ARTDAG_DATA_DIR/cluster.key`` (mode 0600), so every
process of one installation (server, workers, CLI) signs with the same key.

Revocation lives in Redis (names from :class:`streamer.keys.RedisKeys`):

- ``<prefix>revoked:<sha256 of the token>``: present = revoked; kept 30 days.
- ``<prefix>user_tokens:<user>``: sorted set of the user's token hashes
  (score: expiry), so ``revoke_user`` can revoke each one.
- ``<prefix>user_revoked_at:<user>``: unix time of the last ``revoke_user``;
  tokens issued before it are refused too (covers tokens that were
  never tracked, e.g. minted while Redis was down).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import re
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from streamer.keys import RedisKeys

if TYPE_CHECKING:  # streamer.settings imports aiohttp; the CLI parser reads the TTLs
    from streamer.settings import Settings

__all__ = [
    "DEFAULT_TTL",
    "MAX_TTL",
    "REVOKED_TTL",
    "TokenClaims",
    "TokenError",
    "check_not_revoked",
    "check_user",
    "cluster_key",
    "is_revoked",
    "mint_token",
    "revoke_token",
    "revoke_user",
    "token_hash",
    "track_token",
    "verify_token",
]

DEFAULT_TTL = 30 * 24 * 3600
MAX_TTL = 366 * 24 * 3600
REVOKED_TTL = 30 * 24 * 3600
KEY_FILE = "cluster.key"
_USER_RE = re.compile(r"^@?[A-Za-z0-9_.@-]{1,200}$")
_CLOCK_SKEW = 60


class TokenError(ValueError):
    """A token is malformed, badly signed, expired or revoked (``reason`` says which)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class TokenClaims:
    """The verified claims of a token.

    ``scopes`` None: an unscoped token (minted here without ``--scope``), which
    may do whatever its user may; a tuple: only what those scopes allow.
    """

    user: str
    issued: int
    expiry: int
    jti: str
    scopes: tuple[str, ...] | None = None

    def to_json(self) -> dict[str, Any]:
        """The claims as the token carries them."""
        doc: dict[str, Any] = {
            "user": self.user,
            "iat": self.issued,
            "exp": self.expiry,
            "jti": self.jti,
        }
        if self.scopes is not None:
            doc["scp"] = list(self.scopes)
        return doc


def check_user(user: str) -> str:
    """Return ``user`` if it is a plausible user name (``alice``, ``@alice@l2.example``)."""
    if not isinstance(user, str) or not _USER_RE.match(user):
        raise TokenError(f"bad user name {user!r}: letters, digits and _ . @ - (1-200)")
    return user


def cluster_key(settings: Settings) -> bytes:
    """The signing key: ``ARTDAG_CLUSTER_KEY`` or the data folder's ``cluster.key``.

    The key file is created (0600, 32 random bytes hex) on first use; blocking
    file I/O, so async callers run this in a thread once and keep the result.
    """
    if settings.federation.cluster_key:
        return settings.federation.cluster_key.encode()
    path = Path(settings.storage.data_dir) / KEY_FILE
    try:
        return _read_key(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    # written in full under a temporary name, then linked into place: a process that
    # loses the race reads the winner's whole key, never a file still being written
    tmp = path.with_name(f".{KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(key + "\n")
        os.link(tmp, path)
    except FileExistsError:  # another process won the race: use its key
        return _read_key(path)
    finally:
        tmp.unlink(missing_ok=True)
    return key.encode()


def _read_key(path: Path) -> bytes:
    key = path.read_text().strip()
    if len(key) < 32:
        raise TokenError(f"{path}: key too short ({len(key)} characters, need 32+)")
    return key.encode()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(key: bytes, payload: str) -> str:
    return _b64(hmac.new(key, payload.encode(), hashlib.sha256).digest())


def mint_token(
    key: bytes,
    user: str,
    *,
    ttl: int = DEFAULT_TTL,
    now: float | None = None,
    scopes: Iterable[str] | None = None,
) -> tuple[str, TokenClaims]:
    """Sign a new token for ``user`` valid ``ttl`` seconds (limited to ``scopes`` if given).

    Raises:
        TokenError: bad user name or ttl outside 1 s .. 366 days.
    """
    check_user(user)
    if not 0 < ttl <= MAX_TTL:
        raise TokenError(f"ttl {ttl}: expected 1..{MAX_TTL} seconds")
    issued = int(now if now is not None else time.time())
    scope_list = None if scopes is None else tuple(sorted(set(scopes)))
    claims = TokenClaims(user, issued, issued + ttl, secrets.token_hex(12), scope_list)
    payload = _b64(json.dumps(claims.to_json(), separators=(",", ":"), sort_keys=True).encode())
    return f"{payload}.{_sign(key, payload)}", claims


def verify_token(key: bytes, token: str, *, now: float | None = None) -> TokenClaims:
    """Check the signature and expiry of ``token`` (not revocation: see :func:`is_revoked`).

    Raises:
        TokenError: malformed, bad signature, bad claims or expired.
    """
    # a token is base64url text: anything else (non-ASCII from a query string or a
    # latin-1 header) is malformed, and hmac.compare_digest refuses to compare it
    if (
        not isinstance(token, str)
        or not token.isascii()
        or token.count(".") != 1
        or len(token) > 4096
    ):
        raise TokenError("malformed token")
    payload, signature = token.split(".")
    if not hmac.compare_digest(_sign(key, payload), signature):
        raise TokenError("bad token signature")
    try:
        doc = json.loads(_unb64(payload))
    except (binascii.Error, ValueError):
        raise TokenError("malformed token claims") from None
    if not isinstance(doc, dict):
        raise TokenError("malformed token claims")
    user, iat, exp, jti = doc.get("user"), doc.get("iat"), doc.get("exp"), doc.get("jti")
    if not (isinstance(user, str) and isinstance(iat, int) and isinstance(exp, int)):
        raise TokenError("token claims lack user/iat/exp")
    if not isinstance(jti, str) or not jti:
        raise TokenError("token claims lack jti")
    scp = doc.get("scp")
    if scp is not None and not (isinstance(scp, list) and all(isinstance(s, str) for s in scp)):
        raise TokenError("token scopes (scp) must be a list of names")
    current = now if now is not None else time.time()
    if exp <= current:
        raise TokenError("token expired")
    if iat > current + _CLOCK_SKEW:
        raise TokenError("token issued in the future")
    return TokenClaims(user, iat, exp, jti, None if scp is None else tuple(scp))


def token_hash(token: str) -> str:
    """SHA-256 hex of the token text (what Redis stores; never the token itself)."""
    return hashlib.sha256(token.encode()).hexdigest()


async def track_token(redis: Any, user: str, token: str, expiry: int, *, keys: RedisKeys) -> None:
    """Record ``token`` under its user so :func:`revoke_user` can revoke it."""
    key = keys.user_tokens(user)
    await redis.zadd(key, {token_hash(token): expiry})
    await redis.zremrangebyscore(key, "-inf", time.time() - REVOKED_TTL)
    ttl = max(int(expiry - time.time()), 1) + REVOKED_TTL
    if await redis.ttl(key) < ttl:  # keep the set as long as its longest-lived token
        await redis.expire(key, ttl)


async def revoke_token(redis: Any, token: str, *, keys: RedisKeys) -> str:
    """Revoke one token (kept 30 days); returns its hash."""
    return await _revoke_hash(redis, token_hash(token), keys)


async def _revoke_hash(redis: Any, digest: str, keys: RedisKeys) -> str:
    await redis.set(keys.token_revoked(digest), str(int(time.time())), ex=REVOKED_TTL)
    return digest


async def revoke_user(redis: Any, user: str, *, keys: RedisKeys) -> int:
    """Revoke every token of ``user`` issued until now; returns how many were tracked."""
    await redis.set(keys.user_revoked_at(user), str(int(time.time())))
    digests = await redis.zrange(keys.user_tokens(user), 0, -1)
    for digest in digests:
        await _revoke_hash(redis, digest.decode() if isinstance(digest, bytes) else digest, keys)
    return len(digests)


async def is_revoked(redis: Any, token: str, claims: TokenClaims, *, keys: RedisKeys) -> bool:
    """Whether ``token`` was revoked, alone or with all of its user's tokens."""
    if await redis.exists(keys.token_revoked(token_hash(token))):
        return True
    cutoff = await redis.get(keys.user_revoked_at(claims.user))
    # strictly before: a token minted in the same second after a revoke-user stays valid
    # (tokens minted earlier in that second were tracked and revoked by hash)
    return cutoff is not None and claims.issued < int(cutoff)


async def check_not_revoked(
    redis: Any, token: str, claims: TokenClaims, *, keys: RedisKeys
) -> TokenClaims:
    """Return ``claims``, or raise :class:`TokenError` when the token is revoked."""
    if await is_revoked(redis, token, claims, keys=keys):
        raise TokenError("token revoked")
    return claims
