"""Settings built once from the environment at the edge and passed down.

Every variable of the specification's configuration table is covered, plus the
HLS, S3, upload and import knobs. A bad value raises :class:`SettingsError`
naming the variable, the value and the accepted form.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from hls.errors import HLSError
from hls.ladder_config import AUTO_LADDER, RungSpec, parse_ladder
from hls.options import X264_PRESETS  # the settings accept exactly what the encoder accepts
from streamer.env_readers import EnvReader, SettingsError
from streamer.keys import DEFAULT_PREFIX, DEFAULT_QUEUE, RedisKeys
from streamer.netguard import RefusedAddress, check_host

__all__ = [
    "MAX_DELIVERY_ATTEMPTS",
    "MAX_REPLICA_ATTEMPTS",
    "X264_PRESETS",
    "FederationSettings",
    "HLSSettings",
    "IPFSSettings",
    "Multiaddr",
    "NetworkSettings",
    "ReplicationSettings",
    "S3Settings",
    "ServerSettings",
    "ServicesSettings",
    "Settings",
    "SettingsError",
    "StorageSettings",
    "parse_multiaddr",
]


DEFAULT_REDIS_URL = "redis://localhost:6379/5"
DEFAULT_DATABASE_URL = "postgresql://artdag:artdag@localhost:5432/artdag"
DEFAULT_UPLOAD_MAX_BYTES = 2 * 1024**3
DEFAULT_HEADER_TIMEOUT = 30.0
DEFAULT_BODY_TIMEOUT = 30.0

_HOST_RE = re.compile(r"^[A-Za-z0-9._-]+$")


@dataclass(frozen=True)
class Multiaddr:
    """A parsed IPFS API multiaddr such as ``/dns/localhost/tcp/5001``."""

    protocol: str
    host: str
    port: int

    def __str__(self) -> str:
        return f"/{self.protocol}/{self.host}/tcp/{self.port}"

    @property
    def http_url(self) -> str:
        """The RPC base URL (``http://host:port``)."""
        host = f"[{self.host}]" if self.protocol == "ip6" else self.host
        return f"http://{host}:{self.port}"


def parse_multiaddr(value: str, variable: str = "IPFS_API") -> Multiaddr:
    """Parse ``/ip4|/ip6|/dns|/dns4|/dns6/<host>/tcp/<port>``.

    Raises:
        SettingsError: when the form or the port is wrong.
    """
    expected = "a multiaddr /ip4|/ip6|/dns|/dns4|/dns6/<host>/tcp/<port>"
    parts = value.split("/")
    if len(parts) != 5 or parts[0] != "" or parts[3] != "tcp":
        raise SettingsError(variable, value, expected)
    proto, host, _, port_text = parts[1:]
    if proto not in {"ip4", "ip6", "dns", "dns4", "dns6"} or not host:
        raise SettingsError(variable, value, expected)
    if proto == "ip4":
        octets = host.split(".")
        if len(octets) != 4 or not all(o.isdigit() and 0 <= int(o) <= 255 for o in octets):
            raise SettingsError(variable, value, expected + " (bad IPv4 address)")
    elif proto == "ip6":
        if ":" not in host:
            raise SettingsError(variable, value, expected + " (bad IPv6 address)")
    elif not _HOST_RE.match(host):
        raise SettingsError(variable, value, expected + " (bad host name)")
    if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise SettingsError(variable, value, expected + " (port 1-65535)")
    return Multiaddr(proto, host, int(port_text))


@dataclass(frozen=True)
class ServerSettings:
    """HTTP server binding and public address."""

    host: str = "0.0.0.0"
    port: int = 8000
    public_url: str = "http://localhost:8100"
    #: whether L1_PUBLIC_URL was given (links printed by ``artdag serve`` use the port otherwise)
    public_url_set: bool = False
    #: seconds a client has to send a request's head (``ARTDAG_HEADER_TIMEOUT``); 408 and
    #: closed after that (:mod:`streamer.entry.http_server`)
    header_timeout: float = DEFAULT_HEADER_TIMEOUT
    #: seconds a request body may stall between two reads (``ARTDAG_BODY_TIMEOUT``); 408
    #: after that (:mod:`streamer.present.body_timeout`). Also how long an answered
    #: request's unread body is drained before the connection is closed.
    body_timeout: float = DEFAULT_BODY_TIMEOUT


@dataclass(frozen=True)
class ServicesSettings:
    """PostgreSQL and Redis locations, and artdag's namespaces in Redis.

    ``*_set`` record whether the variable was given; an unset URL means the
    embedded stack supplies that service. ``redis_prefix``
    (``ARTDAG_REDIS_PREFIX``) and ``queue_name`` (``ARTDAG_QUEUE``) let several
    deployments (or test sessions) share one Redis.
    """

    redis_url: str = DEFAULT_REDIS_URL
    database_url: str = DEFAULT_DATABASE_URL
    redis_url_set: bool = False
    database_url_set: bool = False
    redis_prefix: str = DEFAULT_PREFIX
    queue_name: str = DEFAULT_QUEUE

    @property
    def keys(self) -> RedisKeys:
        """Every Redis key and the arq queue name under these namespaces."""
        return RedisKeys(prefix=self.redis_prefix, queue=self.queue_name)

    @property
    def embedded(self) -> bool:
        """True when at least one service must come from the embedded stack."""
        return not (self.redis_url_set and self.database_url_set)


@dataclass(frozen=True)
class StorageSettings:
    """Local directories and upload/import limits."""

    data_dir: Path = field(default_factory=lambda: Path("~/.artdag").expanduser())
    cache_dir: Path = field(default_factory=lambda: Path("~/.artdag/cache").expanduser())
    upload_max_bytes: int = DEFAULT_UPLOAD_MAX_BYTES
    import_roots: tuple[Path, ...] = ()

    @property
    def services_dir(self) -> Path:
        """Where the embedded PostgreSQL/Redis keep their data."""
        return self.data_dir / "services"


@dataclass(frozen=True)
class IPFSSettings:
    """IPFS node API, public gateway and IPFS-primary mode."""

    api: Multiaddr = field(default_factory=lambda: Multiaddr("dns", "localhost", 5001))
    gateway_url: str = "https://ipfs.io/ipfs"
    primary: bool = False
    #: seconds ``/ipfs/{cid}/raw`` waits for the first byte (``IPFS_RAW_TIMEOUT``)
    raw_timeout: float = 10.0
    #: whether IPFS_API was given (unset: ``artdag serve`` starts an embedded node)
    api_set: bool = False


@dataclass(frozen=True)
class S3Settings:
    """Optional S3-compatible storage; enabled when a bucket is given."""

    endpoint_url: str | None = None
    bucket: str | None = None
    region: str = "us-east-1"
    access_key_id: str | None = None
    secret_access_key: str | None = None

    @property
    def enabled(self) -> bool:
        """True when a bucket is configured."""
        return bool(self.bucket)


@dataclass(frozen=True)
class HLSSettings:
    """Live HLS output knobs."""

    segment_seconds: float = 2.0
    container: str = "ts"
    x264_preset: str = "veryfast"
    #: ``HLS_PART_SECONDS``: Low-Latency HLS parts on the origin (fMP4 only); 0: off
    part_seconds: float = 0.0
    #: ``ARTDAG_CHUNK_SEGMENTS``: segments per chunk of a distributed live run;
    #: 0 renders a run as one job (see streamer.jobs.chunk_owner)
    chunk_segments: int = 0
    #: ``HLS_LADDER``: the ABR ladder's lower rungs (``auto``: 720p, 480p, 360p below
    #: the output height; ``off``: none); see :mod:`hls.ladder_config`
    ladder: tuple[RungSpec, ...] = AUTO_LADDER


@dataclass(frozen=True)
class FederationSettings:
    """L2 (ActivityPub registry) and cluster trust settings."""

    l2_server: str | None = None
    l2_domain: str | None = None
    cluster_key: str | None = None
    #: ``L2_DELIVERY_ATTEMPTS``: tries of one activity's delivery before it is ``failed``
    delivery_attempts: int = 8
    #: ``L2_RETRY_SECONDS``: the first retry's delay; each next one doubles (capped at 1 h)
    retry_seconds: float = 30.0


@dataclass(frozen=True)
class ReplicationSettings:
    """Copies of completed runs on the enabled storage providers (:mod:`streamer.jobs.replicate`)."""

    #: ``ARTDAG_REPLICA_ATTEMPTS``: tries of one run's copy to one provider before it is ``failed``
    attempts: int = 8
    #: ``ARTDAG_REPLICA_RETRY_SECONDS``: the first retry's delay; each next one doubles (capped at 1 h)
    retry_seconds: float = 30.0


@dataclass(frozen=True)
class NetworkSettings:
    """Which addresses configured endpoints may point at (:mod:`streamer.netguard`)."""

    #: ``ARTDAG_ALLOW_PRIVATE_ENDPOINTS``: private and link-local ranges allowed
    #: (cloud metadata addresses never are)
    allow_private_endpoints: bool = False


@dataclass(frozen=True)
class Settings:
    """The whole configuration tree."""

    server: ServerSettings = field(default_factory=ServerSettings)
    services: ServicesSettings = field(default_factory=ServicesSettings)
    storage: StorageSettings = field(default_factory=StorageSettings)
    ipfs: IPFSSettings = field(default_factory=IPFSSettings)
    s3: S3Settings = field(default_factory=S3Settings)
    hls: HLSSettings = field(default_factory=HLSSettings)
    federation: FederationSettings = field(default_factory=FederationSettings)
    network: NetworkSettings = field(default_factory=NetworkSettings)
    replication: ReplicationSettings = field(default_factory=ReplicationSettings)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from ``environ`` (``os.environ`` when None).

        Raises:
            SettingsError: naming the first variable with a bad value.
        """
        env = EnvReader(os.environ if environ is None else environ)
        data_dir = env.path("ARTDAG_DATA_DIR", "~/.artdag")
        network = NetworkSettings(
            allow_private_endpoints=env.boolean("ARTDAG_ALLOW_PRIVATE_ENDPOINTS", False)
        )
        settings = cls(
            server=ServerSettings(
                host=env.host("HOST", "0.0.0.0"),
                port=env.port("PORT", 8000),
                public_url=env.url("L1_PUBLIC_URL", "http://localhost:8100", ("http", "https")),
                public_url_set=env.is_set("L1_PUBLIC_URL"),
                header_timeout=env.seconds("ARTDAG_HEADER_TIMEOUT", DEFAULT_HEADER_TIMEOUT),
                body_timeout=env.seconds("ARTDAG_BODY_TIMEOUT", DEFAULT_BODY_TIMEOUT),
            ),
            services=ServicesSettings(
                redis_url=env.url("REDIS_URL", DEFAULT_REDIS_URL, ("redis", "rediss", "unix")),
                database_url=env.url(
                    "DATABASE_URL", DEFAULT_DATABASE_URL, ("postgresql", "postgres")
                ),
                redis_url_set=env.is_set("REDIS_URL"),
                database_url_set=env.is_set("DATABASE_URL"),
                redis_prefix=env.redis_name("ARTDAG_REDIS_PREFIX", DEFAULT_PREFIX),
                queue_name=env.redis_name("ARTDAG_QUEUE", DEFAULT_QUEUE),
            ),
            storage=StorageSettings(
                data_dir=data_dir,
                cache_dir=env.path("CACHE_DIR", str(data_dir / "cache")),
                upload_max_bytes=env.positive_int("UPLOAD_MAX_BYTES", DEFAULT_UPLOAD_MAX_BYTES),
                import_roots=env.path_list("IMPORT_ROOTS"),
            ),
            ipfs=IPFSSettings(
                api=parse_multiaddr(env.get("IPFS_API") or "/dns/localhost/tcp/5001"),
                gateway_url=env.url("IPFS_GATEWAY_URL", "https://ipfs.io/ipfs", ("http", "https")),
                primary=env.boolean("IPFS_PRIMARY", False),
                raw_timeout=env.seconds("IPFS_RAW_TIMEOUT", 10.0),
                api_set=env.is_set("IPFS_API"),
            ),
            s3=S3Settings(
                endpoint_url=env.optional_url("S3_ENDPOINT_URL", ("http", "https")),
                bucket=env.optional_bucket("S3_BUCKET"),
                region=env.get("S3_REGION") or "us-east-1",
                access_key_id=env.get("S3_ACCESS_KEY_ID") or None,
                secret_access_key=env.get("S3_SECRET_ACCESS_KEY") or None,
            ),
            hls=HLSSettings(
                segment_seconds=env.segment_seconds("HLS_SEGMENT_SECONDS", 2.0),
                container=env.choice("HLS_CONTAINER", "ts", ("ts", "fmp4")),
                x264_preset=env.choice("HLS_X264_PRESET", "veryfast", X264_PRESETS),
                part_seconds=env.part_seconds(
                    "HLS_PART_SECONDS", env.choice("HLS_CONTAINER", "ts", ("ts", "fmp4"))
                ),
                chunk_segments=env.count("ARTDAG_CHUNK_SEGMENTS", 0, 1000),
                ladder=_ladder(env),
            ),
            federation=FederationSettings(
                l2_server=env.optional_url("L2_SERVER", ("http", "https")),
                l2_domain=env.optional_host("L2_DOMAIN"),
                cluster_key=env.get("ARTDAG_CLUSTER_KEY") or None,
                delivery_attempts=_attempts(env, "L2_DELIVERY_ATTEMPTS", 8),
                retry_seconds=env.seconds("L2_RETRY_SECONDS", 30.0),
            ),
            network=network,
            replication=ReplicationSettings(
                attempts=_attempts(env, "ARTDAG_REPLICA_ATTEMPTS", 8, MAX_REPLICA_ATTEMPTS),
                retry_seconds=env.seconds("ARTDAG_REPLICA_RETRY_SECONDS", 30.0),
            ),
        )
        _check_endpoints(settings)
        return settings


#: The most delivery attempts ``L2_DELIVERY_ATTEMPTS`` may ask for.
MAX_DELIVERY_ATTEMPTS = 50
#: The most attempts ``ARTDAG_REPLICA_ATTEMPTS`` may ask for.
MAX_REPLICA_ATTEMPTS = 50


def _ladder(env: EnvReader) -> tuple[RungSpec, ...]:
    raw = env.get("HLS_LADDER")
    try:
        return parse_ladder(raw or "auto")
    except HLSError as exc:
        raise SettingsError("HLS_LADDER", raw or "", str(exc)) from exc


def _attempts(env: EnvReader, name: str, default: int, most: int = MAX_DELIVERY_ATTEMPTS) -> int:
    value = env.get(name)
    if value is None:
        return default
    if not value.isdigit() or not 1 <= int(value) <= most:
        raise SettingsError(name, value, f"an integer 1-{most}")
    return int(value)


def _check_endpoints(settings: Settings) -> None:
    """Refuse endpoints on link-local, metadata or (unless allowed) private addresses."""
    allow = settings.network.allow_private_endpoints
    # (variable, value, host, loopback allowed): L2 is a federation peer, never local
    checks = [("IPFS_API", str(settings.ipfs.api), settings.ipfs.api.host, True)]
    for name, url, loopback in (
        ("L2_SERVER", settings.federation.l2_server, False),
        ("S3_ENDPOINT_URL", settings.s3.endpoint_url, True),
    ):
        if url:
            checks.append((name, url, urlsplit(url).hostname or "", loopback))
    for name, value, host, loopback in checks:
        try:
            check_host(host, allow_private=allow, allow_loopback=loopback)
        except RefusedAddress as exc:
            raise SettingsError(name, value, f"an endpoint the server may reach: {exc}") from None
