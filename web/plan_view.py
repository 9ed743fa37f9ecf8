"""Where each plan step of a run is, for the plan tab's DAG: pending, running, done or stopped.

The page is drawn with the states known now (:func:`step_states`);
``web/static/plan_live.js`` then moves them on from the run's events (``step``
events of the batch path; ``playlist``/``progress`` of the live render, which
computes every step at once; the final ``status``).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from streamer.runs.status import RunStatus
from web import queries

__all__ = ["STEP_STATES", "plan_states", "step_states"]

#: The states a step is drawn in (CSS ``dag-state-<state>``).
STEP_STATES = ("pending", "running", "done", "failed", "stopped")


def _finished(
    step: Mapping[str, Any], cached_ids: Collection[str], analysed: Collection[str]
) -> bool:
    """Whether the step's output exists: cached at plan time or since, analysed, or an input."""
    config = step.get("config") or {}
    return bool(
        step.get("cached")
        or step.get("cache_id") in cached_ids
        or step.get("step_id") in analysed
        or (step.get("node_type") == "SOURCE" and isinstance(config, Mapping) and "cid" in config)
    )


def plan_states(run: Mapping[str, Any], cached_ids: Collection[str] = ()) -> dict[str, str]:
    """Step id -> state (:data:`STEP_STATES`) of a run row's plan.

    Args:
        run: The run row (``status``, ``plan``, ``analysis``, ``segment_count``).
        cached_ids: Cache ids with a stored output (``step_cache``).

    Returns:
        Every step ``done`` for a completed run and ``pending`` for a pending one.
        A running live render (it has listed segments) computes every step in
        one graph: its steps are ``running`` but for the analyses it was given.
        Otherwise a step whose output exists (:func:`_finished`) is ``done``, and
        so are the steps it was made from; the others are ``pending``, or
        ``stopped`` when the run failed or was cancelled.
    """
    steps = [s for s in (run.get("plan") or {}).get("steps") or [] if isinstance(s, Mapping)]
    ids = [str(s.get("step_id")) for s in steps]
    status = str(run.get("status") or RunStatus.PENDING)
    if status in (RunStatus.COMPLETED, RunStatus.PENDING):
        return dict.fromkeys(ids, "done" if status == RunStatus.COMPLETED else "pending")
    analysis = run.get("analysis")
    analysed = set(analysis) if isinstance(analysis, Mapping) else set()
    if status == RunStatus.RUNNING and run.get("segment_count"):
        return {i: "done" if i in analysed else "running" for i in ids}
    rest = "stopped" if status in (RunStatus.FAILED, RunStatus.CANCELLED) else "pending"
    states = {
        i: "done" if _finished(s, cached_ids, analysed) else rest
        for i, s in zip(ids, steps, strict=True)
    }
    # a step's output exists, so did its inputs (or they were computed inside it: inline)
    parents = {i: [str(p) for p in s.get("inputs") or []] for i, s in zip(ids, steps, strict=True)}
    todo = [i for i in ids if states[i] == "done"]
    while todo:
        for p in parents.get(todo.pop(), []):
            if states.get(p) == rest:
                states[p] = "done"
                todo.append(p)
    return states


async def step_states(db: Any, run: Mapping[str, Any]) -> dict[str, str]:
    """:func:`plan_states` with the cache ids looked up in ``step_cache``."""
    steps = (run.get("plan") or {}).get("steps") or []
    if run.get("status") in (RunStatus.COMPLETED, RunStatus.PENDING):
        return plan_states(run)
    cache_ids = [str(s["cache_id"]) for s in steps if isinstance(s, Mapping) and s.get("cache_id")]
    cached = await queries.step_cache_cids(db, cache_ids)
    return plan_states(run, set(cached))
