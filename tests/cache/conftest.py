"""Real IPFS node and S3 endpoint for the cache tests.

``ipfs_api`` / ``s3_endpoint`` override the repository-wide fixtures: they use
``ARTDAG_TEST_IPFS_API`` / ``ARTDAG_TEST_S3_ENDPOINT`` when set (``make test``
starts the services), else start them with ``scripts/services/ipfs.sh`` and
``s3.sh`` for this session and stop them afterwards.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aioipfs
import pytest
import pytest_asyncio
from aiobotocore.session import get_session

from cache.ipfs import IPFSStore, open_ipfs_client
from cache.s3 import S3Store, open_s3_client

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = REPO / "scripts" / "services"


def _unavailable(reason: str) -> None:
    if os.environ.get("ARTDAG_REQUIRE_SERVICES") == "1":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


def _start(script: str, state: Path, timeout: float) -> dict[str, str]:
    """Run ``script start STATE`` and parse its ``KEY=value`` lines."""
    try:
        done = subprocess.run(
            [str(SCRIPTS / script), "start", str(state)],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        _unavailable(f"{script} start did not finish within {timeout}s")
        raise
    if done.returncode != 0:
        _unavailable(f"{script} start failed ({done.returncode}): {done.stderr[-2000:]}")
    return dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)


def _stop(script: str, state: Path) -> None:
    subprocess.run(
        [str(SCRIPTS / script), "stop", str(state)], capture_output=True, timeout=60, check=False
    )


@pytest.fixture(scope="session")
def services_state() -> Iterator[Path]:
    """A private state directory for services this session starts itself."""
    path = Path(tempfile.mkdtemp(prefix="artdag-cache-services-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def ipfs_api(services_state: Path) -> Iterator[str]:
    """Multiaddr of a real IPFS node's RPC API (env or started here)."""
    addr = os.environ.get("ARTDAG_TEST_IPFS_API")
    if addr:
        yield addr
        return
    state = services_state / "ipfs"
    env = _start("ipfs.sh", state, timeout=600)
    try:
        yield env["API"]
    finally:
        _stop("ipfs.sh", state)


@pytest.fixture(scope="session")
def s3_endpoint(services_state: Path) -> Iterator[str]:
    """Endpoint URL of a real S3 server (env or moto_server started here)."""
    url = os.environ.get("ARTDAG_TEST_S3_ENDPOINT")
    if url:
        yield url.rstrip("/")
        return
    state = services_state / "s3"
    env = _start("s3.sh", state, timeout=120)
    try:
        yield env["ENDPOINT"]
    finally:
        _stop("s3.sh", state)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def ipfs_client(ipfs_api: str) -> AsyncIterator[aioipfs.AsyncIPFS]:
    client = open_ipfs_client(ipfs_api)
    try:
        yield client
    finally:
        await client.close()


@pytest.fixture
def ipfs_store(ipfs_client: aioipfs.AsyncIPFS) -> IPFSStore:
    return IPFSStore(ipfs_client, timeout=120)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def s3_client(s3_endpoint: str) -> AsyncIterator[object]:
    async with open_s3_client(
        get_session(), s3_endpoint, "us-east-1", ("testing", "testing")
    ) as client:
        yield client


@pytest_asyncio.fixture(loop_scope="session")
async def s3_store(s3_client: object) -> S3Store:
    """A fresh bucket per test."""
    store = S3Store(s3_client, f"artdag-test-{uuid.uuid4().hex[:12]}")
    await store.ensure_bucket()
    return store
