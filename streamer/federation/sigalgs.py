"""The signature algorithms of HTTP Signatures: RSA (PKCS#1 v1.5, PSS) and Ed25519.

Names as the cavage draft (``rsa-sha256``, ``hs2019``) and RFC 9421
(``rsa-v1_5-sha256``, ``rsa-pss-sha512``, ``ed25519``) give them; ``hs2019`` and
an absent algorithm mean "what the key allows".
"""

from __future__ import annotations

import base64

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from streamer.federation.actor_keys import ActorKeys
from streamer.federation.errors import SignatureError

__all__ = ["check_signature", "rsa_sign"]


def rsa_sign(keys: ActorKeys, data: bytes) -> str:
    """Base64 of the RSA PKCS#1 v1.5 SHA-256 signature of ``data`` with ``keys``."""
    signature = keys.private_key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode()


def _public_key(pem: str) -> rsa.RSAPublicKey | ed25519.Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(pem.encode())
    except (ValueError, TypeError):
        raise SignatureError("the signer's public key is not a PEM public key") from None
    if not isinstance(key, rsa.RSAPublicKey | ed25519.Ed25519PublicKey):
        raise SignatureError("the signer's key is neither RSA nor Ed25519")
    return key


_RSA_PKCS1_SHA256 = (padding.PKCS1v15(), hashes.SHA256())
_RSA_PSS_SHA512 = (padding.PSS(mgf=padding.MGF1(hashes.SHA512()), salt_length=64), hashes.SHA512())
#: algorithm name -> RSA paddings to try (hs2019 / no alg: what the key allows)
_RSA_ALGS: dict[str | None, tuple[tuple[padding.AsymmetricPadding, hashes.HashAlgorithm], ...]] = {
    "rsa-sha256": (_RSA_PKCS1_SHA256,),
    "rsa-v1_5-sha256": (_RSA_PKCS1_SHA256,),
    "rsa-pss-sha512": (_RSA_PSS_SHA512,),
    "hs2019": (_RSA_PKCS1_SHA256, _RSA_PSS_SHA512),
    None: (_RSA_PKCS1_SHA256, _RSA_PSS_SHA512),
}
_ED_ALGS = frozenset({"ed25519", "hs2019", None})


def check_signature(pem: str, algorithm: str | None, signature: bytes, data: bytes) -> None:
    """Verify ``signature`` over ``data`` with the PEM key under ``algorithm``.

    Raises:
        SignatureError: the key is unusable, the algorithm does not fit it, or
            the signature does not verify.
    """
    key = _public_key(pem)
    if isinstance(key, ed25519.Ed25519PublicKey):
        if algorithm not in _ED_ALGS:
            raise SignatureError(f"algorithm {algorithm!r} does not fit an Ed25519 key")
        try:
            key.verify(signature, data)
        except InvalidSignature:
            raise SignatureError("the signature does not verify") from None
        return
    if algorithm not in _RSA_ALGS:
        raise SignatureError(f"unsupported signature algorithm {algorithm!r}")
    for pad, digest in _RSA_ALGS[algorithm]:
        try:
            key.verify(signature, data, pad, digest)
            return
        except InvalidSignature:
            continue
    raise SignatureError("the signature does not verify")
