"""HTTP Signatures: our signer against our verifier, tampering refused."""

from __future__ import annotations

import base64
import hashlib
import time

import pytest

from streamer.federation.actor_keys import ActorKeys
from streamer.federation.errors import SignatureError
from streamer.federation.httpsig import KeyFetcher, Scheme, sign_request, verify_request
from streamer.federation.sfv import Item, parse_dictionary, serialize_inner_list

URL = "https://l1.example/inbox?page=2"
TARGET = "/inbox?page=2"
BODY = b'{"type": "Follow"}'
NOW = 1_800_000_000.0


def fetcher(*keys: ActorKeys) -> KeyFetcher:
    known = {k.key_id: k.public_pem for k in keys}

    async def fetch(key_id: str) -> str:
        if key_id not in known:
            raise SignatureError(f"unknown key {key_id}")
        return known[key_id]

    return fetch


@pytest.mark.parametrize("scheme", ["cavage", "rfc9421"])
async def test_roundtrip(peer_keys: ActorKeys, scheme: Scheme) -> None:
    headers = sign_request("POST", URL, BODY, peer_keys, now=NOW, scheme=scheme)
    assert headers["Host"] == "l1.example"
    assert (
        headers["Digest"] == "SHA-256=" + base64.b64encode(hashlib.sha256(BODY).digest()).decode()
    )
    verified = await verify_request("POST", TARGET, headers, BODY, fetcher(peer_keys), now=NOW + 10)
    assert verified.key_id == peer_keys.key_id
    assert verified.actor == "https://peer.example/actor"
    assert verified.scheme == scheme
    assert verified.signed_at == NOW


@pytest.mark.parametrize("scheme", ["cavage", "rfc9421"])
async def test_get_without_body(peer_keys: ActorKeys, scheme: Scheme) -> None:
    headers = sign_request(
        "GET", "https://l1.example/actor", None, peer_keys, now=NOW, scheme=scheme
    )
    assert "Digest" not in headers
    verified = await verify_request("GET", "/actor", headers, b"", fetcher(peer_keys), now=NOW)
    assert verified.scheme == scheme
    # a body smuggled into a request whose signature sealed none is refused
    with pytest.raises(SignatureError, match="Digest"):
        await verify_request("GET", "/actor", headers, b"x", fetcher(peer_keys), now=NOW)


def test_cavage_header_shape(peer_keys: ActorKeys) -> None:
    headers = sign_request("POST", URL, BODY, peer_keys, now=NOW)
    signature = headers["Signature"]
    assert f'keyId="{peer_keys.key_id}"' in signature
    assert 'algorithm="rsa-sha256"' in signature
    assert 'headers="(request-target) host date digest"' in signature
    assert headers["Date"] == "Fri, 15 Jan 2027 08:00:00 GMT"


def test_rfc9421_header_shape(peer_keys: ActorKeys) -> None:
    headers = sign_request("POST", URL, BODY, peer_keys, now=NOW, scheme="rfc9421")
    inputs = parse_dictionary(headers["Signature-Input"])
    item = inputs["sig1"]
    assert [m.value for m in item.value] == [  # type: ignore[union-attr]
        "@method",
        "@authority",
        "@path",
        "@query",
        "content-digest",
    ]
    assert item.params == {
        "created": int(NOW),
        "keyid": peer_keys.key_id,
        "alg": "rsa-v1_5-sha256",
    }
    assert headers["Content-Digest"].startswith("sha-256=:")
    assert isinstance(parse_dictionary(headers["Signature"])["sig1"].value, bytes)


@pytest.mark.parametrize("scheme", ["cavage", "rfc9421"])
async def test_tampering_is_refused(peer_keys: ActorKeys, scheme: Scheme) -> None:
    headers = sign_request("POST", URL, BODY, peer_keys, now=NOW, scheme=scheme)
    fetch = fetcher(peer_keys)
    cases: list[tuple[str, dict[str, str], bytes, str]] = [
        ("another body", headers, b'{"type": "Delete"}', "digest"),
        ("another path", headers, BODY, "does not verify"),
        ("another host", {**headers, "Host": "evil.example"}, BODY, "does not verify"),
        ("no digest", {k: v for k, v in headers.items() if "igest" not in k}, BODY, "Digest"),
    ]
    if scheme == "cavage":
        later = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(NOW + 1))
        cases.append(("another date", {**headers, "Date": later}, BODY, "does not verify"))
    for name, sent, body, why in cases:
        target = "/outbox" if name == "another path" else TARGET
        with pytest.raises(SignatureError, match=why):
            await verify_request("POST", target, sent, body, fetch, now=NOW)


@pytest.mark.parametrize("scheme", ["cavage", "rfc9421"])
async def test_digest_matching_a_forged_body_is_refused(
    peer_keys: ActorKeys, scheme: Scheme
) -> None:
    """A new body with a recomputed digest: the digest matches, the signature does not."""
    headers = sign_request("POST", URL, BODY, peer_keys, now=NOW, scheme=scheme)
    forged = b'{"type": "Delete"}'
    other = sign_request("POST", URL, forged, peer_keys, now=NOW, scheme=scheme)
    sent = {**headers, "Digest": other["Digest"]}
    if "Content-Digest" in headers:
        sent["Content-Digest"] = other["Content-Digest"]
    with pytest.raises(SignatureError, match="does not verify"):
        await verify_request("POST", TARGET, sent, forged, fetcher(peer_keys), now=NOW)


@pytest.mark.parametrize("scheme", ["cavage", "rfc9421"])
async def test_clock_skew(peer_keys: ActorKeys, scheme: Scheme) -> None:
    headers = sign_request("POST", URL, BODY, peer_keys, now=NOW, scheme=scheme)
    fetch = fetcher(peer_keys)
    await verify_request("POST", TARGET, headers, BODY, fetch, now=NOW + 299)
    for now in (NOW + 301, NOW - 301):
        with pytest.raises(SignatureError, match="clock"):
            await verify_request("POST", TARGET, headers, BODY, fetch, now=now)
    with pytest.raises(SignatureError, match="clock"):
        await verify_request("POST", TARGET, headers, BODY, fetch, now=NOW + 31, max_skew=30)


async def test_another_key_is_refused(peer_keys: ActorKeys, other_keys: ActorKeys) -> None:
    """A signature made with another key under the peer's key id does not verify."""
    impostor = ActorKeys(peer_keys.key_id, other_keys.private_key, other_keys.public_pem)
    schemes: tuple[Scheme, ...] = ("cavage", "rfc9421")
    for scheme in schemes:
        headers = sign_request("POST", URL, BODY, impostor, now=NOW, scheme=scheme)
        with pytest.raises(SignatureError, match="does not verify"):
            await verify_request("POST", TARGET, headers, BODY, fetcher(peer_keys), now=NOW)


async def test_unsigned_and_malformed(peer_keys: ActorKeys) -> None:
    fetch = fetcher(peer_keys)
    good = sign_request("POST", URL, BODY, peer_keys, now=NOW)
    bad: list[tuple[dict[str, str], str]] = [
        ({"Host": "l1.example"}, "not signed"),
        ({**good, "Signature": "garbage"}, 'name="value"'),
        ({**good, "Signature": 'keyId="x"'}, "required"),
        ({**good, "Signature": good["Signature"].replace("(request-target) ", "")}, "cover"),
        ({**good, "Signature": good["Signature"].replace(" digest", "")}, "cover"),
        ({**good, "Signature": good["Signature"].replace('signature="', 'signature="!')}, "base64"),
        ({**good, "Signature": good["Signature"] + ",expires=12"}, "expired"),
        (
            {**good, "Signature": good["Signature"].replace("rsa-sha256", "hmac-sha256")},
            "algorithm",
        ),
        ({**good, "Date": "yesterday"}, "Date"),
        ({**good, "Digest": "SHA-256=%%%"}, "base64"),
        ({**good, "Digest": "MD5=AAAA"}, "SHA-256"),
        ({**good, "Signature": "x" * 9000}, "longer"),
        ({**good, "Signature-Input": "sig1=(", "Signature": "sig1=:AA==:"}, "Signature-Input"),
        (
            {**good, "Signature-Input": 'sig1=("@method");created=1', "Signature": "sig2=:AA==:"},
            "label",
        ),
    ]
    for headers, why in bad:
        with pytest.raises(SignatureError, match=why):
            await verify_request("POST", TARGET, headers, BODY, fetch, now=NOW)


async def test_rfc9421_needs_created_and_coverage(peer_keys: ActorKeys) -> None:
    good = sign_request("POST", URL, BODY, peer_keys, now=NOW, scheme="rfc9421")
    fetch = fetcher(peer_keys)
    no_created = good["Signature-Input"].replace(f";created={int(NOW)}", "")
    with pytest.raises(SignatureError, match="created"):
        await verify_request(
            "POST", TARGET, {**good, "Signature-Input": no_created}, BODY, fetch, now=NOW
        )
    no_method = good["Signature-Input"].replace('"@method" ', "")
    with pytest.raises(SignatureError, match="cover"):
        await verify_request(
            "POST", TARGET, {**good, "Signature-Input": no_method}, BODY, fetch, now=NOW
        )
    with_params = good["Signature-Input"].replace('"content-digest"', '"content-digest";sf')
    with pytest.raises(SignatureError, match="plain strings"):
        await verify_request(
            "POST", TARGET, {**good, "Signature-Input": with_params}, BODY, fetch, now=NOW
        )


async def test_authorization_signature_carrier(peer_keys: ActorKeys) -> None:
    """The draft's ``Authorization: Signature ...`` carrier is accepted too."""
    headers = sign_request("POST", URL, BODY, peer_keys, now=NOW)
    headers["Authorization"] = "Signature " + headers.pop("Signature")
    verified = await verify_request("POST", TARGET, headers, BODY, fetcher(peer_keys), now=NOW)
    assert verified.key_id == peer_keys.key_id


async def test_default_port_and_case(peer_keys: ActorKeys) -> None:
    headers = sign_request("POST", "https://L1.Example:443/inbox", BODY, peer_keys, now=NOW)
    assert headers["Host"] == "l1.example"
    headers = {k.lower(): v for k, v in headers.items()}
    await verify_request("POST", "/inbox", headers, BODY, fetcher(peer_keys), now=NOW)


def test_sign_refuses_relative_url_and_unknown_scheme(peer_keys: ActorKeys) -> None:
    with pytest.raises(ValueError, match="absolute"):
        sign_request("GET", "/inbox", None, peer_keys)
    with pytest.raises(ValueError, match="scheme"):
        sign_request("GET", "https://a.example/", None, peer_keys, scheme="jws")  # type: ignore[arg-type]


def test_sfv_roundtrip() -> None:
    text = '("@method" "@path" "content-digest");created=1;keyid="a\\"b";alg="x";t=tok;f=?0'
    item = parse_dictionary(f"sig1={text}, sig2=:AAEC:;x=1.5")["sig1"]
    assert serialize_inner_list(item) == text
    assert isinstance(item, Item) and item.params["keyid"] == 'a"b'


async def test_ed25519_hs2019_signer() -> None:
    """A peer with an Ed25519 key signing the cavage way with ``hs2019``."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    key = ed25519.Ed25519PrivateKey.generate()
    pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    date = "Fri, 15 Jan 2027 08:00:00 GMT"
    text = f"(request-target): get /actor\nhost: l1.example\ndate: {date}"
    signature = base64.b64encode(key.sign(text.encode())).decode()
    headers = {
        "Host": "l1.example",
        "Date": date,
        "Signature": f'keyId="https://ed.example/a#k",algorithm="hs2019",'
        f'headers="(request-target) host date",signature="{signature}"',
    }

    async def fetch(key_id: str) -> str:
        return pem

    verified = await verify_request("GET", "/actor", headers, b"", fetch, now=NOW)
    assert verified.actor == "https://ed.example/a"
    bad = {**headers, "Signature": headers["Signature"].replace("hs2019", "rsa-sha256")}
    with pytest.raises(SignatureError, match="Ed25519"):
        await verify_request("GET", "/actor", bad, b"", fetch, now=NOW)
