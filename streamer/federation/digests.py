"""Body digests of signed requests: ``Digest`` (RFC 3230) and ``Content-Digest`` (RFC 9530).

A signed request with a body must carry a digest of it, covered by the
signature, so the signature seals the body too.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Mapping

from streamer.federation.errors import SignatureError
from streamer.federation.sfv import SFVError, parse_dictionary

__all__ = ["check_body_digests", "content_digest_header", "digest_header"]

_HASHES: dict[str, Callable[[bytes], bytes]] = {
    "sha-256": lambda data: hashlib.sha256(data).digest(),
    "sha-512": lambda data: hashlib.sha512(data).digest(),
}


def digest_header(body: bytes) -> str:
    """``Digest: SHA-256=<base64>`` of ``body``."""
    return "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode()


def content_digest_header(body: bytes) -> str:
    """``Content-Digest: sha-256=:<base64>:`` of ``body``."""
    return "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode() + ":"


def _legacy_digests(value: str) -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    for part in value.split(","):
        name, sep, encoded = part.strip().partition("=")
        if not sep:
            raise SignatureError("Digest: expected <algorithm>=<base64>", field="Digest")
        try:
            found[name.strip().lower()] = base64.b64decode(encoded.strip(), validate=True)
        except ValueError:
            raise SignatureError("Digest: bad base64", field="Digest") from None
    return found


def _content_digests(value: str) -> dict[str, bytes]:
    try:
        members = parse_dictionary(value)
    except SFVError as exc:
        raise SignatureError(f"Content-Digest: {exc}", field="Content-Digest") from None
    found: dict[str, bytes] = {}
    for name, item in members.items():
        if not isinstance(item.value, bytes):
            raise SignatureError("Content-Digest: expected byte sequences", field="Content-Digest")
        found[name] = item.value
    return found


def _check(header: str, digests: dict[str, bytes], body: bytes) -> None:
    known = {name: value for name, value in digests.items() if name in _HASHES}
    if not known:
        raise SignatureError(f"{header}: no SHA-256 or SHA-512 digest", field=header)
    for name, value in known.items():
        if _HASHES[name](body) != value:
            raise SignatureError(
                f"{header}: the body does not match its {name} digest", field=header
            )


def check_body_digests(headers: Mapping[str, str], body: bytes, *, required: bool) -> set[str]:
    """Check every digest header present against ``body``; returns the headers checked.

    Args:
        headers: the request headers, names in lower case.
        body: the request body.
        required: at least one digest header must be present (a body was sent).

    Raises:
        SignatureError: a digest does not match, is malformed, or is missing when required.
    """
    checked: set[str] = set()
    if "digest" in headers:
        _check("Digest", _legacy_digests(headers["digest"]), body)
        checked.add("digest")
    if "content-digest" in headers:
        _check("Content-Digest", _content_digests(headers["content-digest"]), body)
        checked.add("content-digest")
    if required and not checked:
        raise SignatureError("a request with a body needs a Digest or Content-Digest header")
    return checked
