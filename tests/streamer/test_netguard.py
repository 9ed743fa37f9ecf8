"""Hostile URLs: link-local, metadata and private endpoints are refused before any connection."""

from __future__ import annotations

import dataclasses
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from streamer.auth.l2 import L2VerifyError, verify_with_l2
from streamer.content.provider_config import validate_config
from streamer.errors import Denied
from streamer.federation.actor_keys import load_or_create_actor_keys
from streamer.federation.errors import PeerError
from streamer.federation.peer_http import peer_request
from streamer.netguard import GuardedResolver, RefusedAddress, check_host
from streamer.settings import Settings, SettingsError


@pytest.fixture
def no_redirect_target(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail a connection to anything but loopback (the redirect must not be followed)."""
    real = socket.socket.connect

    def connect(self: socket.socket, address: Any) -> Any:
        if isinstance(address, tuple) and str(address[0]) not in ("127.0.0.1", "::1"):
            raise AssertionError(f"a connection was attempted to {address}")
        return real(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)


@pytest.fixture
def no_connections(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """Fail any outgoing TCP connection attempt made by the code under test."""
    attempts: list[Any] = []
    real = socket.socket.connect

    def connect(self: socket.socket, address: Any) -> Any:
        attempts.append(address)
        raise AssertionError(f"a connection was attempted to {address}")

    monkeypatch.setattr(socket.socket, "connect", connect)
    yield attempts
    monkeypatch.setattr(socket.socket, "connect", real)


@pytest.mark.parametrize(
    ("host", "why"),
    [
        ("169.254.169.254", "metadata"),
        ("metadata.google.internal", "metadata"),
        ("169.254.10.1", "link-local"),
        ("fe80::1", "link-local"),
        ("10.1.2.3", "private"),
        ("172.20.0.5", "private"),
        ("192.168.1.10", "private"),
        ("fd12:3456::1", "private"),
        ("::ffff:10.0.0.1", "private"),
        ("0.0.0.0", "unicast"),
    ],
)
def test_refused_by_default(host: str, why: str, no_connections: list[Any]) -> None:
    with pytest.raises(RefusedAddress, match=why):
        check_host(host, allow_private=False)
    assert not no_connections


def test_the_setting_allows_private_but_never_metadata() -> None:
    for host in ("10.1.2.3", "192.168.1.10", "fe80::1", "169.254.10.1"):
        check_host(host, allow_private=True)
    with pytest.raises(RefusedAddress, match="metadata"):
        check_host("169.254.169.254", allow_private=True)


def test_loopback_and_public_addresses_pass() -> None:
    for host in ("127.0.0.1", "::1", "localhost", "93.184.215.14", "2606:2800:21f::1"):
        check_host(host, allow_private=False)
    # federation peers: loopback only when private endpoints are allowed
    with pytest.raises(RefusedAddress, match="loopback"):
        check_host("127.0.0.1", allow_private=False, allow_loopback=False)
    check_host("127.0.0.1", allow_private=True, allow_loopback=False)
    check_host("93.184.215.14", allow_private=False, allow_loopback=False)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("IPFS_API", "/ip4/169.254.169.254/tcp/5001"),
        ("IPFS_API", "/ip4/10.0.0.7/tcp/5001"),
        ("L2_SERVER", "http://169.254.169.254/latest"),
        ("L2_SERVER", "https://192.168.0.9"),
        ("S3_ENDPOINT_URL", "http://[fe80::1]:9000"),
    ],
)
def test_settings_refuse_hostile_endpoints(
    variable: str, value: str, tmp_path: Path, no_connections: list[Any]
) -> None:
    env = {"ARTDAG_DATA_DIR": str(tmp_path), variable: value}
    if variable == "S3_ENDPOINT_URL":
        env["S3_BUCKET"] = "media"
    with pytest.raises(SettingsError) as info:
        Settings.from_env(env)
    assert (
        info.value.variable == variable and "ARTDAG_ALLOW_PRIVATE_ENDPOINTS" in str(info.value)
    ) or "metadata" in str(info.value)
    assert not no_connections


def test_settings_allow_private_endpoints_when_told(tmp_path: Path) -> None:
    env = {
        "ARTDAG_DATA_DIR": str(tmp_path),
        "IPFS_API": "/ip4/10.0.0.7/tcp/5001",
        "ARTDAG_ALLOW_PRIVATE_ENDPOINTS": "true",
    }
    assert Settings.from_env(env).ipfs.api.host == "10.0.0.7"


@pytest.mark.parametrize(
    ("kind", "config", "field"),
    [
        (
            "s3",
            {"bucket": "media", "endpoint_url": "http://169.254.169.254"},
            "config.endpoint_url",
        ),
        ("s3", {"bucket": "media", "endpoint_url": "http://10.9.8.7:9000"}, "config.endpoint_url"),
        ("ipfs", {"api": "/ip4/192.168.7.7/tcp/5001"}, "config.api"),
    ],
)
def test_storage_providers_refuse_hostile_endpoints(
    kind: str, config: dict[str, str], field: str, no_connections: list[Any]
) -> None:
    with pytest.raises(Denied) as info:
        validate_config(kind, config, allowed_roots=())
    assert info.value.field == field
    assert not no_connections
    validate_config(
        kind,
        config,
        allowed_roots=(),
        allow_private=not config.get("endpoint_url", "").startswith("http://169.254"),
    ) if "169.254.169.254" not in str(config) else None


def _l2_settings(tmp_path: Path, l2: str, *, allow_private: bool = False) -> Settings:
    settings = Settings.from_env(
        {"ARTDAG_DATA_DIR": str(tmp_path), "ARTDAG_ALLOW_PRIVATE_ENDPOINTS": str(allow_private)}
    )
    federation = dataclasses.replace(settings.federation, l2_server=l2)
    return dataclasses.replace(settings, federation=federation)


async def test_l2_redirects_are_not_followed(no_redirect_target: None, tmp_path: Path) -> None:
    """An L2 on loopback answering with a redirect elsewhere: refused, nothing followed."""
    seen: list[str] = []

    async def verify(request: web.Request) -> web.StreamResponse:
        seen.append(request.path)
        # a documentation address (TEST-NET-1): nothing is there, and nothing may be tried
        raise web.HTTPTemporaryRedirect("http://192.0.2.1:9/auth/verify")

    app = web.Application()
    app.router.add_post("/auth/verify", verify)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    settings = _l2_settings(tmp_path, f"http://127.0.0.1:{port}", allow_private=True)
    try:
        with pytest.raises(L2VerifyError, match="HTTP 307"):
            await verify_with_l2(settings, "tok", load_or_create_actor_keys(settings))
        assert seen == ["/auth/verify"]
    finally:
        await runner.cleanup()


@pytest.mark.parametrize(
    ("l2", "why"),
    [
        ("http://169.254.7.7", "link-local"),
        ("http://127.0.0.1:9", "loopback"),
        ("http://localhost:9", "loopback"),
        ("http://[::1]:9", "loopback"),
        ("https://10.0.0.8", "private"),
        ("http://169.254.169.254", "metadata"),
    ],
)
async def test_l2_on_a_refused_address_gets_no_request(
    l2: str, why: str, tmp_path: Path, no_connections: list[Any]
) -> None:
    settings = _l2_settings(tmp_path, l2)
    with pytest.raises(PeerError, match=why):
        await verify_with_l2(settings, "tok", load_or_create_actor_keys(settings))
    assert not no_connections


async def test_federation_peers_on_refused_addresses_get_no_request(
    no_connections: list[Any],
) -> None:
    """Key fetches and any peer request: loopback and private refused unless allowed."""
    for url in ("http://127.0.0.1/actor", "http://192.168.1.1/actor", "http://[fe80::1]/x"):
        with pytest.raises(PeerError, match="not reachable from here"):
            await peer_request("GET", url, allow_private=False)
    with pytest.raises(PeerError, match="metadata"):
        await peer_request("GET", "http://169.254.169.254/actor", allow_private=True)
    with pytest.raises(PeerError, match="http"):
        await peer_request("GET", "file:///etc/passwd", allow_private=True)
    assert not no_connections


@pytest.mark.parametrize(
    "value", ["http://127.0.0.1:8200", "http://localhost", "http://[::1]", "http://10.1.1.1"]
)
def test_settings_refuse_a_local_l2(value: str, tmp_path: Path, no_connections: list[Any]) -> None:
    """L2 is a federation peer: loopback too is refused unless allowed."""
    with pytest.raises(SettingsError) as info:
        Settings.from_env({"ARTDAG_DATA_DIR": str(tmp_path), "L2_SERVER": value})
    assert info.value.variable == "L2_SERVER"
    assert "ARTDAG_ALLOW_PRIVATE_ENDPOINTS" in str(info.value)
    allowed = Settings.from_env(
        {
            "ARTDAG_DATA_DIR": str(tmp_path),
            "L2_SERVER": value,
            "ARTDAG_ALLOW_PRIVATE_ENDPOINTS": "true",
        }
    )
    assert allowed.federation.l2_server == value
    assert not no_connections


async def test_guarded_resolver_refuses_what_a_name_resolves_to() -> None:
    """The per-connection check (DNS answers change): resolving is not connecting."""
    resolver = GuardedResolver(allow_private=False)
    try:
        with pytest.raises(OSError, match="private"):
            await resolver.resolve("10.0.0.1", 80)
        with pytest.raises(OSError, match="metadata"):
            await resolver.resolve("metadata.google.internal", 80)
        assert await resolver.resolve("127.0.0.1", 80)
    finally:
        await resolver.close()
