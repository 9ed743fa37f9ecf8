"""Storage providers (table ``storage_providers``): add, change, remove and test them.

Rows are returned as stored (secrets included): hiding them is the
presentation's job. Validation of the config is :mod:`streamer.content.provider_config`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg

from streamer.content.provider_config import (
    PROVIDER_TYPES,
    SECRET,
    TEST_TIMEOUT,
    check_name,
    open_backend,
    validate_config,
)
from streamer.db import storage as storage_db
from streamer.errors import Conflict, InvalidValue, Missing
from streamer.resources import Resources

__all__ = [
    "ProviderTest",
    "add_provider",
    "allowed_roots",
    "form_config",
    "get_provider",
    "list_providers",
    "probe_provider",
    "remove_provider",
    "type_fields",
    "update_provider",
]


@dataclass(frozen=True)
class ProviderTest:
    """The outcome of putting, reading back and deleting a probe through a provider."""

    row: dict[str, Any]
    ok: bool
    latency_ms: float
    detail: str


def allowed_roots(res: Resources) -> tuple[Path, ...]:
    """Where a ``local`` provider may keep its files: the data directory and the import roots."""
    storage = res.settings.storage
    return (Path(storage.data_dir), *storage.import_roots)


async def list_providers(res: Resources) -> list[dict[str, Any]]:
    """Every provider, by id."""
    return await storage_db.list_storage_providers(res.db)


async def get_provider(res: Resources, provider_id: int) -> dict[str, Any]:
    """One provider.

    Raises:
        Missing: no provider has this id.
    """
    row = await storage_db.get_storage_provider(res.db, provider_id)
    if row is None:
        raise Missing(f"storage provider {provider_id} not found", field="id")
    return row


async def add_provider(res: Resources, kind: Any, name: Any, config: Any) -> dict[str, Any]:
    """Validate and store a provider; returns its row.

    Raises:
        InvalidValue: the type, name or config is not valid (``field`` says which).
        Conflict: a provider with this name exists.
    """
    if not isinstance(kind, str):
        raise InvalidValue("type: expected one of " + ", ".join(PROVIDER_TYPES), field="type")
    clean_name = check_name(name)
    clean = await asyncio.to_thread(
        validate_config,
        kind,
        config,
        allowed_roots=allowed_roots(res),
        allow_private=res.settings.network.allow_private_endpoints,
    )
    try:
        return await storage_db.create_storage_provider(
            res.db, kind=kind, name=clean_name, config=clean
        )
    except asyncpg.UniqueViolationError:
        raise Conflict(f"a storage provider named {clean_name!r} exists", field="name") from None


def form_config(
    kind: Any, raw_config: str | None, fields: Mapping[str, str | None]
) -> dict[str, Any]:
    """A config from a web form: a ``config`` JSON object, then the type's own fields over it.

    Empty fields are left out; fields of other types are ignored.

    Raises:
        InvalidValue: ``raw_config`` is not a JSON object.
    """
    config: dict[str, Any] = {}
    if raw_config is not None and raw_config.strip():
        try:
            config = json.loads(raw_config)
        except ValueError as exc:
            raise InvalidValue(f"config: invalid JSON ({exc})", field="config") from None
        if not isinstance(config, dict):
            raise InvalidValue("config: expected a JSON object", field="config")
    for key in PROVIDER_TYPES.get(kind, {}) if isinstance(kind, str) else ():
        value = fields.get(key)
        if value:
            config[key] = value
    return config


async def update_provider(
    res: Resources,
    provider_id: int,
    *,
    name: str | None = None,
    enabled: bool | None = None,
    config: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Change a provider; None leaves a field as it is.

    ``config`` is merged into the stored one; a ``secret_access_key`` of
    :data:`~streamer.content.provider_config.SECRET` keeps the stored secret.

    Raises:
        Missing: no provider has this id.
        InvalidValue: the name or the merged config is not valid.
        Conflict: another provider has this name.
    """
    row = await get_provider(res, provider_id)
    new_name = check_name(name) if name is not None else row["name"]
    merged = dict(row["config"] or {})
    for key, value in (config or {}).items():
        if key == "secret_access_key" and value == SECRET:
            continue
        merged[key] = value
    roots = allowed_roots(res)
    clean = await asyncio.to_thread(
        validate_config,
        row["type"],
        merged,
        allowed_roots=roots,
        allow_private=res.settings.network.allow_private_endpoints,
    )
    try:
        new = await storage_db.update_storage_provider(
            res.db,
            provider_id,
            name=new_name,
            enabled=row["enabled"] if enabled is None else enabled,
            config=clean,
        )
    except asyncpg.UniqueViolationError:
        raise Conflict(f"a storage provider named {new_name!r} exists", field="name") from None
    if new is None:  # deleted meanwhile
        raise Missing(f"storage provider {provider_id} not found", field="id")
    return new


async def remove_provider(res: Resources, provider_id: int) -> None:
    """Delete a provider.

    Raises:
        Missing: no provider has this id.
        Conflict: content is pinned on it (unpin first).
    """
    await get_provider(res, provider_id)
    pins = await storage_db.count_pins_on_provider(res.db, provider_id)
    if pins:
        raise Conflict(f"{pins} item(s) are pinned on provider {provider_id}", field="id")
    await storage_db.delete_storage_provider(res.db, provider_id)


async def probe_provider(res: Resources, provider_id: int) -> ProviderTest:
    """Put, read back and delete a probe; a backend that fails (or cannot open) is reported.

    Raises:
        Missing: no provider has this id.
    """
    row = await get_provider(res, provider_id)
    try:
        async with open_backend(row["type"], row["name"], dict(row["config"])) as backend:
            result = await asyncio.wait_for(backend.test(), TEST_TIMEOUT)
    except TimeoutError:
        result = {"ok": False, "latency_ms": TEST_TIMEOUT * 1000, "detail": "timed out"}
    except Exception as exc:  # a backend that cannot even open is a failed test, not a 500
        result = {"ok": False, "latency_ms": 0.0, "detail": f"{type(exc).__name__}: {exc}"[:500]}
    return ProviderTest(row, bool(result["ok"]), float(result["latency_ms"]), str(result["detail"]))


def type_fields(kind: str) -> list[tuple[str, bool, str]]:
    """``(name, required, description)`` of each config field of a provider type.

    Raises:
        Missing: there is no such type.
    """
    fields = PROVIDER_TYPES.get(kind)
    if fields is None:
        raise Missing(f"no provider type {kind!r} ({', '.join(PROVIDER_TYPES)})", field="type")
    return [(n, req, d) for n, (req, d) in fields.items()]
