"""Provenance: one record per render, in the specification's format.

```json
{"task_id": "...", "rendered_at": "2026-...Z", "rendered_by": "@user@domain",
 "output": {"name": "...", "cid": "Qm..."},
 "inputs": [{"name": "video", "cid": "Qm..."}],
 "effects": [{"name": "invert", "version": "0.1.0"}],
 "infrastructure": {"software": {"name": "infra:artdag", "cid": "Qm..."},
                    "hardware": {"name": "infra:<hostname>", "cid": "Qm..."}}}
```

The software and hardware CIDs are the IPFS CIDs (``ipfs add`` defaults) of
the canonical JSON of their descriptors: :func:`software_descriptor`
(package name, version, git commit when the source is a checkout) and
:func:`hardware_descriptor` (host, CPU model, cores, memory).
:func:`record_render_provenance` stores the record in PostgreSQL and, when a
node answers, adds the record and both descriptors to IPFS.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import importlib.metadata
import logging
import os
import platform
import socket
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from cache.cid import cid_of_bytes
from interpreter.ids import canonical_json
from interpreter.nodes import NodeType, Recipe
from interpreter.planner import ExecutionPlan
from streamer.db import content as content_db
from streamer.resources import Resources

__all__ = [
    "PACKAGE",
    "build_provenance",
    "descriptor_cid",
    "hardware_descriptor",
    "plan_effects",
    "recipe_effects",
    "record_render_provenance",
    "rendered_by",
    "software_descriptor",
]

log = logging.getLogger(__name__)

PACKAGE = "artdag-l1"
_SOURCE_ROOT = Path(__file__).resolve().parent.parent


def _package_version() -> str:
    try:
        return importlib.metadata.version(PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        return "0+unknown"


def _git_commit(root: Path = _SOURCE_ROOT) -> str | None:
    if not (root / ".git").exists():
        return None
    try:
        out = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = out.stdout.strip()
    return commit or None


def software_descriptor() -> dict[str, Any]:
    """Package name, version and git commit (None outside a checkout). Blocking."""
    return {"name": PACKAGE, "version": _package_version(), "git_commit": _git_commit()}


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith(("model name", "hardware", "cpu model")):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine() or "unknown"


def _memory_bytes() -> int | None:
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    with contextlib.suppress(ValueError, OSError, AttributeError):
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    return None


def hardware_descriptor() -> dict[str, Any]:
    """Host name, CPU model, logical cores, memory in bytes, machine type. Blocking."""
    return {
        "hostname": socket.gethostname(),
        "cpu_model": _cpu_model(),
        "cpu_cores": os.cpu_count(),
        "memory_bytes": _memory_bytes(),
        "machine": platform.machine(),
    }


def descriptor_cid(descriptor: Mapping[str, Any]) -> str:
    """CID of the canonical JSON of ``descriptor`` (what ``ipfs add`` would answer)."""
    return cid_of_bytes(canonical_json(dict(descriptor)).encode())


def recipe_effects(recipe: Recipe, version: str | None = None) -> list[dict[str, str]]:
    """``[{"name", "version"}]`` of every effect a recipe uses (EFFECT and MAP), sorted."""
    names = {
        str(s.config["effect"])
        for s in recipe.steps
        if s.type in (NodeType.EFFECT, NodeType.MAP) and s.config.get("effect")
    }
    v = version or _package_version()
    return [{"name": n, "version": v} for n in sorted(names)]


def plan_effects(plan: ExecutionPlan, version: str | None = None) -> list[dict[str, str]]:
    """Like :func:`recipe_effects` for an execution plan."""
    names = {
        str(s.config["effect"])
        for s in plan.steps
        if s.node_type in ("EFFECT", "MAP") and s.config.get("effect")
    }
    v = version or _package_version()
    return [{"name": n, "version": v} for n in sorted(names)]


def rendered_by(owner: str | None, l2_domain: str | None) -> str:
    """The actor of a render: ``@user@domain`` (owner as given when already an actor)."""
    if owner and owner.startswith("@"):
        return owner
    domain = l2_domain or socket.gethostname()
    return f"@{owner or 'artdag'}@{domain}"


def _inputs_list(inputs: Mapping[str, str] | Iterable[tuple[str, str]]) -> list[dict[str, str]]:
    pairs = inputs.items() if isinstance(inputs, Mapping) else inputs
    return [{"name": str(n), "cid": str(c)} for n, c in pairs]


def build_provenance(
    *,
    task_id: str,
    output_name: str,
    output_cid: str,
    inputs: Mapping[str, str] | Iterable[tuple[str, str]],
    effects: Iterable[Mapping[str, str]],
    rendered_by: str,
    software: Mapping[str, Any],
    hardware: Mapping[str, Any],
    rendered_at: dt.datetime | None = None,
) -> dict[str, Any]:
    """One provenance record in the specification's format (pure).

    Args:
        task_id: The worker job id.
        output_name: File name of the output (``"<recipe>.mp4"``).
        output_cid: Its CID.
        inputs: Input name -> CID (or pairs).
        effects: ``{"name", "version"}`` of each effect used.
        rendered_by: The actor (``@user@domain``).
        software: :func:`software_descriptor` (its CID goes in the record).
        hardware: :func:`hardware_descriptor` (its CID goes in the record).
        rendered_at: When (default: now, UTC).
    """
    when = rendered_at or dt.datetime.now(dt.UTC)
    host = str(hardware.get("hostname") or socket.gethostname())
    return {
        "task_id": task_id,
        "rendered_at": when.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
        "rendered_by": rendered_by,
        "output": {"name": output_name, "cid": output_cid},
        "inputs": _inputs_list(inputs),
        "effects": [{"name": str(e["name"]), "version": str(e["version"])} for e in effects],
        "infrastructure": {
            "software": {"name": "infra:artdag", "cid": descriptor_cid(software)},
            "hardware": {"name": f"infra:{host}", "cid": descriptor_cid(hardware)},
        },
    }


async def record_render_provenance(
    res: Resources,
    run: Mapping[str, Any],
    output_cid: str,
    *,
    job_id: str | None = None,
    output_name: str | None = None,
    effects: Iterable[Mapping[str, str]] | None = None,
    recipe: Recipe | None = None,
    plan: ExecutionPlan | None = None,
    rendered_at: dt.datetime | None = None,
) -> dict[str, Any]:
    """Build, store (PostgreSQL) and publish (IPFS, when reachable) a render's record.

    Args:
        res: the process's resources (database, stores, settings).
        job_id: the arq job that rendered it (default: the run's ``task_id``).
        run: The run row (``id``, ``inputs``, ``owner``, ``recipe_id``).
        output_cid: CID of the rendered output.
        output_name: Output file name (default ``<recipe name or run id>.mp4``).
        effects: Effects used; else taken from ``recipe`` or ``plan``.
        recipe: The rendered recipe (effects, default name).
        plan: The executed plan (effects, default name).
        rendered_at: Render start (default: now).

    Returns:
        ``{"id": row id, "record": the record, "record_cid": CID of its canonical
        JSON, "ipfs": whether it was added to IPFS}``.
    """
    software, hardware = await asyncio.gather(
        asyncio.to_thread(software_descriptor), asyncio.to_thread(hardware_descriptor)
    )
    if effects is None:
        effects = (
            recipe_effects(recipe)
            if recipe is not None
            else plan_effects(plan)
            if plan is not None
            else []
        )
    name = output_name or (
        recipe.name if recipe is not None else plan.recipe_name if plan is not None else run["id"]
    )
    if output_name is None:
        name = f"{name}.mp4"
    l2_domain = res.settings.federation.l2_domain
    record = build_provenance(
        task_id=str(job_id or run.get("task_id") or ""),
        output_name=name,
        output_cid=output_cid,
        inputs=dict(run.get("inputs") or {}),
        effects=effects,
        rendered_by=rendered_by(run.get("owner"), l2_domain),
        software=software,
        hardware=hardware,
        rendered_at=rendered_at,
    )
    row_id = await content_db.record_provenance(
        res.db, run_id=run["id"], cid=output_cid, record=record
    )
    body = canonical_json(record).encode()
    published = False
    ipfs = await res.stores.reachable_ipfs()
    if ipfs is not None:
        try:
            for doc in (software, hardware):
                await ipfs.add_bytes(canonical_json(doc).encode())
            await ipfs.add_bytes(body)
            published = True
        except Exception as exc:  # provenance on IPFS is best effort; PostgreSQL has it
            log.warning("run %s: provenance not added to IPFS: %s", run["id"], exc)
    return {"id": row_id, "record": record, "record_cid": cid_of_bytes(body), "ipfs": published}
