"""An independent L2 for the publishing tests: bovine-herd, a maintained ActivityPub server.

Run as its own process (``python -m tests.streamer.federation.bovine_l2 --port P
--db /tmp/l2.sqlite3 --info /tmp/l2.json``), it serves bovine-herd on
``127.0.0.1:P`` with a SQLite store and, on its first start, registers the user
``alice`` (an RSA key pair bovine makes, and an Ed25519 ``did:key`` identity so
the tests can read her inbox with Moo-Auth-1). ``--info`` receives
``{"domain", "account", "actor_id", "inbox", "followers", "secret"}`` once it serves.

bovine verifies every POST to an inbox with the sender's HTTP Signature (it
fetches the key from the ``keyId`` URL, signing that GET with its own
application actor), stores the activity and its object, and applies
``Update`` and ``Delete`` to the stored object: the tests read what it kept
through alice's inbox collection and her ``proxyUrl`` endpoint.

Restarted on the same ``--db`` and ``--info``, it keeps alice and what it stored
(the "L2 comes back" test). :class:`BovineL2` runs it from a test: start, stop,
read alice's inbox and objects through bovine's own client, and read what its
store holds.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import socket
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
from bovine import BovineClient
from bovine.crypto import generate_ed25519_private_key, private_key_to_did_key
from bovine.types import Visibility
from bovine_herd import BovineHerd
from bovine_store import BovineAdminStore
from hypercorn.asyncio import serve
from hypercorn.config import Config
from quart import Quart

USER = "alice"


async def _register(domain: str, info_path: Path) -> None:
    """Register alice unless a previous start did (her info file says so)."""
    if info_path.exists():
        return
    store = BovineAdminStore(domain=domain)
    bovine_name = await store.register(USER)
    secret = generate_ed25519_private_key()
    did_key = private_key_to_did_key(secret)
    await store.add_identity_string_to_actor(bovine_name, "tests", did_key)
    actor = await store.actor_for_name(bovine_name)
    assert actor is not None
    doc: dict[str, Any] = actor.actor_object.build(visibility=Visibility.OWNER)
    info = {
        "domain": domain,
        "account": f"{USER}@{domain.split('://', 1)[1]}",
        "actor_id": doc["id"],
        "inbox": doc["inbox"],
        "followers": doc["followers"],
        "secret": secret,
    }
    tmp = info_path.with_suffix(".tmp")
    tmp.write_text(json.dumps(info))
    tmp.replace(info_path)


def build_app(port: int, db: Path, info_path: Path) -> Quart:
    """bovine-herd on ``db`` with alice registered once it serves."""
    app = Quart(__name__)
    BovineHerd(app, db_url=f"sqlite://{db}")
    domain = f"http://127.0.0.1:{port}"

    @app.before_serving
    async def register_alice() -> None:  # after BovineHerd's own start-up (tortoise)
        await _register(domain, info_path)

    return app


def main() -> None:
    """Serve until killed."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--info", type=Path, required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    config = Config()
    config.bind = [f"127.0.0.1:{args.port}"]
    config.accesslog = "-"
    asyncio.run(serve(build_app(args.port, args.db, args.info), config))


_ROOT = Path(__file__).resolve().parents[3]


class BovineL2:
    """A bovine-herd process on ``127.0.0.1:port`` with its store in ``folder``."""

    def __init__(self, folder: Path, port: int) -> None:
        self.folder = folder
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self._proc: asyncio.subprocess.Process | None = None
        self.log = folder / "l2.log"

    @property
    def db(self) -> Path:
        """The SQLite store."""
        return self.folder / "l2.sqlite3"

    @property
    def info(self) -> dict[str, Any]:
        """alice's ``domain``, ``account``, ``actor_id``, ``inbox``, ``followers``, ``secret``."""
        doc: dict[str, Any] = json.loads((self.folder / "info.json").read_text())
        return doc

    def _serving(self) -> bool:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), 0.2):
            return (self.folder / "info.json").exists()
        return False

    async def start(self, timeout: float = 60.0) -> None:
        """Start the server and wait until it serves (alice registered)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "PYTHONPATH": str(_ROOT)}
        with self.log.open("ab") as log:
            self._proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "tests.streamer.federation.bovine_l2",
                "--port",
                str(self.port),
                "--db",
                str(self.db),
                "--info",
                str(self.folder / "info.json"),
                cwd=self.folder,  # bovine caches JSON-LD contexts in its working folder
                env=env,
                stdout=log,
                stderr=log,
            )
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not await asyncio.to_thread(self._serving):
            if self._proc.returncode is not None or loop.time() > deadline:
                await self.stop()
                raise RuntimeError(f"bovine L2 did not start: {self.log.read_text()[-3000:]}")
            await asyncio.sleep(0.2)

    async def stop(self) -> None:
        """Stop the server (its store stays)."""
        proc, self._proc = self._proc, None
        if proc is None or proc.returncode is not None:
            return
        proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), 15)
        except TimeoutError:
            proc.kill()
            await proc.wait()

    def client(self) -> Any:
        """alice's bovine client (Moo-Auth-1 with her Ed25519 key): ``async with``."""
        return BovineClient(domain=self.info["domain"], secret=self.info["secret"])

    async def inbox(self) -> list[Any]:
        """The activities (or their ids) in alice's inbox, newest first (the first page)."""
        async with self.client() as alice:
            collection: dict[str, Any] = await alice.get(self.info["inbox"])
            page = collection
            if "orderedItems" not in collection and collection.get("first"):
                first = collection["first"]
                page = await alice.get(first if isinstance(first, str) else first["id"])
        return list(page.get("orderedItems") or [])

    async def fetch(self, object_id: str) -> dict[str, Any] | None:
        """GET ``object_id`` from L2 as alice (its ``proxyUrl`` endpoint: L2's stored copy)."""
        async with self.client() as alice:
            try:
                doc: dict[str, Any] = await alice.proxy(object_id)
            except aiohttp.ClientResponseError as exc:
                if exc.status == 404:
                    return None
                raise
        return doc

    async def wait_stored(
        self, object_id: str, until: Callable[[dict[str, Any]], bool], timeout: float = 30.0
    ) -> dict[str, Any]:
        """What the store keeps under ``object_id`` once ``until`` holds (bovine processes
        an inbox post after answering it)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        doc = await asyncio.to_thread(self.stored, object_id)
        while doc is None or not until(doc):
            if loop.time() > deadline:
                tail = self.log.read_text(errors="replace")[-4000:]
                raise AssertionError(f"L2 keeps {doc} under {object_id}; its log ends:\n{tail}")
            await asyncio.sleep(0.2)
            doc = await asyncio.to_thread(self.stored, object_id)
        return doc

    def stored(self, object_id: str) -> dict[str, Any] | None:
        """The JSON L2's store keeps under ``object_id`` (None when it keeps nothing)."""
        with contextlib.closing(sqlite3.connect(self.db)) as db:
            row = db.execute(
                "SELECT content FROM storedjsonobject WHERE id = ?", (object_id,)
            ).fetchone()
        return None if row is None else dict(json.loads(row[0]))


if __name__ == "__main__":
    main()
