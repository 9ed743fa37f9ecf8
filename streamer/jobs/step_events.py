"""Live events of the batch path: the run's stage, and each plan step running, done or failed.

``run_recipe`` (:mod:`streamer.jobs.execute`) publishes them so the run page
can mark the plan's steps as the workers take and finish them. Subscribers are
optional: a failed publish never fails the run.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Iterable, Mapping
from typing import TypeVar

from streamer.jobs.job_env import JobEnv
from streamer.runs.events import RunEvent, StepEvent, StepState, publish_event

__all__ = ["publish_quietly", "steps_done", "tracked"]

T = TypeVar("T")


async def publish_quietly(env: JobEnv, run_id: str, event: RunEvent) -> None:
    """Publish ``event`` on the run's channel; errors are swallowed (SSE is best effort)."""
    with contextlib.suppress(Exception):
        await publish_event(env.redis, env.keys, run_id, event)


async def steps_done(env: JobEnv, run_id: str, step_ids: Iterable[str], *, cached: bool) -> None:
    """One ``done`` event per step (``cached``: nothing was executed for it)."""
    for step_id in step_ids:
        await publish_quietly(env, run_id, StepEvent(step_id, StepState.DONE, cached=cached))


async def tracked(env: JobEnv, run_id: str, step_id: str, work: Awaitable[T]) -> T:
    """Await ``work`` (a worker job's result) between ``running`` and ``done``/``failed``.

    A result mapping with ``"status": "cached"`` (``execute_step`` found the output
    cached) makes the ``done`` event say ``cached``.
    """
    await publish_quietly(env, run_id, StepEvent(step_id, StepState.RUNNING))
    try:
        result = await work
    except Exception:
        await publish_quietly(env, run_id, StepEvent(step_id, StepState.FAILED))
        raise
    cached = isinstance(result, Mapping) and result.get("status") == "cached"
    await publish_quietly(env, run_id, StepEvent(step_id, StepState.DONE, cached=cached))
    return result
