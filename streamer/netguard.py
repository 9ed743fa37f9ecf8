"""Which network addresses the server may be pointed at (storage, IPFS API, L2).

A URL a user configures (a storage provider's endpoint, ``IPFS_API``,
``L2_SERVER``, ``S3_ENDPOINT_URL``) must not aim the server at link-local
addresses (169.254.0.0/16, fe80::/10, where cloud metadata services answer),
other metadata endpoints, or private ranges (10/8, 172.16/12, 192.168/16,
fc00::/7, ...) unless ``ARTDAG_ALLOW_PRIVATE_ENDPOINTS`` allows them (a
compose deployment whose services sit on a private network does). Loopback
stays allowed for them: the embedded services and a local IPFS node live
there. Federation peers (``L2_SERVER``, actors whose keys are fetched, inboxes
delivered to) are checked with ``allow_loopback=False``: a loopback peer is
allowed only with ``ARTDAG_ALLOW_PRIVATE_ENDPOINTS`` too.

Checks happen before any connection: a literal address is judged as is, a
host name by what it resolves to now (a name that does not resolve is left to
fail at connection time). :class:`GuardedResolver` repeats the check at every
connection of an aiohttp session, so neither a redirect nor a changed DNS
answer reaches a refused address.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

__all__ = [
    "GuardedResolver",
    "RefusedAddress",
    "check_host",
    "refusal",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

#: Addresses that are never a storage or federation peer, whatever the setting says.
_METADATA = frozenset(
    {
        ipaddress.ip_address("169.254.169.254"),  # AWS, GCP, Azure, OpenStack
        ipaddress.ip_address("169.254.170.2"),  # ECS task metadata
        ipaddress.ip_address("fd00:ec2::254"),  # AWS IPv6 metadata
        ipaddress.ip_address("100.100.100.200"),  # Alibaba Cloud
    }
)
_METADATA_NAMES = frozenset({"metadata.google.internal", "metadata"})


class RefusedAddress(ValueError):
    """A configured endpoint points at an address the server must not reach."""


def refusal(address: IPAddress, *, allow_private: bool, allow_loopback: bool = True) -> str | None:
    """Why ``address`` is refused (None when allowed).

    Args:
        address: the address.
        allow_private: private and link-local ranges are allowed.
        allow_loopback: loopback is allowed (False for federation peers: then only
            with ``allow_private``).
    """
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address in _METADATA:
        return "a cloud metadata address"
    if address.is_loopback:
        return None if allow_loopback or allow_private else "a loopback address"
    if address.is_link_local:
        return None if allow_private else "a link-local address"
    if address.is_multicast or address.is_unspecified or address.is_reserved:
        return "not a unicast host address"
    if address.is_private or address in ipaddress.ip_network("100.64.0.0/10"):
        return None if allow_private else "a private-network address"
    return None


def _addresses(host: str) -> Iterable[IPAddress]:
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return []  # not resolvable now: the connection will fail on its own
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]


def check_host(host: str, *, allow_private: bool, allow_loopback: bool = True) -> None:
    """Refuse ``host`` (a name or literal address) when it reaches a refused address.

    ``allow_loopback=False`` (federation peers) refuses loopback unless ``allow_private``.

    Raises:
        RefusedAddress: naming the address and why, and the setting that allows it.
    """
    if host.lower().rstrip(".") in _METADATA_NAMES:
        raise RefusedAddress(f"{host} is a cloud metadata service")
    for address in _addresses(host):
        why = refusal(address, allow_private=allow_private, allow_loopback=allow_loopback)
        if why is not None:
            hint = "" if "metadata" in why else " (ARTDAG_ALLOW_PRIVATE_ENDPOINTS=true allows it)"
            shown = host if host == str(address) else f"{host} ({address})"
            raise RefusedAddress(f"{shown} is {why}{hint}")


class GuardedResolver(AbstractResolver):
    """An aiohttp resolver that refuses every answer :func:`refusal` refuses.

    Used as ``aiohttp.TCPConnector(resolver=GuardedResolver(...))`` so that each
    connection, redirects included, is checked where it is made.
    """

    def __init__(self, *, allow_private: bool, allow_loopback: bool = True) -> None:
        self._inner = DefaultResolver()
        self._allow_private = allow_private
        self._allow_loopback = allow_loopback

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        """Resolve as usual, then drop nothing: refuse the whole answer if any is refused."""
        if host.lower().rstrip(".") in _METADATA_NAMES:
            raise OSError(f"refused: {host} is a cloud metadata service")
        answers = await self._inner.resolve(host, port, family)
        for answer in answers:
            why = refusal(
                ipaddress.ip_address(answer["host"]),
                allow_private=self._allow_private,
                allow_loopback=self._allow_loopback,
            )
            if why is not None:
                raise OSError(f"refused: {host} ({answer['host']}) is {why}")
        return answers

    async def close(self) -> None:
        """Close the wrapped resolver."""
        await self._inner.close()

    def __repr__(self) -> str:
        return (
            f"GuardedResolver(allow_private={self._allow_private}, "
            f"allow_loopback={self._allow_loopback})"
        )
