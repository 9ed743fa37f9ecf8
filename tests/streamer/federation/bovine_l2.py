"""An independent L2 for the publishing tests: bovine-herd, a maintained ActivityPub server.

Run as its own process (``python -m tests.streamer.federation.bovine_l2 --port P
--db /tmp/l2.sqlite3 --info /tmp/l2.json``), it serves bovine-herd on
``127.0.0.1:P`` with a SQLite store and, on its first start, registers the user
``alice`` (an RSA key pair bovine makes, and an Ed25519 ``did:key`` identity so
the tests can read her inbox with Moo-Auth-1). ``--info`` receives
``{"domain", "account", "actor_id", "inbox", "secret"}`` once it serves.

bovine verifies every POST to an inbox with the sender's HTTP Signature (it
fetches the key from the ``keyId`` URL, signing that GET with its own
application actor), stores the activity and its object, and applies
``Update`` and ``Delete`` to the stored object: the tests read what it kept
through alice's inbox collection and her ``proxyUrl`` endpoint.

Restarted on the same ``--db`` and ``--info``, it keeps alice and what it stored
(the "L2 comes back" test).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
from pathlib import Path
from typing import Any

from bovine.crypto import generate_ed25519_private_key, private_key_to_did_key
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
    doc: dict[str, Any] = actor.actor_object.build()
    info = {
        "domain": domain,
        "account": f"{USER}@{domain.split('://', 1)[1]}",
        "actor_id": doc["id"],
        "inbox": doc["inbox"],
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


if __name__ == "__main__":
    main()
