"""Phase 3 and the whole pipeline as arq jobs: ``execute_step`` and ``run_recipe``.

- ``execute_step(ctx, plan_id, step_id)``: one step. The step's cache id is
  claimed in Redis (:mod:`streamer.jobs.claims`); a worker that finds the claim
  taken waits for the owner's result instead of redoing it; an expired claim
  (crashed owner) is taken over. The output goes to the local store under its
  content CID and ``step_cache`` maps cache id -> CID.
- ``run_recipe(ctx, run_id)``: analyze -> plan -> every level's uncached steps
  enqueued as ``execute_step`` jobs in parallel, awaited per level; progress in
  the run row; the output step is rendered as MP4 and a provenance record is
  stored.

Each function has its own timeout and retry limit (:data:`EXEC_FUNCTIONS`).
Claims and execution counters live under the queue's keys
(:class:`streamer.keys.RedisKeys`), so tests on their own queue never meet.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import time
from collections.abc import Mapping
from typing import Any

from arq.worker import func

from cache.errors import StorageError, StorageUnavailableError
from interpreter.errors import InterpreterError
from interpreter.loader import load_recipe
from interpreter.planner import ExecutionPlan, PlanStep, plan_recipe
from streamer.content.provenance import record_render_provenance
from streamer.db import content as content_db
from streamer.db import recipes as recipes_db
from streamer.db import runs as runs_db
from streamer.jobs.claims import ClaimKeeper, claim, new_token, wait_for_result
from streamer.jobs.job_env import (
    CLAIM_TTL,
    INTERMEDIATE_CRF,
    MAX_TRIES,
    OUTPUT_CRF,
    RUN_TIMEOUT,
    STEP_GRACE,
    STEP_TIMEOUT,
    TRANSIENT,
    ExecError,
    JobEnv,
    retry_or_raise,
    worker_name,
)
from streamer.jobs.phases import (
    analyses_missing,
    analyze,
    analyze_step,
    available,
    make_plan,
    plan,
    store_plan,
)
from streamer.jobs.replicate import replicate_after_completion
from streamer.jobs.step_data import analysis_json, cached_output, load_plan, media_file
from streamer.jobs.step_events import publish_quietly as _event
from streamer.jobs.step_events import steps_done, tracked
from streamer.jobs.step_wait import queue_step, step_result
from streamer.jobs.steps import is_inline, needs_execution, render_step, step_recipe
from streamer.jobs.wake import enqueue_job
from streamer.runs.events import ProgressEvent, StatusEvent, cancel_requested
from streamer.runs.status import TERMINAL_STATUSES, RunStatus

__all__ = ["EXEC_FUNCTIONS", "execute_step", "run_recipe"]

log = logging.getLogger(__name__)

# --- phase 3 --------------------------------------------------------------------------------


async def _execute(env: JobEnv, p: ExecutionPlan, step: PlanStep) -> str:
    """Compute ``step`` and cache it; returns its output CID."""
    if step.node_type == "ANALYZE":
        return await analyze_step(env, p, step)
    recipe, binding = step_recipe(p, step)
    files = {sid: await media_file(env, p, sid) for sid in binding.values()}
    analyses = {
        s.id: await analysis_json(env, p, s.id) for s in recipe.steps if s.type == "ANALYZE"
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
        plan_cid: The plan's IPFS CID (IPFS-primary mode).
        claim_ttl: Claim expiry; renewed every third of it while working.
        wait_timeout: Longest wait for another worker's claim.

    Returns:
        ``{"step_id", "cache_id", "cid", "status": "cached" | "executed" | "waited", "worker"}``.
    """
    env = JobEnv(ctx)
    me = worker_name(ctx)
    try:
        p = await load_plan(env, plan_id, plan_cid)
        try:
            step = p.step(step_id)
        except KeyError:
            raise ExecError(f"plan {plan_id[:12]} has no step {step_id!r}") from None
        base = {"step_id": step_id, "cache_id": step.cache_id, "worker": me}
        if not needs_execution(p, step) and not is_inline(p, step):
            # a recipe input: its cache id is its CID
            await media_file(env, p, step_id)
            return base | {"cid": step.cache_id, "status": "cached"}
        if is_inline(p, step):
            return base | {"cid": None, "status": "inline"}
        key = env.keys.claim(step.cache_id)
        while True:
            cid = await cached_output(env, step)
            if cid is not None:
                return base | {"cid": cid, "status": "cached"}
            token = new_token(me)
            if await claim(env.redis, key, token, claim_ttl):
                async with ClaimKeeper(env.redis, key, token, claim_ttl) as keeper:
                    # finished by someone between our check and our claim?
                    cid = await cached_output(env, step)
                    if cid is not None:
                        return base | {"cid": cid, "status": "cached"}
                    t0 = time.perf_counter()
                    cid = await _execute(env, p, step)
                    keeper.check()
                log.info(
                    "step %s (%s) executed by %s in %.2fs",
                    step_id,
                    step.cache_id[:12],
                    me,
                    time.perf_counter() - t0,
                )
                try:
                    await env.redis.hincrby(env.keys.exec_counts, step.cache_id, 1)
                    await env.redis.hset(env.keys.exec_workers, step.cache_id, me)
                except TRANSIENT as exc:  # the output is cached: only the statistic is lost
                    log.warning("step %s: execution not counted (Redis: %s)", step_id, exc)
                return base | {"cid": cid, "status": "executed"}
            got = await wait_for_result(
                env.redis, key, lambda: cached_output(env, step), timeout=wait_timeout
            )
            if got is not None:
                return base | {"cid": got, "status": "waited"}
            # the owner died without a result: its claim expired; try to take it
    except TRANSIENT as exc:
        retry_or_raise(ctx, exc)
        raise


# --- the whole pipeline ------------------------------------------------------------------


async def _analyze_and_plan(
    env: JobEnv, run: Mapping[str, Any], inputs: dict[str, str], step_timeout: float
) -> tuple[ExecutionPlan, str | None]:
    """Phases 1 and 2 of a run: analyses of its inputs on the workers, then its plan.

    Returns:
        The stored plan and its IPFS CID (IPFS-primary mode, else None).
    """
    row = await recipes_db.get_recipe(env.db, run["recipe_id"]) if run["recipe_id"] else None
    if row is None:
        raise ExecError(f"the run's recipe {run['recipe_id']!r} does not exist")
    text = str(row["source"])
    # phase 1: analyses of recipe inputs, in parallel on the workers
    recipe = await asyncio.to_thread(load_recipe, text, f"recipe {row['id'][:12]}")
    draft = await asyncio.to_thread(plan_recipe, recipe, inputs, params=run["params"])
    requests = [a for a in draft.analysis if a.input_cid in inputs.values()]
    # analyses already in this node's cache need no job (a cached re-run
    # then makes no queue round trip before phase 3)
    missing = await asyncio.to_thread(analyses_missing, env.cache_dir, requests)
    if missing:
        await _event(env, run["id"], StatusEvent(RunStatus.RUNNING, stage="analysis"))
    jobs = [
        await enqueue_job(env.arq, env.keys, "analyze", a.input_cid, list(a.features))
        for a in missing
    ]
    done = await asyncio.gather(
        *(
            tracked(env, run["id"], a.step_id, j.result(timeout=step_timeout, poll_delay=0.1))
            for a, j in zip(missing, jobs, strict=True)
            if j is not None
        )
    )
    for a, d in zip(missing, done, strict=True):
        if d["analysis_id"] != a.analysis_id:
            raise ExecError(
                f"analysis of {a.step_id!r}: id {d['analysis_id'][:12]} "
                f"differs from the plan's {a.analysis_id[:12]}"
            )
    # phase 2
    p, _ = await make_plan(
        env,
        text,
        f"recipe {row['id'][:12]}",
        inputs,
        run["params"],
        recipe=recipe,
        draft=draft,
    )
    plan_cid = await store_plan(env, p)
    analysis = {a.step_id: await analysis_json(env, p, a.step_id) for a in requests}
    fields: dict[str, Any] = {"plan": p.to_dict(), "plan_id": p.plan_id}
    if analysis:
        fields["analysis"] = analysis
    await runs_db.update_run(env.db, run["id"], **fields)
    await _event(env, run["id"], StatusEvent(RunStatus.RUNNING, stage="execute"))
    return p, plan_cid


async def run_recipe(
    ctx: dict[str, Any],
    run_id: str,
    *,
    plan_id: str | None = None,
    step_timeout: float = STEP_TIMEOUT,
    step_grace: float = STEP_GRACE,
) -> dict[str, Any]:
    """Analyze -> plan -> execute run ``run_id`` on the workers; returns the final status.

    With ``plan_id`` (``POST /api/execute``) the stored plan is executed as is.
    A step job that Redis loses (a restart) is found or queued again
    (:func:`streamer.jobs.step_wait.step_result`, ``step_grace``).
    Steps of one level are enqueued as ``execute_step`` jobs on the worker's queue and
    awaited together; the run row gets ``plan``, ``analysis``, ``progress`` and
    finally ``output_cid`` (the output step's MP4) and a provenance record.
    """
    env = JobEnv(ctx)
    run = await runs_db.get_run(env.db, run_id)
    if run is None:
        return {"run_id": run_id, "status": "missing"}
    if run["status"] in TERMINAL_STATUSES:
        return {"run_id": run_id, "status": run["status"]}
    # one job per run, even when Redis lost the queue and the run was queued again
    # (streamer.jobs.requeue); arq's retry of a dead worker's job takes it over
    retried = int(ctx.get("job_try") or 1) > 1
    job_id = str(ctx.get("job_id") or "")
    if await runs_db.claim_run(env.db, run_id, job_id, take_over=retried) is None:
        log.warning("run %s: another job runs it already; job %s stops", run_id, job_id)
        return {"run_id": run_id, "status": "duplicate"}
    started = time.perf_counter()
    try:
        inputs = dict(run["inputs"] or {})
        if plan_id is None:
            p, plan_cid = await _analyze_and_plan(env, run, inputs, step_timeout)
        else:
            p = await load_plan(env, plan_id)
            plan_cid = await store_plan(env, p)  # other nodes read it from IPFS (primary)
            await runs_db.update_run(env.db, run_id, plan=p.to_dict(), plan_id=p.plan_id)
            await _event(env, run_id, StatusEvent(RunStatus.RUNNING, stage="execute"))
        # phase 3
        todo = [s for s in p.steps if needs_execution(p, s) or s.node_type == "ANALYZE"]
        total = max(1, len(todo))
        finished = 0
        # one query for every step cached before the run (a fully cached re-run needs
        # nothing else); the others are checked again when their level comes
        known = await available(env, [s.cache_id for s in todo])
        executed: list[dict[str, Any]] = []
        for level in p.levels:
            if await cancel_requested(env.redis, env.keys, run_id):
                await runs_db.update_run(env.db, run_id, status=RunStatus.CANCELLED)
                await _event(env, run_id, StatusEvent(RunStatus.CANCELLED))
                return {"run_id": run_id, "status": str(RunStatus.CANCELLED), "plan_id": p.plan_id}
            pending, reused = [], []
            for s in level:
                if not (needs_execution(p, s) or s.node_type == "ANALYZE"):
                    continue
                if s.cache_id in known or await cached_output(env, s) is not None:
                    reused.append(s.step_id)
                    continue
                pending.append(s)
            finished += len(reused)
            await steps_done(env, run_id, reused, cached=True)
            jobs = [await queue_step(env, p.plan_id, s.step_id, plan_cid) for s in pending]
            results = await asyncio.gather(
                *(
                    tracked(
                        env,
                        run_id,
                        s.step_id,
                        step_result(
                            env,
                            j,
                            s.cache_id,
                            functools.partial(queue_step, env, p.plan_id, s.step_id, plan_cid),
                            timeout=step_timeout,
                            grace=step_grace,
                        ),
                    )
                    for s, j in zip(pending, jobs, strict=True)
                    if j is not None
                )
            )
            executed.extend(results)
            finished += len(pending)
            progress = min(1.0, finished / total)
            await runs_db.update_run(env.db, run_id, progress=progress)
            await _event(env, run_id, ProgressEvent(progress=progress))
        out_step = p.step(p.output)
        if out_step.node_type == "SOURCE" and "cid" in out_step.config:
            output_cid: str | None = out_step.cache_id  # the output is an input as is
        else:
            output_cid = await cached_output(env, out_step)
        if output_cid is None:
            raise ExecError(f"the output step {p.output!r} has no cached result")
        job_id = str(ctx.get("job_id") or "")
        await record_render_provenance(env.res, run, output_cid, job_id=job_id, plan=p)
        await runs_db.update_run(
            env.db, run_id, status=RunStatus.COMPLETED, progress=1.0, output_cid=output_cid
        )
        await _event(env, run_id, StatusEvent(RunStatus.COMPLETED, output_cid=output_cid))
        await replicate_after_completion(env.res, run_id)  # copies to storage providers
        return {
            "run_id": run_id,
            "status": str(RunStatus.COMPLETED),
            "output_cid": output_cid,
            "plan_id": p.plan_id,
            "executed": sum(1 for r in executed if r.get("status") == "executed"),
            "seconds": round(time.perf_counter() - started, 3),
        }
    except TRANSIENT as exc:
        retry_or_raise(ctx, exc)
        await runs_db.update_run(
            env.db, run_id, status=RunStatus.FAILED, error=f"{type(exc).__name__}: {exc}"
        )
        raise
    except (ExecError, InterpreterError, StorageError, OSError, TimeoutError, Exception) as exc:
        log.exception("run %s failed", run_id)
        error = f"{type(exc).__name__}: {exc}"[:4000]
        await runs_db.update_run(env.db, run_id, status=RunStatus.FAILED, error=error)
        await _event(env, run_id, StatusEvent(RunStatus.FAILED, error=error))
        return {"run_id": run_id, "status": str(RunStatus.FAILED), "error": str(exc)}


#: arq functions with their timeouts and retry limits (listed in ``streamer.jobs.functions``).
EXEC_FUNCTIONS: list[Any] = [
    func(analyze, timeout=STEP_TIMEOUT, max_tries=MAX_TRIES),
    func(plan, timeout=300, max_tries=MAX_TRIES),
    func(execute_step, timeout=STEP_TIMEOUT, max_tries=MAX_TRIES),
    # a retried run (worker crash) resumes: finished steps are cached
    func(run_recipe, timeout=RUN_TIMEOUT, max_tries=3),
]
