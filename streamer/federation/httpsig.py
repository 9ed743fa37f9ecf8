"""HTTP Signatures as the fediverse uses them: the cavage draft, and RFC 9421.

Signing (:func:`sign_request`) returns the headers to add to a request:
``Host``, ``Date``, ``Digest`` (when there is a body) and either

- ``scheme="cavage"`` (draft-cavage-http-signatures-12, what Mastodon and most
  servers speak): ``Signature: keyId="…",algorithm="rsa-sha256",
  headers="(request-target) host date digest",signature="…"``; or
- ``scheme="rfc9421"``: ``Content-Digest``, ``Signature-Input: sig1=("@method"
  "@authority" "@path" ["@query"] ["content-digest"]);created=…;keyid="…";
  alg="rsa-v1_5-sha256"`` and ``Signature: sig1=:…:``.

Verifying (:func:`verify_request`) accepts either scheme (``Signature-Input``
present means RFC 9421), fetches the signer's public key by its key id,
checks that the signature covers the request line, the host, a time and the
body's digest, that the time is within ``max_skew`` of now and that the
digests match the body. Anything else raises :class:`SignatureError`.
"""

from __future__ import annotations

import base64
import binascii
import email.utils
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from streamer.federation.actor_keys import ActorKeys
from streamer.federation.digests import (
    check_body_digests,
    content_digest_header,
    digest_header,
)
from streamer.federation.errors import SignatureError
from streamer.federation.sfv import Item, SFVError, parse_dictionary, serialize_inner_list
from streamer.federation.sigalgs import check_signature, rsa_sign

__all__ = [
    "DEFAULT_MAX_SKEW",
    "KeyFetcher",
    "Scheme",
    "SignatureError",
    "VerifiedSignature",
    "sign_request",
    "verify_request",
]

Scheme = Literal["cavage", "rfc9421"]
#: ``fetch_public_key(key_id)`` -> the key's SubjectPublicKeyInfo PEM.
KeyFetcher = Callable[[str], Awaitable[str]]
DEFAULT_MAX_SKEW = 300.0
_LABEL = "sig1"
_MAX_SIGNATURE_HEADER = 8192
_CAVAGE_PARAM = re.compile(r'\s*([A-Za-z]+)=(?:"([^"]*)"|([0-9.]+))\s*(?:,|$)')
_SUPPORTED_COMPONENTS = frozenset({"@method", "@authority", "@path", "@query", "@target-uri"})


@dataclass(frozen=True)
class VerifiedSignature:
    """Who signed a request.

    Attributes:
        key_id: the signing key's id (``https://peer/actor#main-key``).
        actor: the key id without its fragment: by convention the signer's actor URL.
        scheme: which signature scheme the request used.
        signed_at: the signature's time (``Date`` or ``created``), unix seconds.
    """

    key_id: str
    actor: str
    scheme: Scheme
    signed_at: float


# --- signing -----------------------------------------------------------------------


def _authority(netloc: str) -> str:
    """Host[:port] in lower case, a default port dropped (as ``Host`` and ``@authority``)."""
    host = netloc.lower().rpartition("@")[2]
    for default in (":443", ":80"):
        if host.endswith(default):
            return host[: -len(default)]
    return host


def sign_request(
    method: str,
    url: str,
    body: bytes | None,
    keys: ActorKeys,
    *,
    now: float | None = None,
    scheme: Scheme = "cavage",
) -> dict[str, str]:
    """The headers that sign ``method url`` with ``body`` as ``keys.key_id``.

    Raises:
        ValueError: ``url`` is not absolute or ``scheme`` is unknown.
    """
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        raise ValueError(f"cannot sign a request to {url!r}: not an absolute URL")
    current = time.time() if now is None else now
    host = _authority(parts.netloc)
    path = parts.path or "/"
    headers = {"Host": host, "Date": email.utils.formatdate(current, usegmt=True)}
    if body is not None:
        headers["Digest"] = digest_header(body)
    if scheme == "cavage":
        target = path + (f"?{parts.query}" if parts.query else "")
        covered = ["(request-target)", "host", "date"] + (["digest"] if body is not None else [])
        values = {
            "(request-target)": f"{method.lower()} {target}",
            "host": host,
            "date": headers["Date"],
            "digest": headers.get("Digest", ""),
        }
        text = "\n".join(f"{name}: {values[name]}" for name in covered)
        headers["Signature"] = (
            f'keyId="{keys.key_id}",algorithm="rsa-sha256",'
            f'headers="{" ".join(covered)}",signature="{rsa_sign(keys, text.encode())}"'
        )
        return headers
    if scheme != "rfc9421":
        raise ValueError(f"unknown signature scheme {scheme!r}: expected cavage or rfc9421")
    values = {"@method": method.upper(), "@authority": host, "@path": path}
    if parts.query:
        values["@query"] = f"?{parts.query}"
    if body is not None:
        headers["Content-Digest"] = values["content-digest"] = content_digest_header(body)
    params = Item(
        tuple(Item(name) for name in values),
        {"created": int(current), "keyid": keys.key_id, "alg": "rsa-v1_5-sha256"},
    )
    signature_params = serialize_inner_list(params)
    base = "".join(f'"{name}": {value}\n' for name, value in values.items())
    base += f'"@signature-params": {signature_params}'
    headers["Signature-Input"] = f"{_LABEL}={signature_params}"
    headers["Signature"] = f"{_LABEL}=:{rsa_sign(keys, base.encode())}:"
    return headers


# --- verifying ---------------------------------------------------------------------


def _check_time(signed_at: float, now: float, max_skew: float, what: str) -> None:
    if abs(now - signed_at) > max_skew:
        raise SignatureError(
            f"{what} is {int(now - signed_at)} s from this server's clock "
            f"(more than the {int(max_skew)} s allowed)"
        )


def _b64(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise SignatureError("the signature is not valid base64") from None


def _cavage_params(value: str) -> dict[str, str]:
    params: dict[str, str] = {}
    pos = 0
    value = value.strip()
    while pos < len(value):
        found = _CAVAGE_PARAM.match(value, pos)
        if found is None or found.end() == pos:
            raise SignatureError('Signature: expected name="value" pairs', field="Signature")
        params[found.group(1)] = found.group(2) if found.group(2) is not None else found.group(3)
        pos = found.end()
    return params


def _number(text: str, name: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise SignatureError(f"Signature: {name} is not a unix time", field="Signature") from None


def _cavage_time(
    params: Mapping[str, str], headers: Mapping[str, str], covered: list[str]
) -> float:
    if "(created)" in covered:
        return _number(params.get("created", ""), "created")
    if "date" not in covered:
        raise SignatureError("the signature covers neither date nor (created)", field="Signature")
    try:
        return email.utils.parsedate_to_datetime(headers.get("date", "")).timestamp()
    except (TypeError, ValueError):
        raise SignatureError("Date: not an HTTP date", field="Date") from None


async def _verify_cavage(
    method: str,
    target: str,
    headers: Mapping[str, str],
    body: bytes,
    fetch: KeyFetcher,
    now: float,
    max_skew: float,
) -> VerifiedSignature:
    raw = headers.get("signature")
    if raw is None:  # the draft's other carrier: Authorization: Signature ...
        scheme_name, _, rest = headers.get("authorization", "").partition(" ")
        raw = rest if scheme_name.lower() == "signature" else None
    if not raw:
        raise SignatureError("the request is not signed (no Signature header)", field="Signature")
    params = _cavage_params(raw)
    key_id, signature = params.get("keyId"), params.get("signature")
    if not key_id or not signature:
        raise SignatureError("Signature: keyId and signature are required", field="Signature")
    covered = params.get("headers", "date").lower().split()
    digests = check_body_digests(headers, body, required=bool(body))
    if not {"(request-target)", "host"} <= set(covered) or (body and not digests & set(covered)):
        raise SignatureError(
            "the signature must cover (request-target), host, date and the body's digest",
            field="Signature",
        )
    signed_at = _cavage_time(params, headers, covered)
    _check_time(signed_at, now, max_skew, "the signature's date")
    if "expires" in params and _number(params["expires"], "expires") < now:
        raise SignatureError("the signature has expired", field="Signature")
    lines = []
    for name in covered:
        if name == "(request-target)":
            lines.append(f"{name}: {method.lower()} {target}")
        elif name in ("(created)", "(expires)"):
            lines.append(f"{name}: {params.get(name[1:-1], '')}")
        elif name in headers:
            lines.append(f"{name}: {headers[name].strip()}")
        else:
            raise SignatureError(f"the signature covers {name}, which the request lacks")
    pem = await fetch(key_id)
    algorithm = params.get("algorithm")
    check_signature(
        pem, algorithm.lower() if algorithm else None, _b64(signature), "\n".join(lines).encode()
    )
    return VerifiedSignature(key_id, key_id.partition("#")[0], "cavage", signed_at)


def _rfc9421_member(headers: Mapping[str, str]) -> tuple[Item, bytes]:
    try:
        inputs = parse_dictionary(headers["signature-input"])
        signatures = parse_dictionary(headers.get("signature", ""))
    except SFVError as exc:
        raise SignatureError(f"Signature-Input/Signature: {exc}", field="Signature-Input") from None
    for label, item in inputs.items():
        value = signatures.get(label)
        if isinstance(item.value, tuple) and value is not None and isinstance(value.value, bytes):
            return item, value.value
    raise SignatureError("no Signature-Input label has a matching Signature", field="Signature")


def _component(
    name: str, method: str, target: str, headers: Mapping[str, str], target_scheme: str
) -> str:
    path, sep, query = target.partition("?")
    derived = {
        "@method": method.upper(),
        "@authority": _authority(headers.get("host", "")),
        "@path": path,
        "@query": f"?{query}" if sep else "?",
        "@target-uri": f"{target_scheme}://{_authority(headers.get('host', ''))}{target}",
    }
    if name in derived:
        return derived[name]
    if name.startswith("@") or name not in headers:
        raise SignatureError(f"the signature covers {name!r}, which this server cannot check")
    return headers[name].strip()


async def _verify_rfc9421(
    method: str,
    target: str,
    headers: Mapping[str, str],
    body: bytes,
    fetch: KeyFetcher,
    now: float,
    max_skew: float,
    target_scheme: str,
) -> VerifiedSignature:
    item, signature = _rfc9421_member(headers)
    assert isinstance(item.value, tuple)
    covered: list[str] = []
    for member in item.value:
        if not isinstance(member.value, str) or member.params:
            raise SignatureError("Signature-Input: components must be plain strings")
        covered.append(member.value.lower())
    digests = check_body_digests(headers, body, required=bool(body))
    names = set(covered)
    has_target = "@target-uri" in names or {"@authority", "@path"} <= names
    if "@method" not in names or not has_target or (body and not digests & names):
        raise SignatureError(
            "the signature must cover @method, the target (@authority and @path, or "
            "@target-uri) and the body's content-digest",
            field="Signature-Input",
        )
    key_id, created, alg = (item.params.get(k) for k in ("keyid", "created", "alg"))
    if not isinstance(key_id, str) or not key_id:
        raise SignatureError("Signature-Input: keyid is required", field="Signature-Input")
    if not isinstance(created, int):
        raise SignatureError("Signature-Input: created is required", field="Signature-Input")
    _check_time(float(created), now, max_skew, "the signature's created time")
    expires = item.params.get("expires")
    if isinstance(expires, int) and expires < now:
        raise SignatureError("the signature has expired", field="Signature-Input")
    base = "".join(
        f'"{name}": {_component(name, method, target, headers, target_scheme)}\n'
        for name in covered
    )
    base += f'"@signature-params": {serialize_inner_list(item)}'
    pem = await fetch(key_id)
    check_signature(pem, alg if isinstance(alg, str) else None, signature, base.encode())
    return VerifiedSignature(key_id, key_id.partition("#")[0], "rfc9421", float(created))


async def verify_request(
    method: str,
    path_with_query: str,
    headers: Mapping[str, str],
    body: bytes,
    fetch_public_key: KeyFetcher,
    *,
    now: float | None = None,
    max_skew: float = DEFAULT_MAX_SKEW,
    target_scheme: str = "https",
) -> VerifiedSignature:
    """Verify the request's signature (RFC 9421 when ``Signature-Input`` is present).

    Args:
        method: the request method.
        path_with_query: the request target as received (``/inbox?x=1``).
        headers: the request headers (any case).
        body: the request body (``b""`` when none).
        fetch_public_key: the signer's public key PEM by key id.
        now: the current unix time (tests).
        max_skew: how far the signature's time may be from ``now``, seconds.
        target_scheme: the scheme the signer addressed (``@target-uri``).

    Raises:
        SignatureError: unsigned, malformed, not covering what it must, stale, a
            digest mismatch, or a signature that does not verify.
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    for name in ("signature", "signature-input", "authorization"):
        if len(lowered.get(name, "")) > _MAX_SIGNATURE_HEADER:
            raise SignatureError(f"{name} header longer than {_MAX_SIGNATURE_HEADER} bytes")
    current = time.time() if now is None else now
    if "signature-input" in lowered:
        return await _verify_rfc9421(
            method,
            path_with_query,
            lowered,
            body,
            fetch_public_key,
            current,
            max_skew,
            target_scheme,
        )
    return await _verify_cavage(
        method, path_with_query, lowered, body, fetch_public_key, current, max_skew
    )
