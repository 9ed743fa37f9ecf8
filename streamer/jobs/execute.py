"""3-phase execution on arq workers: ``analyze``, ``plan``, ``execute_step``, ``run_recipe``.

- ``analyze(ctx, input_cid, features)``: phase 1 through
  :class:`interpreter.analysis.AnalysisCache` (a hit decodes nothing); the JSON
  also goes into the content store, and on IPFS in IPFS-primary mode.
- ``plan(ctx, recipe_text=None, recipe_id=None, inputs=...)``: phase 2; the plan
  JSON is stored under ``plans/<plan_id>.json`` (and on IPFS in primary mode),
  steps whose output is cached are marked.
- ``execute_step(ctx, plan_id, step_id)``: phase 3 for one step. The step's
  cache id is claimed in Redis (:mod:`streamer.jobs.claims`); a worker that finds
  the claim taken waits for the owner's result instead of redoing it; an
  expired claim (crashed owner) is taken over. The output goes to the local
  store under its content CID and ``step_cache`` maps cache id -> CID.
- ``run_recipe(ctx, run_id)``: analyze -> plan -> every level's uncached steps
  enqueued as ``execute_step`` jobs in parallel, awaited per level; progress in
  the run row; the output step is rendered as MP4 and a provenance record is
  stored.

Transient failures (Redis/IPFS connection errors) raise :class:`arq.Retry`
with exponential backoff; each function has its own timeout
(:data:`EXEC_FUNCTIONS`). Claims and execution counters live under
``<queue>:`` keys, so tests on their own queue never meet.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

from arq import Retry
from arq.worker import func
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from cache.errors import NotFoundError, StorageError, StorageUnavailableError
from cache.local import LocalStore
from interpreter.analysis import AnalysisCache, AnalysisResult
from interpreter.analysis.analyze import resolve_features
from interpreter.errors import InterpreterError
from interpreter.ids import analysis_id
from interpreter.loader import load_recipe
from interpreter.nodes import Recipe
from interpreter.planner import AnalysisRequest, ExecutionPlan, PlanStep, plan_recipe
from streamer.content.stores import fetch_into_local
from streamer.db import content as content_db
from streamer.db import recipes as recipes_db
from streamer.db import runs as runs_db
from streamer.jobs.claims import ClaimKeeper, claim, claim_key, new_token, wait_for_result
from streamer.jobs.steps import is_inline, needs_execution, render_step, step_recipe
from streamer.runs.events import cancel_requested, publish_event
from streamer.runs.status import TERMINAL_STATUSES

__all__ = [
    "DEFAULT_QUEUE",
    "EXEC_FUNCTIONS",
    "STEP_TIMEOUT",
    "ExecError",
    "analyze",
    "exec_counts_key",
    "exec_workers_key",
    "execute_step",
    "plan",
    "run_recipe",
]

log = logging.getLogger(__name__)

DEFAULT_QUEUE = "artdag:queue"  # = streamer.entry.worker.QUEUE_NAME (not imported: import cycle)
STEP_TIMEOUT = 3600
RUN_TIMEOUT = 6 * 3600
CLAIM_TTL = 30.0
MAX_TRIES = 4
INTERMEDIATE_CRF = 14
OUTPUT_CRF = 18

_TRANSIENT = (RedisConnectionError, RedisTimeoutError, StorageUnavailableError, ConnectionError)


class ExecError(Exception):
    """A plan step or run cannot execute (missing input, unknown plan, bad step)."""


# --- context helpers ----------------------------------------------------------------------


def worker_name(ctx: Mapping[str, Any]) -> str:
    """``host:pid:<worker>``; the arq pool object identifies the Worker within a process."""
    return f"{socket.gethostname()}:{os.getpid()}:{id(ctx.get('redis')):x}"


def exec_counts_key(queue: str) -> str:
    """Redis hash: cache id -> times a worker actually executed it (never cleared)."""
    return f"{queue}:exec:count"


def exec_workers_key(queue: str) -> str:
    """Redis hash: cache id -> the worker that executed it last."""
    return f"{queue}:exec:worker"


class _Env:
    """What the jobs need from ``ctx``: settings, db, redis, local store, optional IPFS."""

    def __init__(self, ctx: Mapping[str, Any]) -> None:
        self.ctx = ctx
        self.settings = ctx["settings"]
        self.db = ctx["db"]
        self.redis = ctx["redis"]
        stores = ctx.get("stores")
        self.local: LocalStore = (
            stores.local if stores is not None else LocalStore(self.settings.storage.cache_dir)
        )
        self._stores = stores
        self._ipfs: Any = None
        self._ipfs_checked = False

    @property
    def cache_dir(self) -> Path:
        return Path(self.local.root)

    @property
    def primary(self) -> bool:
        return bool(self.settings.ipfs.primary)

    async def ipfs(self) -> Any:
        """The IPFS store when configured and answering (checked once per job)."""
        if not self._ipfs_checked:
            self._ipfs_checked = True
            if self._stores is not None:
                self._ipfs = await self._stores.reachable_ipfs()
        return self._ipfs

    async def publish(self, data: bytes) -> str | None:
        """Add to IPFS in IPFS-primary mode (None otherwise)."""
        if not self.primary:
            return None
        ipfs = await self.ipfs()
        if ipfs is None:
            raise StorageUnavailableError("IPFS-primary mode but the IPFS node does not answer")
        return str(await ipfs.add_bytes(data))

    async def publish_required(self, data: bytes) -> str:
        """Add to IPFS (IPFS-primary mode); raises when the node does not answer."""
        cid = await self.publish(data)
        if cid is None:
            raise StorageUnavailableError("IPFS-primary mode is off")
        return cid

    async def local_path(self, cid: str, what: str) -> Path:
        """A local file for ``cid``, fetched from IPFS into the cache when missing."""
        if await asyncio.to_thread(self.local.has, cid):
            return await asyncio.to_thread(self.local.path, cid)
        ipfs = await self.ipfs()
        if ipfs is None:
            raise ExecError(f"{what}: {cid} is not in the local cache and IPFS is not reachable")
        return await fetch_into_local(self.local, ipfs, cid)


def _retry_or_raise(ctx: Mapping[str, Any], exc: BaseException) -> None:
    tries = int(ctx.get("job_try") or 1)
    if tries < MAX_TRIES:
        log.warning("transient failure (try %d): %s; retrying", tries, exc)
        raise Retry(defer=min(2 ** (tries - 1), 30)) from exc


# --- phase 1 --------------------------------------------------------------------------------


async def _analyze(
    env: _Env,
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


async def analyze(ctx: dict[str, Any], input_cid: str, features: Any = None) -> dict[str, Any]:
    """Phase 1: analyse the cached input ``input_cid`` (cache hit: no decoding).

    Returns:
        ``{"analysis_id", "cid" (of the JSON), "ipfs_cid" (primary mode), "cached", "features"}``.
    """
    env = _Env(ctx)
    try:
        return await _analyze(env, input_cid, features)
    except _TRANSIENT as exc:
        _retry_or_raise(ctx, exc)
        raise


def _analyses_missing(cache_dir: Path, requests: list[AnalysisRequest]) -> list[AnalysisRequest]:
    """The requests whose result is not in the local analysis cache (``analysis/<id>.json``)."""
    cache = AnalysisCache(cache_dir)
    return [a for a in requests if not cache.path_for(a.analysis_id).is_file()]


# --- phase 2 --------------------------------------------------------------------------------


async def _available(env: _Env, cache_ids: list[str]) -> set[str]:
    rows = await env.db.fetch(
        "SELECT cache_id, cid FROM step_cache WHERE cache_id = ANY($1::text[])", cache_ids
    )
    out = set()
    for r in rows:
        if env.primary or await asyncio.to_thread(env.local.has, r["cid"]):
            out.add(r["cache_id"])
    return out


async def _make_plan(
    env: _Env,
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
    have = await _available(env, ids)
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


async def _store_plan(env: _Env, p: ExecutionPlan) -> str | None:
    doc = p.to_dict()
    await env.local.aput_json("plans", p.plan_id, doc)
    return await env.publish(p.to_json().encode())


async def _recipe_text(
    env: _Env, recipe_text: str | None, recipe_id: str | None
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
    env = _Env(ctx)
    text, filename = await _recipe_text(env, recipe_text, recipe_id)
    try:
        p, _ = await _make_plan(env, text, filename, dict(inputs or {}), params)
        plan_cid = await _store_plan(env, p)
    except _TRANSIENT as exc:
        _retry_or_raise(ctx, exc)
        raise
    return {"plan_id": p.plan_id, "plan": p.to_dict(), "plan_cid": plan_cid}


# --- phase 3 --------------------------------------------------------------------------------


async def _load_plan(env: _Env, plan_id: str, plan_cid: str | None = None) -> ExecutionPlan:
    try:
        doc = await env.local.aget_json("plans", plan_id)
        return ExecutionPlan.from_json(json.dumps(doc))
    except NotFoundError:
        pass
    if plan_cid is not None:
        ipfs = await env.ipfs()
        if ipfs is not None:
            p = ExecutionPlan.from_json(await ipfs.cat(plan_cid))
            await env.local.aput_json("plans", plan_id, p.to_dict())
            return p
    raise ExecError(f"plan {plan_id!r} is not stored here")


async def _cached_output(env: _Env, step: PlanStep) -> str | None:
    """The step's output CID if the cache has it (row + content reachable)."""
    cid = await content_db.get_step_cache(env.db, step.cache_id)
    if cid is None:
        return None
    if env.primary or await asyncio.to_thread(env.local.has, cid):
        return cid
    return None


async def _media_file(env: _Env, p: ExecutionPlan, sid: str) -> Path:
    src = p.step(sid)
    if src.node_type == "SOURCE" and "cid" in src.config:
        return await env.local_path(str(src.config["cid"]), f"input {src.config.get('input')!r}")
    cid = await content_db.get_step_cache(env.db, src.cache_id)
    if cid is None:
        raise ExecError(f"step {sid!r} ({src.cache_id[:12]}) has no cached output yet")
    return await env.local_path(cid, f"step {sid!r}")


async def _analysis_json(env: _Env, p: ExecutionPlan, sid: str) -> Any:
    step = p.step(sid)
    path = env.cache_dir / "analysis" / f"{step.cache_id}.json"
    with contextlib.suppress(FileNotFoundError):
        return json.loads(await asyncio.to_thread(path.read_text))
    cid = await content_db.get_step_cache(env.db, step.cache_id)
    if cid is None:
        raise ExecError(f"analysis step {sid!r} has not run yet")
    return json.loads(await asyncio.to_thread((await env.local_path(cid, sid)).read_text))


async def _execute(env: _Env, p: ExecutionPlan, step: PlanStep) -> str:
    """Compute ``step`` and cache it; returns its output CID."""
    if step.node_type == "ANALYZE":
        src = p.step(step.inputs[0])
        res = await _analyze(
            env,
            src.cache_id,
            list(step.config["features"]),
            lambda: _media_file(env, p, src.step_id),
        )
        if res["analysis_id"] != step.cache_id:
            raise ExecError(
                f"step {step.step_id!r}: analysis id {res['analysis_id'][:12]} "
                f"differs from the plan's cache id {step.cache_id[:12]}"
            )
        return str(res["cid"])
    recipe, binding = step_recipe(p, step)
    files = {sid: await _media_file(env, p, sid) for sid in binding.values()}
    analyses = {
        s.id: await _analysis_json(env, p, s.id) for s in recipe.steps if s.type == "ANALYZE"
    }
    final = step.step_id == p.output
    work = env.cache_dir / "steps"
    await asyncio.to_thread(work.mkdir, parents=True, exist_ok=True)
    out = work / f"{step.cache_id}.{os.getpid()}.{id(step):x}.{'mp4' if final else 'mkv'}"
    try:
        result = await render_step(
            p,
            step,
            files,
            analyses,
            out,
            container="mp4" if final else "mkv",
            crf=OUTPUT_CRF if final else INTERMEDIATE_CRF,
        )
        item = await env.local.aput_file(result.path, suffix=out.suffix)
    finally:
        await asyncio.to_thread(out.unlink, True)
    if env.primary:
        ipfs = await env.ipfs()
        if ipfs is None:
            raise StorageUnavailableError("IPFS-primary mode but the IPFS node does not answer")
        data = await asyncio.to_thread(item.path.read_bytes)
        ipfs_cid = await ipfs.add_bytes(data, pin=True)
        if ipfs_cid != item.cid:
            log.warning(
                "step %s: IPFS CID %s differs from the local CID %s",
                step.step_id,
                ipfs_cid,
                item.cid,
            )
    await content_db.put_cache_item(
        env.db,
        cid=item.cid,
        size=item.size,
        media_type="video/mp4" if final else "video/x-matroska",
        kind="video",
        path=str(item.path),
        source=f"step:{step.cache_id}",
    )
    await content_db.put_step_cache(
        env.db, cache_id=step.cache_id, cid=item.cid, step_type=step.node_type
    )
    return item.cid


async def execute_step(
    ctx: dict[str, Any],
    plan_id: str,
    step_id: str,
    *,
    queue: str = DEFAULT_QUEUE,
    plan_cid: str | None = None,
    claim_ttl: float = CLAIM_TTL,
    wait_timeout: float = STEP_TIMEOUT,
) -> dict[str, Any]:
    """Phase 3 for one step: claim its cache id, execute unless cached, cache the output.

    Args:
        ctx: arq context.
        plan_id: A plan stored by :func:`plan` (``plans/<id>.json``; from IPFS
            via ``plan_cid`` on another node).
        step_id: The step to execute.
        queue: Namespace of claims and counters (the arq queue name).
        plan_cid: The plan's IPFS CID (IPFS-primary mode).
        claim_ttl: Claim expiry; renewed every third of it while working.
        wait_timeout: Longest wait for another worker's claim.

    Returns:
        ``{"step_id", "cache_id", "cid", "status": "cached" | "executed" | "waited", "worker"}``.
    """
    env = _Env(ctx)
    me = worker_name(ctx)
    try:
        p = await _load_plan(env, plan_id, plan_cid)
        try:
            step = p.step(step_id)
        except KeyError:
            raise ExecError(f"plan {plan_id[:12]} has no step {step_id!r}") from None
        base = {"step_id": step_id, "cache_id": step.cache_id, "worker": me}
        if not needs_execution(p, step) and not is_inline(p, step):
            # a recipe input: its cache id is its CID
            await _media_file(env, p, step_id)
            return base | {"cid": step.cache_id, "status": "cached"}
        if is_inline(p, step):
            return base | {"cid": None, "status": "inline"}
        key = claim_key(queue, step.cache_id)
        while True:
            cid = await _cached_output(env, step)
            if cid is not None:
                return base | {"cid": cid, "status": "cached"}
            token = new_token(me)
            if await claim(env.redis, key, token, claim_ttl):
                async with ClaimKeeper(env.redis, key, token, claim_ttl) as keeper:
                    # finished by someone between our check and our claim?
                    cid = await _cached_output(env, step)
                    if cid is not None:
                        return base | {"cid": cid, "status": "cached"}
                    t0 = time.perf_counter()
                    cid = await _execute(env, p, step)
                    keeper.check()
                await env.redis.hincrby(exec_counts_key(queue), step.cache_id, 1)
                await env.redis.hset(exec_workers_key(queue), step.cache_id, me)
                log.info(
                    "step %s (%s) executed by %s in %.2fs",
                    step_id,
                    step.cache_id[:12],
                    me,
                    time.perf_counter() - t0,
                )
                return base | {"cid": cid, "status": "executed"}
            got = await wait_for_result(
                env.redis, key, lambda: _cached_output(env, step), timeout=wait_timeout
            )
            if got is not None:
                return base | {"cid": got, "status": "waited"}
            # the owner died without a result: its claim expired; try to take it
    except _TRANSIENT as exc:
        _retry_or_raise(ctx, exc)
        raise


# --- the whole pipeline ------------------------------------------------------------------


async def _event(env: _Env, run_id: str, event: dict[str, Any]) -> None:
    # live subscribers (SSE) are optional: a failed publish never fails the run
    with contextlib.suppress(Exception):
        await publish_event(env.redis, run_id, event)


async def run_recipe(
    ctx: dict[str, Any],
    run_id: str,
    *,
    plan_id: str | None = None,
    queue: str = DEFAULT_QUEUE,
    step_timeout: float = STEP_TIMEOUT,
) -> dict[str, Any]:
    """Analyze -> plan -> execute run ``run_id`` on the workers; returns the final status.

    With ``plan_id`` (``POST /api/execute``) the stored plan is executed as is.
    Steps of one level are enqueued as ``execute_step`` jobs on ``queue`` and
    awaited together; the run row gets ``plan``, ``analysis``, ``progress`` and
    finally ``output_cid`` (the output step's MP4) and a provenance record.
    """
    from streamer.content.provenance import record_render_provenance

    env = _Env(ctx)
    run = await runs_db.get_run(env.db, run_id)
    if run is None:
        return {"run_id": run_id, "status": "missing"}
    if run["status"] in TERMINAL_STATUSES:
        return {"run_id": run_id, "status": run["status"]}
    await runs_db.update_run(env.db, run_id, status="running", task_id=str(ctx.get("job_id") or ""))
    started = time.perf_counter()
    try:
        inputs = dict(run["inputs"] or {})
        if plan_id is None:
            row = (
                await recipes_db.get_recipe(env.db, run["recipe_id"]) if run["recipe_id"] else None
            )
            if row is None:
                raise ExecError(f"the run's recipe {run['recipe_id']!r} does not exist")
            text = str(row["source"])
            # phase 1: analyses of recipe inputs, in parallel on the workers
            recipe = await asyncio.to_thread(load_recipe, text, f"recipe {row['id'][:12]}")
            draft = await asyncio.to_thread(plan_recipe, recipe, inputs, params=run["params"])
            requests = [a for a in draft.analysis if a.input_cid in inputs.values()]
            # analyses already in this node's cache need no job (a cached re-run
            # then makes no queue round trip before phase 3)
            missing = await asyncio.to_thread(_analyses_missing, env.cache_dir, requests)
            jobs = [
                await env.redis.enqueue_job(
                    "analyze", a.input_cid, list(a.features), _queue_name=queue
                )
                for a in missing
            ]
            done = await asyncio.gather(
                *(j.result(timeout=step_timeout, poll_delay=0.1) for j in jobs if j is not None)
            )
            for a, d in zip(missing, done, strict=True):
                if d["analysis_id"] != a.analysis_id:
                    raise ExecError(
                        f"analysis of {a.step_id!r}: id {d['analysis_id'][:12]} "
                        f"differs from the plan's {a.analysis_id[:12]}"
                    )
            # phase 2
            p, _ = await _make_plan(
                env,
                text,
                f"recipe {row['id'][:12]}",
                inputs,
                run["params"],
                recipe=recipe,
                draft=draft,
            )
            plan_cid = await _store_plan(env, p)
            analysis = {a.step_id: await _analysis_json(env, p, a.step_id) for a in requests}
            fields: dict[str, Any] = {"plan": p.to_dict(), "plan_id": p.plan_id}
            if analysis:
                fields["analysis"] = analysis
            await runs_db.update_run(env.db, run_id, **fields)
        else:
            p = await _load_plan(env, plan_id)
            plan_cid = await env.publish(p.to_json().encode())  # other nodes read it from IPFS
            await runs_db.update_run(env.db, run_id, plan=p.to_dict(), plan_id=p.plan_id)
        # phase 3
        todo = [s for s in p.steps if needs_execution(p, s) or s.node_type == "ANALYZE"]
        total = max(1, len(todo))
        finished = 0
        # one query for every step cached before the run (a fully cached re-run needs
        # nothing else); the others are checked again when their level comes
        known = await _available(env, [s.cache_id for s in todo])
        executed: list[dict[str, Any]] = []
        for level in p.levels:
            if await cancel_requested(env.redis, run_id):
                await runs_db.update_run(env.db, run_id, status="cancelled")
                await _event(env, run_id, {"type": "status", "status": "cancelled"})
                return {"run_id": run_id, "status": "cancelled", "plan_id": p.plan_id}
            pending = []
            for s in level:
                if not (needs_execution(p, s) or s.node_type == "ANALYZE"):
                    continue
                if s.cache_id in known or await _cached_output(env, s) is not None:
                    finished += 1
                    continue
                pending.append(s)
            jobs = [
                await env.redis.enqueue_job(
                    "execute_step",
                    p.plan_id,
                    s.step_id,
                    queue=queue,
                    plan_cid=plan_cid,
                    _queue_name=queue,
                )
                for s in pending
            ]
            results = await asyncio.gather(
                *(j.result(timeout=step_timeout, poll_delay=0.1) for j in jobs if j is not None)
            )
            executed.extend(results)
            finished += len(pending)
            progress = min(1.0, finished / total)
            await runs_db.update_run(env.db, run_id, progress=progress)
            await _event(env, run_id, {"type": "progress", "progress": progress})
        out_step = p.step(p.output)
        if out_step.node_type == "SOURCE" and "cid" in out_step.config:
            output_cid: str | None = out_step.cache_id  # the output is an input as is
        else:
            output_cid = await _cached_output(env, out_step)
        if output_cid is None:
            raise ExecError(f"the output step {p.output!r} has no cached result")
        await record_render_provenance(ctx, run, output_cid, plan=p)
        await runs_db.update_run(
            env.db, run_id, status="completed", progress=1.0, output_cid=output_cid
        )
        await _event(
            env, run_id, {"type": "status", "status": "completed", "output_cid": output_cid}
        )
        return {
            "run_id": run_id,
            "status": "completed",
            "output_cid": output_cid,
            "plan_id": p.plan_id,
            "executed": sum(1 for r in executed if r.get("status") == "executed"),
            "seconds": round(time.perf_counter() - started, 3),
        }
    except _TRANSIENT as exc:
        _retry_or_raise(ctx, exc)
        await runs_db.update_run(
            env.db, run_id, status="failed", error=f"{type(exc).__name__}: {exc}"
        )
        raise
    except (ExecError, InterpreterError, StorageError, OSError, TimeoutError, Exception) as exc:
        log.exception("run %s failed", run_id)
        error = f"{type(exc).__name__}: {exc}"[:4000]
        await runs_db.update_run(env.db, run_id, status="failed", error=error)
        await _event(env, run_id, {"type": "status", "status": "failed", "error": error})
        return {"run_id": run_id, "status": "failed", "error": str(exc)}


#: arq functions with their timeouts and retry limits (listed in ``streamer.jobs.functions``).
EXEC_FUNCTIONS: list[Any] = [
    func(analyze, timeout=STEP_TIMEOUT, max_tries=MAX_TRIES),
    func(plan, timeout=300, max_tries=MAX_TRIES),
    func(execute_step, timeout=STEP_TIMEOUT, max_tries=MAX_TRIES),
    # a retried run (worker crash) resumes: finished steps are cached
    func(run_recipe, timeout=RUN_TIMEOUT, max_tries=3),
]
