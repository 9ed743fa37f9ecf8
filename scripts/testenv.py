"""Service probes and the embedded-stack holder used by scripts/test.sh.

Subcommands (exit 0 = yes / ok, 1 = no, 2 = usage or unavailable):

    probe pg DSN              a real asyncpg connection answers SELECT 1
    probe redis URL           PING answers
    probe ipfs MULTIADDR      POST /api/v0/id answers 200
    probe s3 URL              the endpoint answers HTTP at all
    freeport                  print a free TCP port on 127.0.0.1
    embedded DATA_DIR OUT     start streamer.embedded.stack.EmbeddedStack, write
                              DATABASE_URL=... / REDIS_URL=... to OUT, hold it
                              until SIGTERM/SIGINT, then stop it

Runs with the project's venv interpreter; imports only installed packages (and
streamer.embedded.stack for ``embedded``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import sys
import threading
from pathlib import Path

__all__ = ["main"]

PROBE_TIMEOUT = 5.0


async def _probe_pg(dsn: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(dsn, timeout=PROBE_TIMEOUT)
    try:
        await conn.fetchval("SELECT 1")
    finally:
        await conn.close()


async def _probe_redis(url: str) -> None:
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(url, socket_connect_timeout=PROBE_TIMEOUT)
    try:
        await client.ping()
    finally:
        await client.aclose()


def multiaddr_to_http(multiaddr: str) -> str:
    """Turn ``/ip4|/dns|/dns4|/dns6/HOST/tcp/PORT`` into ``http://HOST:PORT``."""
    parts = multiaddr.strip("/").split("/")
    if len(parts) < 4 or parts[0] not in {"ip4", "ip6", "dns", "dns4", "dns6"} or parts[2] != "tcp":
        raise ValueError(f"{multiaddr!r}: expected /ip4|/dns/HOST/tcp/PORT")
    host = f"[{parts[1]}]" if parts[0] == "ip6" else parts[1]
    return f"http://{host}:{int(parts[3])}"


async def _probe_ipfs(multiaddr: str) -> None:
    import aiohttp

    timeout = aiohttp.ClientTimeout(total=PROBE_TIMEOUT)
    async with (
        aiohttp.ClientSession(timeout=timeout) as session,
        session.post(multiaddr_to_http(multiaddr) + "/api/v0/id") as resp,
    ):
        if resp.status != 200:
            raise RuntimeError(f"/api/v0/id answered HTTP {resp.status}")


async def _probe_s3(url: str) -> None:
    import aiohttp

    timeout = aiohttp.ClientTimeout(total=PROBE_TIMEOUT)
    async with aiohttp.ClientSession(timeout=timeout) as session, session.get(url) as resp:
        await resp.read()  # any HTTP answer means the endpoint is up


PROBES = {"pg": _probe_pg, "redis": _probe_redis, "ipfs": _probe_ipfs, "s3": _probe_s3}


def probe(kind: str, target: str) -> int:
    """Return 0 when the service answers, 1 (with the reason on stderr) when not."""
    try:
        asyncio.run(asyncio.wait_for(PROBES[kind](target), PROBE_TIMEOUT + 1))
    except Exception as exc:  # any failure means "not reachable"; say why
        print(f"{kind} at {target}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def hold_embedded(data_dir: Path, out: Path) -> int:
    """Start the embedded stack, publish its URLs, keep it until signalled."""
    try:
        from streamer.embedded.stack import EmbeddedStack
    except ImportError as exc:
        print(f"streamer.embedded.stack.EmbeddedStack is not available: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda *_: stop.set())
    # Ctrl-C is for the tests; test.sh stops the stack (SIGTERM) when it exits.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    stack = EmbeddedStack(data_dir, fsync=False)  # throwaway test cluster
    try:
        urls = stack.up()
        tmp = out.with_suffix(".tmp")
        tmp.write_text(f"DATABASE_URL={urls.database_url}\nREDIS_URL={urls.redis_url}\n")
        os.replace(tmp, out)  # test.sh polls for OUT: make it appear complete
        while not stop.wait(1.0):
            pass
    finally:
        stack.down()
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point; see the module docstring for the subcommands."""
    parser = argparse.ArgumentParser(prog="testenv.py")
    sub = parser.add_subparsers(dest="cmd", required=True)
    p_probe = sub.add_parser("probe")
    p_probe.add_argument("kind", choices=sorted(PROBES))
    p_probe.add_argument("target")
    sub.add_parser("freeport")
    p_emb = sub.add_parser("embedded")
    p_emb.add_argument("data_dir", type=Path)
    p_emb.add_argument("out", type=Path)
    args = parser.parse_args(argv)
    if args.cmd == "probe":
        return probe(args.kind, args.target)
    if args.cmd == "freeport":
        print(free_port())
        return 0
    return hold_embedded(args.data_dir, args.out)


if __name__ == "__main__":
    sys.exit(main())
