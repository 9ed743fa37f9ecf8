"""Storage provider types, the config each takes, and its validation.

Config per type (validated, with the field at fault in errors):

- ``local``: ``path``: an absolute directory below ``ARTDAG_DATA_DIR`` or an
  import root (so a token cannot make the server write anywhere).
- ``ipfs``: ``api``: an API multiaddr (``/ip4/127.0.0.1/tcp/5001``).
- ``s3``: ``bucket``, optional ``endpoint_url``, ``region``, ``prefix``,
  ``access_key_id``, ``secret_access_key`` (never shown: :data:`SECRET` stands in).

:func:`open_backend` opens the :mod:`cache.providers` backend of a stored config.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any, Literal, get_args
from urllib.parse import urlsplit

from cache.ipfs import IPFSStore, open_ipfs_client, parse_api_multiaddr
from cache.local import LocalStore
from cache.providers import IPFSBackend, LocalBackend, S3Backend, StorageBackend
from cache.s3 import S3Store, open_s3_client
from streamer.errors import Denied, InvalidValue
from streamer.netguard import RefusedAddress, check_host

__all__ = [
    "CONFIG_VALUE_MAX",
    "NAME_PATTERN",
    "PROVIDER_KINDS",
    "PROVIDER_TYPES",
    "SECRET",
    "TEST_TIMEOUT",
    "ProviderKind",
    "check_name",
    "open_backend",
    "validate_config",
]

ProviderKind = Literal["local", "ipfs", "s3"]
#: The provider types, in the order :data:`PROVIDER_TYPES` lists them.
PROVIDER_KINDS: tuple[ProviderKind, ...] = get_args(ProviderKind)
TEST_TIMEOUT = 20.0
#: What a stored secret is shown as; given back in an update, it keeps the stored one.
SECRET = "***"
CONFIG_VALUE_MAX = 1000
#: A provider name, surrounding white space aside (it is stripped): 1-63 letters,
#: digits, spaces, ``_ . -``, starting with a letter or digit, not ending with a space.
NAME_PATTERN = r"^\s*[A-Za-z0-9](?:[A-Za-z0-9 _.-]{0,61}[A-Za-z0-9_.-])?\s*$"
_NAME_RE = re.compile(NAME_PATTERN)
_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")

#: type (one of :data:`ProviderKind`) -> field -> (required, description)
PROVIDER_TYPES: dict[str, dict[str, tuple[bool, str]]] = {
    "local": {"path": (True, "absolute directory below ARTDAG_DATA_DIR or an import root")},
    "ipfs": {"api": (True, "IPFS API multiaddr, e.g. /ip4/127.0.0.1/tcp/5001")},
    "s3": {
        "bucket": (True, "bucket name"),
        "endpoint_url": (False, "endpoint URL (MinIO, moto...); empty for AWS"),
        "region": (False, "region (default us-east-1)"),
        "prefix": (False, "key prefix inside the bucket"),
        "access_key_id": (False, "access key id"),
        "secret_access_key": (False, "secret key (write-only)"),
    },
}


def check_name(value: Any) -> str:
    """A provider name, stripped.

    Raises:
        InvalidValue: it does not match :data:`NAME_PATTERN`.
    """
    if not isinstance(value, str) or not _NAME_RE.match(value):
        raise InvalidValue(
            "name: 1-63 letters, digits, spaces, _ . - (starting with a letter or digit)",
            field="name",
        )
    return value.strip()


def _kind(kind: Any) -> str:
    if not isinstance(kind, str):
        raise InvalidValue("type: expected one of " + ", ".join(PROVIDER_TYPES), field="type")
    if kind in PROVIDER_TYPES:
        return kind
    raise InvalidValue(f"type: {kind!r} is not one of {', '.join(PROVIDER_TYPES)}", field="type")


def _fields(kind: str, config: Any) -> dict[str, str]:
    """The type's fields of ``config`` as stripped strings (empty ones left out)."""
    if not isinstance(config, dict):
        raise InvalidValue("config: expected an object", field="config")
    fields = PROVIDER_TYPES[kind]
    unknown = sorted(set(config) - set(fields))
    if unknown:
        raise InvalidValue(
            f"config.{unknown[0]}: not a {kind} field (accepted: {', '.join(fields)})",
            field=f"config.{unknown[0]}",
        )
    out: dict[str, str] = {}
    for name, (required, _) in fields.items():
        value = config.get(name)
        where = f"config.{name}"
        if value in (None, ""):
            if required:
                raise InvalidValue(f"{where}: required for {kind}", field=where)
            continue
        if not isinstance(value, str) or len(value) > CONFIG_VALUE_MAX:
            raise InvalidValue(f"{where}: expected a string", field=where)
        if "\x00" in value:  # os.path and PostgreSQL both refuse it
            raise InvalidValue(f"{where}: contains a NUL byte", field=where)
        out[name] = value.strip()
    return out


def _check_local(out: Mapping[str, str], allowed_roots: tuple[Path, ...]) -> None:
    path = out["path"]
    if not os.path.isabs(path) or ".." in Path(path).parts:
        raise InvalidValue(
            "config.path: expected an absolute path without '..'", field="config.path"
        )
    real = Path(path).resolve()
    if not any(real.is_relative_to(r.resolve()) for r in allowed_roots):
        raise InvalidValue(
            f"config.path: {path} is not below {', '.join(str(r) for r in allowed_roots)}",
            field="config.path",
        )


def _guard(where: str, host: str, allow_private: bool) -> None:
    """Refuse an endpoint on a link-local, metadata or (unless allowed) private address."""
    try:
        check_host(host, allow_private=allow_private)
    except RefusedAddress as exc:
        raise Denied(f"{where}: {exc}", field=where) from None


def _check_ipfs(out: Mapping[str, str], allow_private: bool) -> None:
    try:
        parse_api_multiaddr(out["api"])
    except ValueError as exc:
        raise InvalidValue(f"config.api: {exc}", field="config.api") from None
    host = out["api"].strip("/").split("/")[1]
    _guard("config.api", host, allow_private)


def _check_s3(out: Mapping[str, str], allow_private: bool) -> None:
    if not _BUCKET_RE.match(out["bucket"]):
        raise InvalidValue("config.bucket: 3-63 of a-z 0-9 . -", field="config.bucket")
    endpoint = out.get("endpoint_url")
    if endpoint is not None:
        parts = urlsplit(endpoint)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InvalidValue(
                "config.endpoint_url: expected http(s)://host[:port]",
                field="config.endpoint_url",
            )
        _guard("config.endpoint_url", parts.hostname, allow_private)
    if ("access_key_id" in out) != ("secret_access_key" in out):
        raise InvalidValue(
            "config: give both access_key_id and secret_access_key or neither",
            field="config.secret_access_key",
        )


def validate_config(
    kind: Any, config: Any, *, allowed_roots: tuple[Path, ...], allow_private: bool = False
) -> dict[str, str]:
    """Check a provider config; returns the cleaned config (blocking: resolves paths and names).

    Args:
        kind: the provider type.
        config: its config object.
        allowed_roots: where a local provider may write.
        allow_private: endpoints may be on private networks (ARTDAG_ALLOW_PRIVATE_ENDPOINTS).

    Raises:
        InvalidValue: naming the field (``type``, ``config`` or ``config.<name>``) and why.
        Denied: an endpoint points at a link-local, metadata or private address
            (:mod:`streamer.netguard`); nothing was sent to it.
    """
    known = _kind(kind)
    out = _fields(known, config)
    if known == "local":
        _check_local(out, allowed_roots)
    elif known == "ipfs":
        _check_ipfs(out, allow_private)
    else:
        _check_s3(out, allow_private)
    return out


@contextlib.asynccontextmanager
async def open_backend(
    kind: str, name: str, config: Mapping[str, Any]
) -> AsyncIterator[StorageBackend]:
    """A backend for a stored provider, with its client closed on exit."""
    if kind == "local":
        store = await asyncio.to_thread(LocalStore, config["path"])
        yield LocalBackend(store, name)
    elif kind == "ipfs":
        client = open_ipfs_client(config["api"])
        try:
            yield IPFSBackend(IPFSStore(client), name)
        finally:
            await client.close()
    else:
        import aiobotocore.session

        keys = None
        if config.get("access_key_id"):
            keys = (config["access_key_id"], config["secret_access_key"])
        async with open_s3_client(
            aiobotocore.session.get_session(),
            config.get("endpoint_url"),
            config.get("region") or "us-east-1",
            keys,
            timeout=TEST_TIMEOUT,
        ) as client:
            yield S3Backend(
                S3Store(client, config["bucket"]), name, prefix=config.get("prefix", "")
            )
