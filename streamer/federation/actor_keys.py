"""The RSA key pair of this L1's ActivityPub actor, made on first start.

The private key lives in ``ARTDAG_DATA_DIR/actor.key`` (PKCS#8 PEM, mode
0600), beside ``cluster.key``, so the server and its workers (which sign
deliveries) share one key. Like ``cluster.key`` it is written in full under a
temporary name and then linked into place: processes starting together all end
up with the one key that won the race, never with a half-written file.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from streamer.errors import Unavailable

if TYPE_CHECKING:
    from streamer.settings import Settings

__all__ = [
    "ACTOR_KEY_FILE",
    "ACTOR_PATH",
    "ActorKeys",
    "actor_url",
    "keys_from_pem",
    "load_or_create_actor_keys",
]

ACTOR_KEY_FILE = "actor.key"
#: Where the actor document is served (relative to ``L1_PUBLIC_URL``).
ACTOR_PATH = "/actor"
_KEY_BITS = 2048


@dataclass(frozen=True)
class ActorKeys:
    """The actor's key pair.

    Attributes:
        key_id: the public key's id: the actor URL + ``#main-key``.
        private_key: the RSA private key (signs outgoing requests).
        public_pem: the public key, SubjectPublicKeyInfo PEM (the actor document's
            ``publicKey.publicKeyPem``).
    """

    key_id: str
    private_key: rsa.RSAPrivateKey
    public_pem: str

    @property
    def actor(self) -> str:
        """The actor URL (``key_id`` without its fragment)."""
        return self.key_id.partition("#")[0]


def actor_url(public_url: str) -> str:
    """The actor's id for a server reachable at ``public_url``."""
    return public_url.rstrip("/") + ACTOR_PATH


def keys_from_pem(private_pem: bytes, actor: str) -> ActorKeys:
    """Build :class:`ActorKeys` from a PEM private key (PKCS#8 or PKCS#1) for ``actor``.

    Raises:
        ValueError: not an RSA private key PEM.
    """
    key = serialization.load_pem_private_key(private_pem, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("the actor key is not an RSA private key")
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return ActorKeys(key_id=f"{actor}#main-key", private_key=key, public_pem=public_pem)


def load_or_create_actor_keys(settings: Settings) -> ActorKeys:
    """The actor keys of ``settings``' data folder, made (RSA 2048) when there are none.

    Blocking file I/O and key generation: async callers run this in a thread.

    Raises:
        Unavailable: the key file exists but is not an RSA private key.
    """
    path = Path(settings.storage.data_dir) / ACTOR_KEY_FILE
    actor = actor_url(settings.server.public_url)
    try:
        return _read(path, actor)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=_KEY_BITS)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    # written in full under a temporary name, then linked: the loser of a race
    # between processes reads the winner's whole key
    tmp = path.with_name(f".{ACTOR_KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
        os.link(tmp, path)
    except FileExistsError:
        return _read(path, actor)
    finally:
        tmp.unlink(missing_ok=True)
    return keys_from_pem(pem, actor)


def _read(path: Path, actor: str) -> ActorKeys:
    data = path.read_bytes()
    try:
        return keys_from_pem(data, actor)
    except ValueError as exc:
        raise Unavailable(f"{path}: not a usable actor key ({exc})") from None
