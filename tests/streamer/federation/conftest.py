"""Fixtures of the federation unit tests: key pairs made once per session."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from streamer.federation.actor_keys import ActorKeys, keys_from_pem


def _keys(actor: str) -> ActorKeys:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return keys_from_pem(pem, actor)


@pytest.fixture(scope="session")
def peer_keys() -> ActorKeys:
    """A signer's keys (``https://peer.example/actor#main-key``)."""
    return _keys("https://peer.example/actor")


@pytest.fixture(scope="session")
def other_keys() -> ActorKeys:
    """Another actor's keys (a signature made with them must not pass as the peer's)."""
    return _keys("https://other.example/actor")
