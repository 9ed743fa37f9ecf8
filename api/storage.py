"""Storage providers API over :mod:`cache.providers` (table ``storage_providers``).

- ``GET /storage``: providers as JSON (browsers get the web page at the same path).
- ``POST /storage``: add from a form (``type``, ``name`` and the type's fields);
  ``POST /storage/add``: add from JSON ``{"type", "name", "config": {...}}``.
- ``GET /storage/{id}``, ``PATCH /storage/{id}`` (``name``, ``config``,
  ``enabled``), ``DELETE /storage/{id}`` (409 while content is pinned there).
- ``POST /storage/{id}/test``: put, read back and delete a probe through the backend.
- ``GET /storage/type/{type}``: the fields a provider of that type takes.

Config per type (validated, with the field at fault in errors):

- ``local``: ``path``: an absolute directory below ``ARTDAG_DATA_DIR`` or an
  import root (so a token cannot make the server write anywhere).
- ``ipfs``: ``api``: an API multiaddr (``/ip4/127.0.0.1/tcp/5001``).
- ``s3``: ``bucket``, optional ``endpoint_url``, ``region``, ``prefix``,
  ``access_key_id``, ``secret_access_key`` (never returned: shown as ``"***"``).
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import json
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
from litestar import Request, Response, Router, delete, get, patch, post
from litestar.datastructures import State
from litestar.params import FromPath
from litestar.response import Redirect

from api.errors import BadRequest, Conflict, NotFound
from api.models import iso
from cache.ipfs import IPFSStore, open_ipfs_client, parse_api_multiaddr
from cache.local import LocalStore
from cache.providers import IPFSBackend, LocalBackend, S3Backend, StorageBackend
from cache.s3 import S3Store, open_s3_client
from streamer.db import storage as repo_storage
from streamer.resources import Resources

__all__ = ["PROVIDER_TYPES", "open_backend", "storage_router", "validate_config"]

TEST_TIMEOUT = 20.0
SECRET = "***"
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,62}$")
_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")

#: type -> field -> (required, description)
PROVIDER_TYPES: dict[str, dict[str, tuple[bool, str]]] = {
    "local": {"path": (True, "absolute directory below ARTDAG_DATA_DIR or an import root")},
    "ipfs": {"api": (True, "IPFS API multiaddr, e.g. /ip4/127.0.0.1/tcp/5001")},
    "s3": {
        "bucket": (True, "bucket name"),
        "endpoint_url": (False, "endpoint URL (MinIO, moto...); empty for AWS"),
        "region": (False, "region (default us-east-1)"),
        "prefix": (False, "key prefix inside the bucket"),
        "access_key_id": (False, "access key id"),
        "secret_access_key": (False, "secret key (write-only)"),
    },
}


def validate_config(kind: str, config: Any, *, allowed_roots: tuple[Path, ...]) -> dict[str, Any]:
    """Check a provider config; returns the cleaned config.

    Raises:
        BadRequest: naming the field (``config.<name>``) and why.
    """
    if kind not in PROVIDER_TYPES:
        raise BadRequest(f"type: {kind!r} is not one of {', '.join(PROVIDER_TYPES)}", field="type")
    if not isinstance(config, dict):
        raise BadRequest("config: expected an object", field="config")
    fields = PROVIDER_TYPES[kind]
    unknown = sorted(set(config) - set(fields))
    if unknown:
        raise BadRequest(
            f"config.{unknown[0]}: not a {kind} field (accepted: {', '.join(fields)})",
            field=f"config.{unknown[0]}",
        )
    out: dict[str, Any] = {}
    for name, (required, _) in fields.items():
        value = config.get(name)
        if value in (None, ""):
            if required:
                raise BadRequest(f"config.{name}: required for {kind}", field=f"config.{name}")
            continue
        if not isinstance(value, str) or len(value) > 1000:
            raise BadRequest(f"config.{name}: expected a string", field=f"config.{name}")
        if "\x00" in value:  # os.path and PostgreSQL both refuse it
            raise BadRequest(f"config.{name}: contains a NUL byte", field=f"config.{name}")
        out[name] = value.strip()
    if kind == "local":
        path = out["path"]
        if not os.path.isabs(path) or ".." in Path(path).parts:
            raise BadRequest(
                "config.path: expected an absolute path without '..'", field="config.path"
            )
        real = Path(path).resolve()
        if not any(real.is_relative_to(r.resolve()) for r in allowed_roots):
            raise BadRequest(
                f"config.path: {path} is not below {', '.join(str(r) for r in allowed_roots)}",
                field="config.path",
            )
    elif kind == "ipfs":
        try:
            parse_api_multiaddr(out["api"])
        except ValueError as exc:
            raise BadRequest(f"config.api: {exc}", field="config.api") from None
    else:
        if not _BUCKET_RE.match(out["bucket"]):
            raise BadRequest("config.bucket: 3-63 of a-z 0-9 . -", field="config.bucket")
        endpoint = out.get("endpoint_url")
        if endpoint is not None:
            parts = urlsplit(endpoint)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise BadRequest(
                    "config.endpoint_url: expected http(s)://host[:port]",
                    field="config.endpoint_url",
                )
        if ("access_key_id" in out) != ("secret_access_key" in out):
            raise BadRequest(
                "config: give both access_key_id and secret_access_key or neither",
                field="config.secret_access_key",
            )
    return out


@contextlib.asynccontextmanager
async def open_backend(
    kind: str, name: str, config: dict[str, Any]
) -> AsyncIterator[StorageBackend]:
    """A backend for a stored provider, with its client closed on exit."""
    if kind == "local":
        store = await asyncio.to_thread(LocalStore, config["path"])
        yield LocalBackend(store, name)
    elif kind == "ipfs":
        client = open_ipfs_client(config["api"])
        try:
            yield IPFSBackend(IPFSStore(client), name)
        finally:
            await client.close()
    else:
        import aiobotocore.session

        keys = None
        if config.get("access_key_id"):
            keys = (config["access_key_id"], config["secret_access_key"])
        async with open_s3_client(
            aiobotocore.session.get_session(),
            config.get("endpoint_url"),
            config.get("region") or "us-east-1",
            keys,
            timeout=TEST_TIMEOUT,
        ) as client:
            yield S3Backend(
                S3Store(client, config["bucket"]), name, prefix=config.get("prefix", "")
            )


def _public(row: Any) -> dict[str, Any]:
    config = dict(row["config"] or {})
    if "secret_access_key" in config:
        config["secret_access_key"] = SECRET
    return {
        "id": row["id"],
        "type": row["type"],
        "name": row["name"],
        "config": config,
        "enabled": row["enabled"],
        "created_at": iso(row["created_at"]),
        "links": {"self": f"/storage/{row['id']}", "test": f"/storage/{row['id']}/test"},
    }


def _roots(res: Resources) -> tuple[Path, ...]:
    storage = res.settings.storage
    return (Path(storage.data_dir), *storage.import_roots)


def _name(value: Any) -> str:
    if not isinstance(value, str) or not _NAME_RE.match(value.strip()):
        raise BadRequest(
            "name: 1-63 letters, digits, spaces, _ . - (starting with a letter or digit)",
            field="name",
        )
    return value.strip()


async def _insert(res: Resources, kind: Any, name: Any, config: Any) -> dict[str, Any]:
    if not isinstance(kind, str):
        raise BadRequest("type: expected one of " + ", ".join(PROVIDER_TYPES), field="type")
    clean_name = _name(name)
    clean = await asyncio.to_thread(validate_config, kind, config, allowed_roots=_roots(res))
    try:
        row = await repo_storage.create_storage_provider(
            res.db, kind=kind, name=clean_name, config=clean
        )
    except asyncpg.UniqueViolationError:
        raise Conflict(f"a storage provider named {clean_name!r} exists", field="name") from None
    return _public(row)


async def _row(res: Resources, provider_id: int) -> dict[str, Any]:
    row = await repo_storage.get_storage_provider(res.db, provider_id)
    if row is None:
        raise NotFound(f"storage provider {provider_id} not found", field="id")
    return row


@get("/storage", summary="List storage providers")
async def list_providers(res: Resources) -> dict[str, Any]:
    rows = await repo_storage.list_storage_providers(res.db)
    return {"providers": [_public(r) for r in rows], "types": list(PROVIDER_TYPES)}


@post("/storage", summary="Add a storage provider (form)")
async def add_form(res: Resources, request: Request[Any, Any, State]) -> Response[Any]:
    """Form fields ``type``, ``name`` and the config, as the type's fields or as one
    ``config`` JSON object. Answers 201 JSON, a one-line HTML message to htmx, or a
    303 to ``/storage`` for a plain browser form."""
    form = await request.form()
    kind = form.get("type")
    fields = PROVIDER_TYPES.get(kind if isinstance(kind, str) else "", {})
    config: dict[str, Any] = {}
    raw = form.get("config")
    if isinstance(raw, str) and raw.strip():
        try:
            config = json.loads(raw)
        except ValueError as exc:
            raise BadRequest(f"config: invalid JSON ({exc})", field="config") from None
        if not isinstance(config, dict):
            raise BadRequest("config: expected a JSON object", field="config")
    for key in fields:
        value = form.get(key)
        if isinstance(value, str) and value:
            config[key] = value
    doc = await _insert(res, kind, form.get("name"), config)
    if request.headers.get("hx-request"):
        text = f"Added {doc['type']} provider {html.escape(doc['name'])} (#{doc['id']})."
        return Response(text, status_code=201, media_type="text/html")
    if "text/html" in request.headers.get("accept", ""):
        return Redirect(path="/storage", status_code=303)
    return Response(doc, status_code=201)


@post("/storage/add", status_code=201, summary="Add a storage provider (JSON)")
async def add_json(res: Resources, request: Request[Any, Any, State]) -> dict[str, Any]:
    """``{"type": "local|ipfs|s3", "name": ..., "config": {...}}``."""
    try:
        doc = await request.json()
    except Exception:
        raise BadRequest("body: expected a JSON object") from None
    if not isinstance(doc, dict):
        raise BadRequest("body: expected a JSON object")
    return await _insert(res, doc.get("type"), doc.get("name"), doc.get("config", {}))


@get("/storage/{provider_id:int}", summary="One storage provider")
async def get_provider(res: Resources, provider_id: FromPath[int]) -> dict[str, Any]:
    return _public(await _row(res, provider_id))


@patch("/storage/{provider_id:int}", summary="Update a storage provider")
async def patch_provider(
    res: Resources, request: Request[Any, Any, State], provider_id: FromPath[int]
) -> Any:
    """``name``, ``enabled`` and/or ``config`` (merged; ``"***"`` keeps the stored secret)."""
    row = await _row(res, provider_id)
    try:
        doc = await request.json()
    except Exception:
        raise BadRequest("body: expected a JSON object") from None
    if not isinstance(doc, dict):
        raise BadRequest("body: expected a JSON object")
    unknown = sorted(set(doc) - {"name", "enabled", "config"})
    if unknown:
        raise BadRequest(
            f"{unknown[0]}: cannot be changed (name, enabled, config)", field=unknown[0]
        )
    name = _name(doc["name"]) if "name" in doc else row["name"]
    enabled = doc.get("enabled", row["enabled"])
    if not isinstance(enabled, bool):
        raise BadRequest("enabled: expected true or false", field="enabled")
    config = dict(row["config"] or {})
    if "config" in doc:
        if not isinstance(doc["config"], dict):
            raise BadRequest("config: expected an object", field="config")
        for key, value in doc["config"].items():
            if key == "secret_access_key" and value == SECRET:
                continue
            config[key] = value
    clean = await asyncio.to_thread(validate_config, row["type"], config, allowed_roots=_roots(res))
    try:
        new = await repo_storage.update_storage_provider(
            res.db, provider_id, name=name, enabled=enabled, config=clean
        )
    except asyncpg.UniqueViolationError:
        raise Conflict(f"a storage provider named {name!r} exists", field="name") from None
    if new is None:  # deleted meanwhile
        raise NotFound(f"storage provider {provider_id} not found", field="id")
    return _public(new)


@delete("/storage/{provider_id:int}", status_code=200, summary="Remove a storage provider")
async def delete_provider(res: Resources, provider_id: FromPath[int]) -> dict[str, Any]:
    """409 while content is pinned on it (unpin first)."""
    await _row(res, provider_id)
    pins = await repo_storage.count_pins_on_provider(res.db, provider_id)
    if pins:
        raise Conflict(f"{pins} item(s) are pinned on provider {provider_id}", field="id")
    await repo_storage.delete_storage_provider(res.db, provider_id)
    return {"deleted": provider_id}


@post("/storage/{provider_id:int}/test", status_code=200, summary="Test a storage provider")
async def test_provider(res: Resources, provider_id: FromPath[int]) -> dict[str, Any]:
    """``{"ok", "latency_ms", "detail"}``: a probe put, read back and deleted."""
    row = await _row(res, provider_id)
    try:
        async with open_backend(row["type"], row["name"], dict(row["config"])) as backend:
            result = await asyncio.wait_for(backend.test(), TEST_TIMEOUT)
    except TimeoutError:
        result = {"ok": False, "latency_ms": TEST_TIMEOUT * 1000, "detail": "timed out"}
    except Exception as exc:  # a backend that cannot even open is a failed test, not a 500
        result = {"ok": False, "latency_ms": 0.0, "detail": f"{type(exc).__name__}: {exc}"[:500]}
    return {"id": provider_id, "name": row["name"], "type": row["type"], **result}


@get("/storage/type/{kind:str}", summary="Fields of a provider type")
async def provider_type(kind: FromPath[str]) -> dict[str, Any]:
    if kind not in PROVIDER_TYPES:
        raise NotFound(f"no provider type {kind!r} ({', '.join(PROVIDER_TYPES)})", field="type")
    return {
        "type": kind,
        "fields": [
            {"name": n, "required": req, "description": d}
            for n, (req, d) in PROVIDER_TYPES[kind].items()
        ],
    }


storage_router = Router(
    path="/",
    route_handlers=[
        list_providers,
        add_form,
        add_json,
        get_provider,
        patch_provider,
        delete_provider,
        test_provider,
        provider_type,
    ],
    tags=["storage"],
)
