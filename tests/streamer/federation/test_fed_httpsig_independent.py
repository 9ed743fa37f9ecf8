"""Our HTTP Signatures against independent implementations, in both directions.

- RFC 9421: ``http-message-signatures`` (its own structured-field parser and
  signature base) verifies what we sign and signs what we verify.
- cavage draft: ``pyhttpsig`` (RSA through pycryptodome, not ``cryptography``)
  likewise.
"""

from __future__ import annotations

import email.utils
from typing import Any

import httpsig
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from http_message_signatures import (
    HTTPMessageSigner,
    HTTPMessageVerifier,
    InvalidSignature,
    algorithms,
)
from http_message_signatures.resolvers import MappingKeyResolver

from streamer.federation.actor_keys import ActorKeys
from streamer.federation.errors import SignatureError
from streamer.federation.httpsig import sign_request, verify_request

URL = "https://l1.example/users/inbox?page=2"
BODY = b'{"@context": "https://www.w3.org/ns/activitystreams", "type": "Follow"}'


def _prepared(method: str, url: str, headers: dict[str, str], body: bytes | None) -> Any:
    return requests.Request(method, url, headers=headers, data=body).prepare()


def _private_pem(keys: ActorKeys) -> bytes:
    return keys.private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _verifier(keys: ActorKeys) -> HTTPMessageVerifier:
    resolver = MappingKeyResolver(
        public_keys={keys.key_id: keys.private_key.public_key()}, private_keys={}
    )
    return HTTPMessageVerifier(
        signature_algorithm=algorithms.RSA_V1_5_SHA256, key_resolver=resolver
    )


def test_rfc9421_ours_verified_by_http_message_signatures(peer_keys: ActorKeys) -> None:
    headers = sign_request("POST", URL, BODY, peer_keys, scheme="rfc9421")
    results = _verifier(peer_keys).verify(
        _prepared("POST", URL, headers, BODY),
        require_components=("@method", "@authority", "@path", "@query", "content-digest"),
        body=BODY,
    )
    assert [r.parameters["keyid"] for r in results] == [peer_keys.key_id]
    assert results[0].body == BODY  # its own Content-Digest check passed
    # and it refuses a changed body or target
    with pytest.raises(InvalidSignature):
        _verifier(peer_keys).verify(_prepared("POST", URL, headers, b"{}"), body=b"{}")
    with pytest.raises(InvalidSignature):
        _verifier(peer_keys).verify(
            _prepared("POST", URL.replace("page=2", "page=3"), headers, BODY), body=BODY
        )


async def test_rfc9421_theirs_verified_by_us(peer_keys: ActorKeys) -> None:
    headers = {
        "Host": "l1.example",
        "Content-Type": "application/activity+json",
    }
    request = _prepared("POST", URL, headers, BODY)
    signer = HTTPMessageSigner(
        signature_algorithm=algorithms.RSA_V1_5_SHA256,
        key_resolver=MappingKeyResolver(
            public_keys={}, private_keys={peer_keys.key_id: peer_keys.private_key}
        ),
    )
    signer.sign(
        request,
        key_id=peer_keys.key_id,
        covered_component_ids=("@method", "@target-uri", "content-type", "content-digest"),
        body=BODY,
    )
    sent = dict(request.headers)
    assert "Content-Digest" in sent and "Signature-Input" in sent

    async def fetch(key_id: str) -> str:
        assert key_id == peer_keys.key_id
        return peer_keys.public_pem

    verified = await verify_request("POST", "/users/inbox?page=2", sent, BODY, fetch)
    assert verified.scheme == "rfc9421" and verified.key_id == peer_keys.key_id
    with pytest.raises(SignatureError):
        await verify_request("POST", "/users/inbox?page=2", sent, BODY + b" ", fetch)
    with pytest.raises(SignatureError, match="does not verify"):
        await verify_request("POST", "/users/inbox?page=2", sent, BODY, fetch, target_scheme="http")


def test_cavage_ours_verified_by_pyhttpsig(peer_keys: ActorKeys) -> None:
    headers = sign_request("POST", URL, BODY, peer_keys)
    checker = httpsig.HeaderVerifier(
        headers,
        peer_keys.public_pem,
        required_headers=["(request-target)", "host", "date", "digest"],
        method="POST",
        path="/users/inbox?page=2",
        sign_header="signature",
    )
    assert checker.verify() is True
    tampered = httpsig.HeaderVerifier(
        {**headers, "Host": "evil.example"},
        peer_keys.public_pem,
        method="POST",
        path="/users/inbox?page=2",
        sign_header="signature",
    )
    assert tampered.verify() is False


async def test_cavage_theirs_verified_by_us(peer_keys: ActorKeys) -> None:
    digest = sign_request("POST", URL, BODY, peer_keys)["Digest"]  # the digest alone
    headers = {
        "Host": "l1.example",
        "Date": email.utils.formatdate(usegmt=True),
        "Digest": digest,
    }
    signer = httpsig.HeaderSigner(
        peer_keys.key_id,
        _private_pem(peer_keys),
        algorithm="rsa-sha256",
        headers=["(request-target)", "host", "date", "digest"],
        sign_header="signature",
    )
    signed = dict(signer.sign(headers, method="POST", path="/users/inbox?page=2"))

    async def fetch(key_id: str) -> str:
        return peer_keys.public_pem

    verified = await verify_request("POST", "/users/inbox?page=2", signed, BODY, fetch)
    assert verified.scheme == "cavage" and verified.actor == "https://peer.example/actor"
    with pytest.raises(SignatureError, match="does not verify"):
        await verify_request("POST", "/users/inbox?page=3", signed, BODY, fetch)
