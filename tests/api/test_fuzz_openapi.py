"""The API fuzzed from its own OpenAPI document (schemathesis over ``/docs/openapi.json``).

Every answer must not be a 5xx, must have a status the document lists for the
operation, a documented content type and a body matching the documented schema
(schemathesis' ``not_a_server_error``, ``status_code_conformance``,
``content_type_conformance``, ``response_schema_conformance``):

- stateless: every operation with generated valid and invalid input, signed in
  (Bearer token) and anonymous; then, signed in, the operations on one resource
  with the id of one that exists (a recipe, a run, a media item, a provider);
- stateful: call sequences that follow the document's OpenAPI links
  (``api/openapi_links.py``: create, then read, run, cancel or delete), signed in.

Left out of the signed-in runs: the operations that end the session
(``/auth/revoke``, ``/auth/revoke-user``, ``/logout``: the rest of the run
would be anonymous), and ``POST /storage/{provider_id}/test``, which connects to
whatever endpoint a generated provider names (the anonymous run gets its 401).

Bounded and reproducible: :data:`MAX_EXAMPLES` inputs per operation and mode,
as many stateful scenarios of at most :data:`STATEFUL_STEPS` calls, a fixed
seed, ``derandomize``, no example database. The app runs in process
(schemathesis' ASGI transport, in its own event loop thread) on the session's
PostgreSQL database and Redis, its keys under the session prefix. No worker
reads its queue: runs stay pending and nothing renders; the arq keys of the
runs created (``arq:*``, outside the prefix) are deleted at the end. There is
no IPFS node: the operations that need one answer the documented 503
(:data:`EXPECTED_5XX`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import hypothesis
import pytest
import redis
import schemathesis
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.python import asgi as schemathesis_asgi

from streamer.auth import tokens
from streamer.entry.app import create_app
from streamer.keys import RedisKeys
from streamer.settings import Settings
from tests.api.live_media import live_recipe, make_clip_bytes

#: ARTDAG_TEST_FUZZ_EXAMPLES=150 digs deeper (minutes); the test command keeps the default
MAX_EXAMPLES = int(os.environ.get("ARTDAG_TEST_FUZZ_EXAMPLES", "20"))
STATEFUL_STEPS = 8
SEED = 20261206
USER = "fuzzer"
JSON = "application/json"
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
)
#: operations that end the caller's session: not in the signed-in runs
SIGN_OUT = ["/auth/revoke", "/auth/revoke-user", "/logout"]
#: connects to the endpoint a generated provider names; tests/api/test_cache_storage.py
#: tests it against the harness S3 and IPFS
REACHES_OUT = ["/storage/{provider_id}/test"]
#: 5xx answers that are the documented behaviour in this setup: path -> statuses
EXPECTED_5XX: dict[str, list[int]] = {
    # no IPFS node (IPFS_API is a closed port): 503 "IPFS node unreachable" is the
    # documented answer; tests/api/test_api_cache_ipfs.py runs it with a node
    "/ipfs/{cid}/raw": [503],
    # 501 until publishing to L2 lands (the federation work replaces this handler)
    "/cache/{cid}/publish": [501],
}

pytestmark = pytest.mark.timeout(600)


@dataclasses.dataclass
class FuzzTarget:
    """The app under test, a token for :data:`USER` and the runs the fuzzing created."""

    app: Any
    settings: Settings
    token: str
    runs: set[str] = dataclasses.field(default_factory=set)

    @property
    def headers(self) -> dict[str, str]:
        """The signed-in client's headers."""
        return {"Authorization": f"Bearer {self.token}"}

    def remember(self, response: Any) -> None:
        """Note the run an answer names (its arq keys are deleted at the end)."""
        try:
            body = response.json()
        except ValueError:
            return
        if isinstance(body, dict) and isinstance(body.get("run_id"), str):
            self.runs.add(body["run_id"])


def _config() -> schemathesis.Config:
    checks: dict[str, Any] = {"enabled": False, **{name: {"enabled": True} for name in CHECKS}}
    expected_5xx = [
        {
            "include-path": path,
            "checks": {"not_a_server_error": {"expected-statuses": ["2XX", "3XX", "4XX", *codes]}},
        }
        for path, codes in EXPECTED_5XX.items()
    ]
    return schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none"},
            "checks": checks,
            "operations": expected_5xx,
            # a run's /events streams as long as the run is pending (always, here):
            # its first event is the answer to check
            "max-stream-events": 1,
            "request-timeout": 30,
        }
    )


SETTINGS = hypothesis.settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(hypothesis.HealthCheck),
    # no shrinking: the first failing input is reported as found (shrinking reruns it for long)
    phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
)


@pytest.fixture(scope="module")
def target(
    pg_dsn: str, redis_url: str, redis_prefix: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FuzzTarget]:
    root: Path = tmp_path_factory.mktemp("fuzz")
    (root / "imports").mkdir()
    (root / "imports" / "notes.txt").write_text("an importable file\n")
    settings = Settings.from_env(
        {
            "DATABASE_URL": pg_dsn,
            "REDIS_URL": redis_url,
            "ARTDAG_DATA_DIR": str(root / "data"),
            "IMPORT_ROOTS": str(root / "imports"),
            "IPFS_API": "/ip4/127.0.0.1/tcp/1",
            "IPFS_GATEWAY_URL": "http://gateway.invalid/ipfs",
            "ARTDAG_REDIS_PREFIX": f"{redis_prefix}fuzz:",
            # a queue no worker reads: runs stay pending, nothing renders
            "ARTDAG_QUEUE": f"{redis_prefix}fuzz-queue:{uuid.uuid4().hex[:8]}",
        }
    )
    token, _ = tokens.mint_token(tokens.cluster_key(settings), USER, ttl=3600)
    fuzz = FuzzTarget(create_app(settings), settings, token)
    providers = asyncio.run(_provider_ids(pg_dsn))
    try:
        yield fuzz
    finally:
        # the app's lifespan runs in schemathesis' event loop thread: close its pools there
        schemathesis_asgi.shutdown_lifespans()
        asyncio.run(_drop_job_keys(settings, fuzz.runs))
        asyncio.run(_drop_providers(pg_dsn, providers))


async def _provider_ids(dsn: str) -> set[int]:
    conn = await asyncpg.connect(dsn)
    try:
        return {int(r["id"]) for r in await conn.fetch("SELECT id FROM storage_providers")}
    except asyncpg.UndefinedTableError:  # the app migrates the fresh database later
        return set()
    finally:
        await conn.close()


async def _drop_providers(dsn: str, kept: set[int]) -> None:
    """Delete the providers the fuzzing added: later tests share the database, and every
    enabled provider gets a copy of each run they complete."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("DELETE FROM storage_providers WHERE id <> ALL($1::int[])", list(kept))
    finally:
        await conn.close()


async def _drop_job_keys(settings: Settings, runs: set[str]) -> None:
    """Delete arq's keys of the runs created (answers seen, and the rows of :data:`USER`)."""
    conn = await asyncpg.connect(settings.services.database_url)
    try:
        rows = await conn.fetch("SELECT id FROM runs WHERE owner = $1", USER)
    finally:
        await conn.close()
    job_ids = [
        job_id(run_id)
        for run_id in runs | {r["id"] for r in rows}
        for job_id in (RedisKeys.render_job_id, RedisKeys.run_recipe_job_id)
    ]
    keys = [f"arq:{kind}:{job}" for job in job_ids for kind in ("job", "result", "retry")]
    client = redis.Redis.from_url(settings.services.redis_url)
    try:
        for start in range(0, len(keys), 500):
            client.delete(*keys[start : start + 500])
    finally:
        client.close()


@pytest.fixture(scope="module")
def schema(target: FuzzTarget) -> Any:
    """The app's document as schemathesis reads it (through the app, in process)."""
    return schemathesis.openapi.from_asgi("/docs/openapi.json", target.app, config=_config())


def _fuzz(
    target: FuzzTarget,
    operation: Any,
    headers: dict[str, str],
    path_parameters: dict[str, str] | None = None,
) -> str | None:
    """Send generated valid and invalid requests to one operation; its failure, if any."""
    strategy = st.one_of(
        *(
            operation.as_strategy(generation_mode=mode, path_parameters=path_parameters)
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
        )
    )

    @SETTINGS
    @hypothesis.given(case=strategy)
    def run(case: schemathesis.Case[Any]) -> None:
        target.remember(case.call_and_validate(headers=headers))

    try:
        run()
    # schemathesis' FailureGroup is a BaseExceptionGroup; the report names every failing
    # operation, not only the first
    except (Exception, BaseExceptionGroup) as exc:
        return f"{operation.label}: {exc}"
    return None


def _operations(schema: Any, exclude: list[str]) -> list[Any]:
    chosen = schema.exclude(path=exclude) if exclude else schema
    return [result.ok() for result in chosen.get_all_operations()]


def _report(failures: list[str | None]) -> None:
    found = [f for f in failures if f]
    assert not found, "\n\n".join(found)


def test_signed_in_answers_match_the_document(schema: Any, target: FuzzTarget) -> None:
    operations = _operations(schema, SIGN_OUT + REACHES_OUT)
    _report([_fuzz(target, op, target.headers) for op in operations])


def test_anonymous_answers_match_the_document(schema: Any, target: FuzzTarget) -> None:
    _report([_fuzz(target, op, {}) for op in _operations(schema, [])])


def _seed(schema: Any, target: FuzzTarget) -> dict[str, str]:
    """One resource of each kind, made through the API: path parameter -> its id."""

    def call(method: str, path: str, **case: Any) -> Any:
        response = schema[path][method].Case(**case).call(headers=target.headers)
        assert response.status_code in (200, 201), f"{method} {path}: {response.text}"
        target.remember(response)
        return response.json()

    recipe = call("POST", "/recipes/upload", body={"recipe": live_recipe(2.0)}, media_type=JSON)
    run = call(
        "POST",
        "/recipes/{recipe_id}/run",
        path_parameters={"recipe_id": recipe["recipe_id"]},
        body={},
        media_type=JSON,
    )
    item = call(
        "POST",
        "/cache/upload",
        body=make_clip_bytes(1.0),
        media_type="application/octet-stream",
        query={"filename": "clip.mp4"},
    )
    store = target.settings.storage.data_dir / "fuzz-store"
    store.mkdir(parents=True, exist_ok=True)
    provider = call(
        "POST",
        "/storage/add",
        body={"type": "local", "name": "fuzz", "config": {"path": str(store)}},
        media_type=JSON,
    )
    return {
        "recipe_id": recipe["recipe_id"],
        "run_id": run["run_id"],
        "cid": item["cid"],
        "provider_id": str(provider["id"]),
    }


def test_signed_in_answers_on_existing_resources_match_the_document(
    schema: Any, target: FuzzTarget
) -> None:
    """The operations on one resource, given the id of one that exists (deletes last)."""
    seeded = _seed(schema, target)
    operations = [
        op
        for op in _operations(schema, SIGN_OUT + REACHES_OUT)
        if (names := {p.name for p in op.path_parameters}) and names <= seeded.keys()
    ]
    operations.sort(key=lambda op: op.method.upper() == "DELETE")
    assert len(operations) >= 20, [op.label for op in operations]
    _report(
        [
            _fuzz(target, op, target.headers, {p.name: seeded[p.name] for p in op.path_parameters})
            for op in operations
        ]
    )


def test_signed_in_call_sequences_match_the_document(schema: Any, target: FuzzTarget) -> None:
    base = schema.exclude(path=SIGN_OUT + REACHES_OUT).as_state_machine()

    class SignedIn(base):  # type: ignore[misc,valid-type]
        def get_call_kwargs(self, case: schemathesis.Case[Any]) -> dict[str, Any]:
            return {"headers": target.headers}

        def after_call(self, response: Any, case: schemathesis.Case[Any]) -> None:
            target.remember(response)
            super().after_call(response, case)

    SignedIn.run(settings=hypothesis.settings(SETTINGS, stateful_step_count=STATEFUL_STEPS))
