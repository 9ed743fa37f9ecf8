"""Phases 1 and 2 as arq jobs: ``analyze`` and ``plan``.

- ``analyze_step(env, plan, step)``: a plan's ANALYZE step (phase 3), also over
  an inlined generator (its audio rendered offline);
- ``analyze(ctx, input_cid, features)``: phase 1 through
  :class:`interpreter.analysis.AnalysisCache` (a hit decodes nothing); the JSON
  also goes into the content store, and on IPFS in IPFS-primary mode.
- ``plan(ctx, recipe_text=None, recipe_id=None, inputs=...)``: phase 2; the plan
  JSON is stored under ``plans/<plan_id>.json`` (and on IPFS in primary mode),
  steps whose output is cached are marked.

Transient failures (Redis/IPFS connection errors) raise :class:`arq.Retry`
with exponential backoff (:func:`streamer.jobs.job_env.retry_or_raise`).
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import tempfile
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

from interpreter.analysis import AnalysisCache, AnalysisResult
from interpreter.analysis.analyze import resolve_features
from interpreter.ids import analysis_id
from interpreter.loader import load_recipe
from interpreter.nodes import Recipe
from interpreter.planner import AnalysisRequest, ExecutionPlan, PlanStep, plan_recipe
from streamer.content.primary import PLAN_RECORD
from streamer.db import content as content_db
from streamer.db import recipes as recipes_db
from streamer.jobs.job_env import TRANSIENT, ExecError, JobEnv, retry_or_raise
from streamer.jobs.step_data import media_file
from streamer.jobs.steps import is_inline, render_generated_wav

__all__ = [
    "analyses_missing",
    "analyze",
    "analyze_input",
    "analyze_step",
    "available",
    "load_recipe_text",
    "make_plan",
    "plan",
    "store_plan",
]

log = logging.getLogger(__name__)


async def analyze_input(
    env: JobEnv,
    input_key: str,
    features: Any,
    input_path: Callable[[], Awaitable[Path]] | None = None,
) -> dict[str, Any]:
    """Analysis of ``input_key`` (a CID or a step cache id) from, in order: this node's
    analysis cache, another node's result (``step_cache`` -> IPFS), or the input decoded."""
    names = resolve_features(features)
    aid = analysis_id(input_key, names)
    cache = AnalysisCache(env.cache_dir, publish=env.publish_required if env.primary else None)
    hit = await asyncio.to_thread(cache.load, aid)
    if hit is None:
        shared = await content_db.get_step_cache(env.db, aid)
        if shared is not None and (env.primary or await asyncio.to_thread(env.local.has, shared)):
            text = await asyncio.to_thread(
                (await env.local_path(shared, f"analysis {aid[:12]}")).read_text
            )
            hit = AnalysisResult.from_json(text, source=f"analysis {aid[:12]}")
            await asyncio.to_thread(cache.store, hit)
            if env.primary:
                await asyncio.to_thread(cache.path_for(aid).with_suffix(".cid").write_text, shared)
    if hit is None:
        path = (
            await input_path()
            if input_path is not None
            else await env.local_path(input_key, "analysis input")
        )
        result = await cache.get_or_compute(input_key, path, names)
    else:
        result = hit
    data = result.to_json().encode()
    item = await env.local.aput_bytes(data, suffix=".json")
    await content_db.put_cache_item(
        env.db,
        cid=item.cid,
        size=item.size,
        media_type="application/json",
        kind="analysis",
        path=str(item.path),
        source=f"analysis:{aid}",
    )
    await content_db.put_step_cache(env.db, cache_id=aid, cid=item.cid, step_type="ANALYZE")
    ipfs_cid = await asyncio.to_thread(cache.published_cid, aid)
    return {
        "analysis_id": aid,
        "cid": item.cid,
        "ipfs_cid": ipfs_cid,
        "cached": hit is not None,
        "features": list(names),
    }


async def analyze_step(env: JobEnv, p: ExecutionPlan, step: PlanStep) -> str:
    """Phase 3's ANALYZE step: the analysis of its input step; returns the JSON's CID.

    The input is the step's cached media file, or, for an inlined generator
    (clicks, sine), its audio rendered offline into a temporary WAV file; either
    way the result is cached under the plan's cache id for the step.
    """
    src = p.step(step.inputs[0])
    tmp: list[Path] = []

    async def input_path() -> Path:
        if not is_inline(p, src):
            return await media_file(env, p, src.step_id)
        work = env.cache_dir / "steps"
        await asyncio.to_thread(work.mkdir, parents=True, exist_ok=True)
        tmp.append(Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="audio-", dir=work)))
        wav = tmp[0] / f"{src.cache_id}.wav"
        await asyncio.to_thread(render_generated_wav, p, src, wav)
        return wav

    try:
        res = await analyze_input(env, src.cache_id, list(step.config["features"]), input_path)
    finally:
        for d in tmp:
            await asyncio.to_thread(shutil.rmtree, d, True)
    if res["analysis_id"] != step.cache_id:
        raise ExecError(
            f"step {step.step_id!r}: analysis id {res['analysis_id'][:12]} "
            f"differs from the plan's cache id {step.cache_id[:12]}"
        )
    return str(res["cid"])


async def analyze(ctx: dict[str, Any], input_cid: str, features: Any = None) -> dict[str, Any]:
    """Phase 1: analyse the cached input ``input_cid`` (cache hit: no decoding).

    Returns:
        ``{"analysis_id", "cid" (of the JSON), "ipfs_cid" (primary mode), "cached", "features"}``.
    """
    env = JobEnv(ctx)
    try:
        return await analyze_input(env, input_cid, features)
    except TRANSIENT as exc:
        retry_or_raise(ctx, exc)
        raise


def analyses_missing(cache_dir: Path, requests: list[AnalysisRequest]) -> list[AnalysisRequest]:
    """The requests whose result is not in the local analysis cache (``analysis/<id>.json``)."""
    cache = AnalysisCache(cache_dir)
    return [a for a in requests if not cache.path_for(a.analysis_id).is_file()]


# --- phase 2 --------------------------------------------------------------------------------


async def available(env: JobEnv, cache_ids: list[str]) -> set[str]:
    rows = await env.db.fetch(
        "SELECT cache_id, cid FROM step_cache WHERE cache_id = ANY($1::text[])", cache_ids
    )
    out = set()
    for r in rows:
        if env.primary or await asyncio.to_thread(env.local.has, r["cid"]):
            out.add(r["cache_id"])
    return out


async def make_plan(
    env: JobEnv,
    text: str,
    filename: str,
    inputs: Mapping[str, str],
    params: Mapping[str, float] | None,
    *,
    recipe: Recipe | None = None,
    draft: ExecutionPlan | None = None,
) -> tuple[ExecutionPlan, Any]:
    """The cache-aware plan; ``recipe``/``draft`` (the same text, inputs and params,
    already loaded and planned by the caller) save parsing and planning twice."""
    if recipe is None:
        recipe = await asyncio.to_thread(load_recipe, text, filename)
    if draft is None:
        draft = await asyncio.to_thread(plan_recipe, recipe, inputs, params=params)
    ids = [s.cache_id for s in draft.steps]
    have = await available(env, ids)
    for s in draft.steps:
        if s.node_type == "SOURCE" and "cid" in s.config:
            present = await asyncio.to_thread(env.local.has, s.cache_id)
        elif s.node_type == "ANALYZE":
            doc = env.cache_dir / "analysis" / f"{s.cache_id}.json"
            present = await asyncio.to_thread(doc.is_file)
        else:
            continue
        if present:
            have.add(s.cache_id)
    final = await asyncio.to_thread(
        plan_recipe, recipe, inputs, is_cached=have.__contains__, params=params
    )
    return final, recipe


async def store_plan(env: JobEnv, p: ExecutionPlan) -> str | None:
    """Keep the plan here; in IPFS-primary mode also on IPFS, its CID recorded by plan id."""
    await env.local.aput_json("plans", p.plan_id, p.to_dict())
    return await env.docs.publish(
        p.to_json().encode(), key=p.plan_id, kind="plan", record=PLAN_RECORD
    )


async def load_recipe_text(
    env: JobEnv, recipe_text: str | None, recipe_id: str | None
) -> tuple[str, str]:
    if recipe_id is not None:
        row = await recipes_db.get_recipe(env.db, recipe_id)
        if row is None:
            raise ExecError(f"recipe {recipe_id!r} not found")
        return str(row["source"]), f"recipe {recipe_id[:12]}"
    if recipe_text is None:
        raise ExecError("give recipe_text or recipe_id")
    return recipe_text, "recipe"


async def plan(
    ctx: dict[str, Any],
    recipe_text: str | None = None,
    recipe_id: str | None = None,
    inputs: Mapping[str, str] | None = None,
    params: Mapping[str, float] | None = None,
) -> dict[str, Any]:
    """Phase 2: plan a recipe (text or stored id) for ``inputs``; the plan is stored.

    Returns:
        ``{"plan_id", "plan" (JSON data), "plan_cid" (primary mode)}``.

    Raises:
        InterpreterError: the recipe is invalid (with its position).
        ExecError: unknown recipe id.
    """
    env = JobEnv(ctx)
    text, filename = await load_recipe_text(env, recipe_text, recipe_id)
    try:
        p, _ = await make_plan(env, text, filename, dict(inputs or {}), params)
        plan_cid = await store_plan(env, p)
    except TRANSIENT as exc:
        retry_or_raise(ctx, exc)
        raise
    return {"plan_id": p.plan_id, "plan": p.to_dict(), "plan_cid": plan_cid}
