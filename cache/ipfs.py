"""IPFS storage over the Kubo RPC API (``/api/v0``), through an injected aioipfs client.

The requests go through the client's own aiohttp session and URL building but
are made here, so that every failure is mapped to a :class:`StorageError`
(aioipfs itself swallows connection errors into ``None`` and its ``add(path)``
breaks with aiohttp >= 3.12). Works with Kubo and with js-ipfs; CIDs are
returned normalised (:func:`cache.cid.normalise_cid`) so they compare equal to
locally computed ones. MFS (``files/*``) is not used: js-ipfs answers
``files/rm`` with an empty body that aioipfs cannot parse.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import aioipfs
from yarl import URL

from cache.cid import normalise_cid
from cache.errors import (
    InvalidCIDError,
    NotFoundError,
    StorageError,
    StorageTimeoutError,
    StorageUnavailableError,
)

__all__ = ["IPFSStore", "open_ipfs_client", "parse_api_multiaddr"]

_MULTIADDR = re.compile(
    r"^/(?P<proto>ip4|ip6|dns|dns4|dns6)/(?P<host>[^/]+)/tcp/(?P<port>\d{1,5})(?P<scheme>/https?)?/?$"
)


def parse_api_multiaddr(multiaddr: str) -> tuple[str, str, int]:
    """Split an API multiaddr such as ``/dns/ipfs/tcp/5001`` into (scheme, host, port).

    Raises:
        ValueError: The text is not ``/ip4|ip6|dns|dns4|dns6/HOST/tcp/PORT[/http|/https]``.
    """
    m = _MULTIADDR.match(multiaddr.strip())
    if not m or not 0 < int(m["port"]) < 65536:
        raise ValueError(
            f"IPFS API address {multiaddr!r} is not a multiaddr like /ip4/127.0.0.1/tcp/5001 "
            "or /dns/HOST/tcp/5001"
        )
    scheme = "https" if m["scheme"] == "/https" else "http"
    return scheme, m["host"], int(m["port"])


def open_ipfs_client(multiaddr: str, *, read_timeout: int = 0) -> aioipfs.AsyncIPFS:
    """An aioipfs client for the API at ``multiaddr``; call inside a running loop, close with ``await client.close()``."""
    scheme, host, port = parse_api_multiaddr(multiaddr)
    return aioipfs.AsyncIPFS(host=host, port=port, scheme=scheme, read_timeout=read_timeout)


class IPFSStore:
    """Add, fetch and pin content on an IPFS node.

    Args:
        client: An open ``aioipfs.AsyncIPFS`` (owned by the caller).
        timeout: Seconds for a whole request (add, pin, ...); for reads, the
            longest wait between two pieces of data. A CID no reachable node
            has never answers, so this bounds ``cat`` of unknown content.
    """

    def __init__(self, client: aioipfs.AsyncIPFS, *, timeout: float = 60.0):
        self.client = client
        self.timeout = timeout

    def _url(self, endpoint: str) -> URL:
        url: URL = self.client.api_endpoint(endpoint)  # aioipfs is untyped
        return url

    async def _call(
        self,
        endpoint: str,
        params: dict[str, str] | None = None,
        *,
        data: Any = None,
        subject: str = "",
    ) -> bytes:
        """POST to ``/api/v0/<endpoint>`` and return the body, mapping every failure."""
        timeout = aiohttp.ClientTimeout(total=self.timeout)
        try:
            async with self.client.session.post(
                self._url(endpoint),
                params=params or {},
                data=data,
                timeout=timeout,
                auth=self.client.auth,
            ) as resp:
                body: bytes = await resp.read()
                if resp.status >= 400:
                    raise self._error(endpoint, resp.status, body, subject)
                return body
        except StorageError:
            raise
        except TimeoutError as exc:
            raise StorageTimeoutError(
                f"IPFS {endpoint} {subject}: no answer within {self.timeout}s"
            ) from exc
        except (aiohttp.ClientConnectionError, OSError) as exc:
            raise StorageUnavailableError(
                f"IPFS node at {self.client.api_url} unreachable ({endpoint}): {exc}"
            ) from exc
        except aiohttp.ClientError as exc:
            raise StorageError(f"IPFS {endpoint} {subject}: {exc}") from exc

    @staticmethod
    def _error(endpoint: str, status: int, body: bytes, subject: str) -> StorageError:
        try:
            message = str(json.loads(body)["Message"])
        except (ValueError, KeyError, TypeError):
            message = body.decode(errors="replace").strip()[:300] or f"HTTP {status}"
        text = f"IPFS {endpoint} {subject}: {message}".replace("  ", " ")
        low = message.lower()
        if status == 404 and not message:
            return StorageError(f"IPFS endpoint {endpoint} is not available on this node")
        if "not pinned" in low or "not found" in low or "no link named" in low:
            return NotFoundError(text)
        if "invalid" in low and ("cid" in low or "path" in low or "multihash" in low):
            return InvalidCIDError(text)
        return StorageError(text)

    async def add_bytes(
        self, data: bytes, *, pin: bool = True, cid_version: int = 0, only_hash: bool = False
    ) -> str:
        """Add ``data`` as one file (default ``ipfs add`` settings) and return its CID.

        CIDv1 uses raw leaves, as ``ipfs add --cid-version=1`` does.
        """
        if cid_version not in (0, 1):
            raise ValueError(f"cid_version must be 0 or 1, got {cid_version!r}")
        form = aiohttp.FormData()
        form.add_field("file", data, filename="file", content_type="application/octet-stream")
        params = {
            "pin": str(pin).lower(),
            "cid-version": str(cid_version),
            "raw-leaves": str(cid_version == 1).lower(),
            "only-hash": str(only_hash).lower(),
            "progress": "false",
        }
        body = await self._call("add", params, data=form, subject=f"({len(data)} bytes)")
        cid = None
        for line in body.splitlines():
            if line.strip():
                entry = json.loads(line)
                cid = entry.get("Hash") or cid
        if not cid:
            raise StorageError(f"IPFS add: the node answered without a CID: {body[:200]!r}")
        return normalise_cid(cid)

    async def cat(self, cid: str) -> bytes:
        """The whole content of ``cid``."""
        return await self._call("cat", {"arg": cid}, subject=cid)

    async def stream(self, cid: str, *, chunk_size: int = 1 << 16) -> AsyncIterator[bytes]:
        """The content of ``cid`` in pieces, as the node sends it."""
        timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=self.timeout, sock_read=self.timeout
        )
        try:
            async with self.client.session.post(
                self._url("cat"), params={"arg": cid}, timeout=timeout, auth=self.client.auth
            ) as resp:
                if resp.status >= 400:
                    raise self._error("cat", resp.status, await resp.read(), cid)
                async for piece in resp.content.iter_chunked(chunk_size):
                    yield piece
        except StorageError:
            raise
        except TimeoutError as exc:
            raise StorageTimeoutError(f"IPFS cat {cid}: no data within {self.timeout}s") from exc
        except (aiohttp.ClientConnectionError, OSError) as exc:
            raise StorageUnavailableError(
                f"IPFS node at {self.client.api_url} unreachable (cat): {exc}"
            ) from exc
        except aiohttp.ClientError as exc:
            raise StorageError(f"IPFS cat {cid}: {exc}") from exc

    async def pin(self, cid: str) -> None:
        """Pin ``cid`` recursively."""
        await self._call("pin/add", {"arg": cid, "recursive": "true"}, subject=cid)

    async def unpin(self, cid: str) -> bool:
        """Unpin ``cid``; returns False if it was not pinned."""
        try:
            await self._call("pin/rm", {"arg": cid, "recursive": "true"}, subject=cid)
        except NotFoundError:
            return False
        return True

    async def is_pinned(self, cid: str) -> bool:
        """Whether ``cid`` is pinned (directly, recursively or through a parent)."""
        try:
            body = await self._call("pin/ls", {"arg": cid, "type": "all"}, subject=cid)
        except NotFoundError:
            return False
        keys = json.loads(body).get("Keys") or {}
        wanted = normalise_cid(cid)
        return any(normalise_cid(k) == wanted for k in keys)

    async def ping(self) -> dict[str, Any]:
        """Node identity (``ID``, ``AgentVersion``...); raises if the node is unreachable."""
        info = json.loads(await self._call("id"))
        if not isinstance(info, dict) or "ID" not in info:
            raise StorageError(f"IPFS id: unexpected answer {info!r:.200}")
        return info
