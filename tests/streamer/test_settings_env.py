"""Settings.from_env: every variable, its default, and every bad value."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hls.ladder_config import AUTO_LADDER, RungSpec
from streamer.settings import Multiaddr, Settings, SettingsError, parse_multiaddr


def test_defaults_match_the_spec() -> None:
    s = Settings.from_env({})
    assert s.server.host == "0.0.0.0"
    assert s.server.port == 8000
    assert s.server.public_url == "http://localhost:8100"
    assert (s.server.header_timeout, s.server.body_timeout) == (30.0, 30.0)
    assert s.services.redis_url == "redis://localhost:6379/5"
    assert s.services.database_url == "postgresql://artdag:artdag@localhost:5432/artdag"
    assert (s.services.redis_url_set, s.services.database_url_set) == (False, False)
    assert s.services.embedded is True
    assert s.storage.data_dir == Path("~/.artdag").expanduser()
    assert s.storage.cache_dir == Path("~/.artdag/cache").expanduser()
    assert s.storage.services_dir == Path("~/.artdag/services").expanduser()
    assert s.storage.import_roots == ()
    assert s.storage.upload_max_bytes == 2 * 1024**3
    assert s.ipfs.api == Multiaddr("dns", "localhost", 5001)
    assert str(s.ipfs.api) == "/dns/localhost/tcp/5001"
    assert s.ipfs.gateway_url == "https://ipfs.io/ipfs"
    assert s.ipfs.primary is False
    assert s.hls.segment_seconds == 2.0
    assert s.hls.container == "ts"
    assert s.hls.x264_preset == "veryfast"
    assert s.s3.enabled is False
    assert s.s3.endpoint_url is None
    assert s.federation.l2_server is None
    assert s.federation.l2_domain is None
    assert s.federation.cluster_key is None
    assert (s.replication.attempts, s.replication.retry_seconds) == (8, 30.0)


def test_every_variable_is_read(tmp_path: Path) -> None:
    env = {
        "HOST": "127.0.0.1",
        "PORT": "9001",
        "REDIS_URL": "redis://r.example:6380/2",
        "DATABASE_URL": "postgresql://u:p@db.example:5433/x",
        "CACHE_DIR": str(tmp_path / "cache"),
        "IPFS_API": "/ip4/10.0.0.2/tcp/5002",
        "IPFS_GATEWAY_URL": "http://gw.example/ipfs",
        "IPFS_PRIMARY": "true",
        "L1_PUBLIC_URL": "https://l1.example",
        "L2_SERVER": "https://l2.example",
        "L2_DOMAIN": "l2.example",
        "ARTDAG_CLUSTER_KEY": "secret-key",
        "HLS_SEGMENT_SECONDS": "4.5",
        "HLS_CONTAINER": "fmp4",
        "HLS_X264_PRESET": "ultrafast",
        "S3_ENDPOINT_URL": "http://127.0.0.1:9000",
        "S3_BUCKET": "artdag-media",
        "S3_REGION": "eu-west-1",
        "S3_ACCESS_KEY_ID": "AK",
        "S3_SECRET_ACCESS_KEY": "SK",
        "UPLOAD_MAX_BYTES": "1048576",
        "IMPORT_ROOTS": os.pathsep.join([str(tmp_path / "a"), str(tmp_path / "b")]),
        "ARTDAG_DATA_DIR": str(tmp_path / "data"),
        "ARTDAG_ALLOW_PRIVATE_ENDPOINTS": "true",  # IPFS_API is on a private address
        "ARTDAG_HEADER_TIMEOUT": "12.5",
        "ARTDAG_BODY_TIMEOUT": "45",
        "ARTDAG_REPLICA_ATTEMPTS": "3",
        "ARTDAG_REPLICA_RETRY_SECONDS": "2.5",
    }
    s = Settings.from_env(env)
    assert s.network.allow_private_endpoints is True
    assert (s.server.host, s.server.port) == ("127.0.0.1", 9001)
    assert s.server.public_url == "https://l1.example"
    assert (s.server.header_timeout, s.server.body_timeout) == (12.5, 45.0)
    assert s.services.redis_url == "redis://r.example:6380/2"
    assert s.services.database_url == "postgresql://u:p@db.example:5433/x"
    assert s.services.redis_url_set and s.services.database_url_set
    assert s.services.embedded is False
    assert s.storage.cache_dir == tmp_path / "cache"
    assert s.storage.data_dir == tmp_path / "data"
    assert s.storage.services_dir == tmp_path / "data" / "services"
    assert s.storage.upload_max_bytes == 1048576
    assert s.storage.import_roots == (tmp_path / "a", tmp_path / "b")
    assert s.ipfs.api == Multiaddr("ip4", "10.0.0.2", 5002)
    assert s.ipfs.api.http_url == "http://10.0.0.2:5002"
    assert s.ipfs.gateway_url == "http://gw.example/ipfs"
    assert s.ipfs.primary is True
    assert s.federation.l2_server == "https://l2.example"
    assert s.federation.l2_domain == "l2.example"
    assert s.federation.cluster_key == "secret-key"
    assert (s.hls.segment_seconds, s.hls.container, s.hls.x264_preset) == (4.5, "fmp4", "ultrafast")
    assert s.s3.enabled
    assert (s.s3.endpoint_url, s.s3.bucket, s.s3.region) == (
        "http://127.0.0.1:9000",
        "artdag-media",
        "eu-west-1",
    )
    assert (s.s3.access_key_id, s.s3.secret_access_key) == ("AK", "SK")
    assert (s.replication.attempts, s.replication.retry_seconds) == (3, 2.5)


def test_cache_dir_follows_data_dir(tmp_path: Path) -> None:
    s = Settings.from_env({"ARTDAG_DATA_DIR": str(tmp_path)})
    assert s.storage.cache_dir == tmp_path / "cache"


def test_only_one_url_set_still_needs_the_embedded_stack() -> None:
    s = Settings.from_env({"REDIS_URL": "redis://127.0.0.1:6379/1"})
    assert s.services.redis_url_set and not s.services.database_url_set
    assert s.services.embedded is True


def test_empty_value_counts_as_unset() -> None:
    s = Settings.from_env({"REDIS_URL": "", "PORT": "  "})
    assert not s.services.redis_url_set
    assert s.server.port == 8000


def test_settings_are_frozen() -> None:
    s = Settings.from_env({})
    with pytest.raises(AttributeError):
        s.server.port = 1  # type: ignore[misc]


@pytest.mark.parametrize("value", ["1", "yes", "ON", "True"])
def test_ipfs_primary_truthy(value: str) -> None:
    assert Settings.from_env({"IPFS_PRIMARY": value}).ipfs.primary is True


@pytest.mark.parametrize("value", ["0", "no", "off", "FALSE"])
def test_ipfs_primary_falsy(value: str) -> None:
    assert Settings.from_env({"IPFS_PRIMARY": value}).ipfs.primary is False


@pytest.mark.parametrize(
    ("variable", "value", "expected_fragment"),
    [
        ("PORT", "abc", "an integer 1-65535"),
        ("PORT", "0", "an integer 1-65535"),
        ("PORT", "70000", "an integer 1-65535"),
        ("HOST", "bad host!", "host name"),
        ("REDIS_URL", "http://localhost:6379", "redis://"),
        ("REDIS_URL", "redis://localhost:port/1", "valid port"),
        ("DATABASE_URL", "mysql://x@y/z", "postgresql://"),
        ("DATABASE_URL", "postgresql:///nohost", "a host"),
        ("IPFS_API", "localhost:5001", "multiaddr"),
        ("IPFS_API", "/ip4/localhost/tcp/5001", "IPv4"),
        ("IPFS_API", "/ip4/127.0.0.1/udp/5001", "multiaddr"),
        ("IPFS_API", "/dns/localhost/tcp/99999", "port 1-65535"),
        ("IPFS_API", "/onion/abc/tcp/1", "multiaddr"),
        ("IPFS_GATEWAY_URL", "ipfs.io/ipfs", "http://"),
        ("IPFS_PRIMARY", "maybe", "true or false"),
        ("L1_PUBLIC_URL", "ftp://x", "http://"),
        ("L2_SERVER", "not a url", "http://"),
        ("L2_DOMAIN", "bad domain/", "domain name"),
        ("HLS_SEGMENT_SECONDS", "two", "seconds"),
        ("HLS_SEGMENT_SECONDS", "0.1", "between 0.5 and 30"),
        ("HLS_SEGMENT_SECONDS", "nan", "seconds"),
        ("HLS_CONTAINER", "mp4", "one of ts, fmp4"),
        ("HLS_X264_PRESET", "turbo", "veryfast"),
        ("HLS_X264_PRESET", "placebo", "veryslow"),
        ("HLS_LADDER", "720", "entry 1 '720'"),
        ("HLS_LADDER", "720p:crf99", "crf outside 0..51"),
        ("S3_ENDPOINT_URL", "s3.example", "http://"),
        ("S3_BUCKET", "Bad_Bucket", "bucket name"),
        ("UPLOAD_MAX_BYTES", "-5", "positive integer"),
        ("UPLOAD_MAX_BYTES", "10MB", "positive integer"),
        ("IMPORT_ROOTS", "relative/dir", "absolute directories"),
        ("ARTDAG_HEADER_TIMEOUT", "0", "between 0.1 and 3600"),
        ("ARTDAG_BODY_TIMEOUT", "soon", "seconds"),
        ("ARTDAG_REPLICA_ATTEMPTS", "0", "an integer 1-50"),
        ("ARTDAG_REPLICA_ATTEMPTS", "51", "an integer 1-50"),
        ("ARTDAG_REPLICA_RETRY_SECONDS", "0", "between 0.1 and 3600"),
        ("ARTDAG_CHUNK_SEGMENTS", "-1", "a whole number from 0 to 1000"),
        ("ARTDAG_CHUNK_SEGMENTS", "1001", "a whole number from 0 to 1000"),
        ("ARTDAG_CHUNK_SEGMENTS", "four", "a whole number from 0 to 1000"),
    ],
)
def test_bad_value_names_variable_value_and_form(
    variable: str, value: str, expected_fragment: str
) -> None:
    with pytest.raises(SettingsError) as info:
        Settings.from_env({variable: value})
    err = info.value
    assert isinstance(err, ValueError)
    assert err.variable == variable
    assert err.value == value
    message = str(err)
    assert message.startswith(f"{variable}={value!r}: expected ")
    assert expected_fragment in message


def test_ladder_default_auto_and_explicit() -> None:
    assert Settings.from_env({}).hls.ladder == AUTO_LADDER
    assert Settings.from_env({"HLS_LADDER": "off"}).hls.ladder == ()
    explicit = Settings.from_env({"HLS_LADDER": "480p:1M,240p:crf30"}).hls.ladder
    assert explicit == (RungSpec(480, 1_000_000), RungSpec(240, None, 30))


def test_chunk_segments_default_to_one_job_per_run() -> None:
    assert Settings.from_env({}).hls.chunk_segments == 0
    assert Settings.from_env({"ARTDAG_CHUNK_SEGMENTS": "4"}).hls.chunk_segments == 4


def test_port_message_is_exact() -> None:
    with pytest.raises(SettingsError, match=r"^PORT='abc': expected an integer 1-65535$"):
        Settings.from_env({"PORT": "abc"})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/ip4/127.0.0.1/tcp/5001", Multiaddr("ip4", "127.0.0.1", 5001)),
        ("/dns4/ipfs.local/tcp/80", Multiaddr("dns4", "ipfs.local", 80)),
        ("/ip6/::1/tcp/5001", Multiaddr("ip6", "::1", 5001)),
    ],
)
def test_parse_multiaddr(text: str, expected: Multiaddr) -> None:
    parsed = parse_multiaddr(text)
    assert parsed == expected
    assert str(parsed) == text


def test_ip6_http_url_is_bracketed() -> None:
    assert parse_multiaddr("/ip6/::1/tcp/5001").http_url == "http://[::1]:5001"


def test_from_env_defaults_to_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "8123")
    assert Settings.from_env().server.port == 8123


def test_presets_are_exactly_the_encoders() -> None:
    from hls.options import HLSOptions

    for preset in ("ultrafast", "veryfast", "veryslow"):
        settings = Settings.from_env({"HLS_X264_PRESET": preset})
        assert HLSOptions(preset=settings.hls.x264_preset).preset == preset
    # x264 knows placebo, the encoder options do not: refused at start, not per render
    with pytest.raises(SettingsError, match="HLS_X264_PRESET"):
        Settings.from_env({"HLS_X264_PRESET": "placebo"})


def test_hls_part_seconds_is_off_by_default_and_needs_fmp4() -> None:
    assert Settings.from_env({}).hls.part_seconds == 0.0
    assert Settings.from_env({"HLS_CONTAINER": "ts", "HLS_PART_SECONDS": "0"}).hls.part_seconds == 0
    on = Settings.from_env({"HLS_CONTAINER": "fmp4", "HLS_PART_SECONDS": "0.32"})
    assert on.hls.part_seconds == 0.32
    for env in (
        {"HLS_PART_SECONDS": "0.32"},  # MPEG-TS stays standard HLS
        {"HLS_CONTAINER": "fmp4", "HLS_PART_SECONDS": "5"},
        {"HLS_CONTAINER": "fmp4", "HLS_PART_SECONDS": "fast"},
    ):
        with pytest.raises(SettingsError, match="HLS_PART_SECONDS"):
            Settings.from_env(env)
