"""Fixtures of the fault tests: private services they may stop and start again.

- ``private_redis``: a redis-server of this test only (nothing on disk).
- ``private_pg``: a PostgreSQL cluster of this session (initdb once); each test
  takes a fresh database with ``await private_pg.new_database()``; a test that
  stops it gets it started again at teardown.
- ``private_ipfs``: a js-ipfs node of this test (``scripts/services/ipfs.sh``).
- ``fault_env``: the settings environment of one stack (data folders, a queue of
  its own, an IPFS API nobody answers unless given).
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from streamer.embedded.procs import ServiceError, free_port
from tests.conftest import unavailable
from tests.streamer.faults.services import TEST_ENV, PrivateIPFS, PrivatePostgres, PrivateRedis

NODE_MODULES = Path(__file__).resolve().parents[3] / "tools" / "ipfs-node" / "node_modules"


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    """A started redis-server of this test on a free port."""
    if shutil.which("redis-server") is None:
        unavailable("redis-server not on PATH (Debian package redis-server)")
    redis = PrivateRedis(tmp_path / "redis")
    redis.start()
    try:
        yield redis
    finally:
        redis.stop()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def _pg_cluster() -> AsyncIterator[PrivatePostgres]:
    # not under pytest's basetemp: another pytest session on the machine resets
    # /tmp/pytest-of-<user> to 0700, and the postgres user must pass through it
    root = Path(tempfile.mkdtemp(prefix="artdag-faults-pg-"))
    pg = PrivatePostgres(root)
    try:
        await asyncio.to_thread(pg.start)
    except (ServiceError, OSError) as exc:
        shutil.rmtree(root, ignore_errors=True)
        unavailable(f"no private PostgreSQL cluster: {exc}")
    try:
        yield pg
    finally:
        await asyncio.to_thread(pg.stop)
        shutil.rmtree(root, ignore_errors=True)


@pytest_asyncio.fixture(loop_scope="session")
async def private_pg(_pg_cluster: PrivatePostgres) -> AsyncIterator[PrivatePostgres]:
    """The session's private cluster, running; started again after a test that stopped it."""
    if not _pg_cluster.running():
        await asyncio.to_thread(_pg_cluster.start)
    try:
        yield _pg_cluster
    finally:
        if not _pg_cluster.running():
            await asyncio.to_thread(_pg_cluster.start)


@pytest.fixture
def private_ipfs(tmp_path: Path) -> Iterator[PrivateIPFS]:
    """A started js-ipfs node of this test."""
    if not NODE_MODULES.is_dir():
        unavailable("js-ipfs not installed (scripts/services/ipfs.sh start installs it)")
    node = PrivateIPFS(tmp_path / "ipfs")
    node.start()
    try:
        yield node
    finally:
        node.stop()


@pytest.fixture
def fault_env(tmp_path: Path) -> Callable[..., dict[str, str]]:
    """``fault_env(database_url, redis_url, **extra)``: one stack's settings environment."""
    queue = f"faults-{uuid.uuid4().hex[:8]}"

    def make(database_url: str, redis_url: str, **extra: str) -> dict[str, str]:
        return {
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "ARTDAG_DATA_DIR": str(tmp_path / "data"),
            "CACHE_DIR": str(tmp_path / "cache"),
            "IPFS_API": f"/ip4/127.0.0.1/tcp/{free_port()}",
            "IPFS_GATEWAY_URL": "http://gateway.invalid/ipfs",
            "ARTDAG_REDIS_PREFIX": f"{queue}:",
            "ARTDAG_QUEUE": f"{queue}:queue",
            **TEST_ENV,
            **extra,
        }

    return make
