"""Where phase 3 finds its data: stored plans, cached step outputs, media files and analyses."""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path
from typing import Any

from cache.errors import NotFoundError
from interpreter.planner import ExecutionPlan, PlanStep
from streamer.db import content as content_db
from streamer.jobs.job_env import ExecError, JobEnv

__all__ = ["analysis_json", "cached_output", "load_plan", "media_file"]


async def load_plan(env: JobEnv, plan_id: str, plan_cid: str | None = None) -> ExecutionPlan:
    """The plan stored here, else the one on IPFS (``plan_cid``, or the CID recorded for
    ``plan_id`` in IPFS-primary mode), read through the local cache."""
    try:
        doc = await env.local.aget_json("plans", plan_id)
        return ExecutionPlan.from_json(json.dumps(doc))
    except NotFoundError:
        pass
    if plan_cid is None:
        plan_cid = await content_db.get_step_cache(env.db, plan_id)
    if plan_cid is None:
        raise ExecError(f"plan {plan_id!r} is not stored here")
    path = await env.local_path(plan_cid, f"plan {plan_id}")
    p = ExecutionPlan.from_json(await asyncio.to_thread(path.read_text))
    await env.local.aput_json("plans", plan_id, p.to_dict())
    return p


async def cached_output(env: JobEnv, step: PlanStep) -> str | None:
    """The step's output CID if the cache has it (row + content reachable)."""
    cid = await content_db.get_step_cache(env.db, step.cache_id)
    if cid is None:
        return None
    if env.primary or await asyncio.to_thread(env.local.has, cid):
        return cid
    return None


async def media_file(env: JobEnv, p: ExecutionPlan, sid: str) -> Path:
    src = p.step(sid)
    if src.node_type == "SOURCE" and "cid" in src.config:
        return await env.local_path(str(src.config["cid"]), f"input {src.config.get('input')!r}")
    cid = await content_db.get_step_cache(env.db, src.cache_id)
    if cid is None:
        raise ExecError(f"step {sid!r} ({src.cache_id[:12]}) has no cached output yet")
    return await env.local_path(cid, f"step {sid!r}")


async def analysis_json(env: JobEnv, p: ExecutionPlan, sid: str) -> Any:
    step = p.step(sid)
    path = env.cache_dir / "analysis" / f"{step.cache_id}.json"
    with contextlib.suppress(FileNotFoundError):
        return json.loads(await asyncio.to_thread(path.read_text))
    cid = await content_db.get_step_cache(env.db, step.cache_id)
    if cid is None:
        raise ExecError(f"analysis step {sid!r} has not run yet")
    return json.loads(await asyncio.to_thread((await env.local_path(cid, sid)).read_text))
