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

from hls.options import X264_PRESETS  # the settings accept exactly what the encoder accepts
from streamer.keys import DEFAULT_PREFIX, DEFAULT_QUEUE, RedisKeys

__all__ = [
    "X264_PRESETS",
    "FederationSettings",
    "HLSSettings",
    "IPFSSettings",
    "Multiaddr",
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

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
_HOST_RE = re.compile(r"^[A-Za-z0-9._-]+$")
_REDIS_NAME_RE = re.compile(r"^[\w:.\-]{1,100}$")


class SettingsError(ValueError):
    """A configuration variable has a value that cannot be used.

    Attributes:
        variable: the environment variable name.
        value: the offending value.
        expected: the accepted form, in words.
    """

    def __init__(self, variable: str, value: str, expected: str) -> None:
        self.variable = variable
        self.value = value
        self.expected = expected
        super().__init__(f"{variable}={value!r}: expected {expected}")


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


@dataclass(frozen=True)
class FederationSettings:
    """L2 (ActivityPub registry) and cluster trust settings."""

    l2_server: str | None = None
    l2_domain: str | None = None
    cluster_key: str | None = None


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

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from ``environ`` (``os.environ`` when None).

        Raises:
            SettingsError: naming the first variable with a bad value.
        """
        env = _Env(os.environ if environ is None else environ)
        data_dir = env.path("ARTDAG_DATA_DIR", "~/.artdag")
        return cls(
            server=ServerSettings(
                host=env.host("HOST", "0.0.0.0"),
                port=env.port("PORT", 8000),
                public_url=env.url("L1_PUBLIC_URL", "http://localhost:8100", ("http", "https")),
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
            ),
            federation=FederationSettings(
                l2_server=env.optional_url("L2_SERVER", ("http", "https")),
                l2_domain=env.optional_host("L2_DOMAIN"),
                cluster_key=env.get("ARTDAG_CLUSTER_KEY") or None,
            ),
        )


class _Env:
    """Typed readers over a mapping; empty strings count as unset."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ

    def get(self, name: str) -> str | None:
        value = self._environ.get(name)
        if value is None:
            return None
        value = value.strip()
        return value or None

    def is_set(self, name: str) -> bool:
        return self.get(name) is not None

    def host(self, name: str, default: str) -> str:
        value = self.get(name)
        if value is None:
            return default
        if not (_HOST_RE.match(value) or ":" in value):
            raise SettingsError(name, value, "a host name or IP address")
        return value

    def optional_host(self, name: str) -> str | None:
        value = self.get(name)
        if value is not None and not _HOST_RE.match(value):
            raise SettingsError(name, value, "a domain name such as artdag.example.org")
        return value

    def redis_name(self, name: str, default: str) -> str:
        value = self.get(name)
        if value is None:
            return default
        if not _REDIS_NAME_RE.match(value):
            raise SettingsError(name, value, "1-100 of letters, digits and _ : . -")
        return value

    def port(self, name: str, default: int) -> int:
        value = self.get(name)
        if value is None:
            return default
        if not value.isdigit() or not 1 <= int(value) <= 65535:
            raise SettingsError(name, value, "an integer 1-65535")
        return int(value)

    def positive_int(self, name: str, default: int) -> int:
        value = self.get(name)
        if value is None:
            return default
        if not value.isdigit() or int(value) <= 0:
            raise SettingsError(name, value, "a positive integer (bytes)")
        return int(value)

    def segment_seconds(self, name: str, default: float) -> float:
        value = self.get(name)
        if value is None:
            return default
        expected = "a number of seconds between 0.5 and 30"
        try:
            number = float(value)
        except ValueError:
            raise SettingsError(name, value, expected) from None
        if not 0.5 <= number <= 30:
            raise SettingsError(name, value, expected)
        return number

    def seconds(self, name: str, default: float) -> float:
        value = self.get(name)
        if value is None:
            return default
        expected = "a number of seconds between 0.1 and 3600"
        try:
            number = float(value)
        except ValueError:
            raise SettingsError(name, value, expected) from None
        if not 0.1 <= number <= 3600:
            raise SettingsError(name, value, expected)
        return number

    def boolean(self, name: str, default: bool) -> bool:
        raw = self._environ.get(name)
        if raw is None:
            return default
        value = raw.strip().lower()
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
        raise SettingsError(name, raw, "true or false (also 1/0, yes/no, on/off)")

    def choice(self, name: str, default: str, choices: tuple[str, ...]) -> str:
        value = self.get(name)
        if value is None:
            return default
        if value not in choices:
            raise SettingsError(name, value, "one of " + ", ".join(choices))
        return value

    def url(self, name: str, default: str, schemes: tuple[str, ...]) -> str:
        value = self.get(name)
        if value is None:
            return default
        _check_url(name, value, schemes)
        return value

    def optional_url(self, name: str, schemes: tuple[str, ...]) -> str | None:
        value = self.get(name)
        if value is not None:
            _check_url(name, value, schemes)
        return value

    def optional_bucket(self, name: str) -> str | None:
        value = self.get(name)
        if value is not None and not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", value):
            raise SettingsError(name, value, "an S3 bucket name (3-63 of a-z 0-9 . -)")
        return value

    def path(self, name: str, default: str) -> Path:
        value = self.get(name) or default
        return Path(value).expanduser()

    def path_list(self, name: str) -> tuple[Path, ...]:
        value = self.get(name)
        if value is None:
            return ()
        roots = tuple(Path(p).expanduser() for p in value.split(os.pathsep) if p.strip())
        for root in roots:
            if not root.is_absolute():
                raise SettingsError(
                    name, value, f"absolute directories separated by {os.pathsep!r}"
                )
        return roots


def _check_url(name: str, value: str, schemes: tuple[str, ...]) -> None:
    expected = "a URL starting with " + " or ".join(f"{s}://" for s in schemes)
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise SettingsError(name, value, expected + " (with a valid port)") from None
    if parts.scheme not in schemes:
        raise SettingsError(name, value, expected)
    if parts.scheme != "unix" and not parts.hostname:
        raise SettingsError(name, value, expected + " and a host")
