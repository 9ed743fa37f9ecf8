"""Run events on the wire (streamer/runs/events.py) and the batch path's step events
(streamer/jobs/step_events.py), without Redis: a fake records what is published."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest

from streamer.jobs.step_events import steps_done, tracked
from streamer.keys import RedisKeys
from streamer.runs.events import (
    PlaylistEvent,
    ProgressEvent,
    StatusEvent,
    StepEvent,
    StepState,
    event_json,
)
from streamer.runs.status import RunStatus


def test_event_json_of_every_event() -> None:
    assert event_json("r", StatusEvent(RunStatus.RUNNING, stage="analysis")) == {
        "type": "status",
        "run_id": "r",
        "status": "running",
        "stage": "analysis",
    }
    assert event_json("r", ProgressEvent(0.5)) == {
        "type": "progress",
        "run_id": "r",
        "progress": 0.5,
        "frames": None,
        "total_frames": None,
        "fps": None,
    }
    playlist = event_json("r", PlaylistEvent("Qm1", "Qm2", 0, 1.0, 1, False, True))
    assert playlist["type"] == "playlist" and playlist["segment_count"] == 1
    step = event_json("r", StepEvent("fx", StepState.DONE, cached=True))
    assert step == {"type": "step", "run_id": "r", "step_id": "fx", "state": "done", "cached": True}
    assert json.loads(json.dumps(step)) == step
    assert event_json("r", StepEvent("fx", StepState.RUNNING))["cached"] is False


class _Redis:
    """Records publish calls; ``fail`` makes them raise (a Redis outage)."""

    def __init__(self, fail: bool = False) -> None:
        self.published: list[tuple[str, dict[str, Any]]] = []
        self.fail = fail

    async def publish(self, channel: str, payload: str) -> int:
        if self.fail:
            raise ConnectionError("redis is down")
        self.published.append((channel, json.loads(payload)))
        return 1


def _env(redis: _Redis) -> Any:
    return SimpleNamespace(redis=redis, keys=RedisKeys(prefix="t:"))


def _states(redis: _Redis) -> list[tuple[str, str, bool]]:
    return [(e["step_id"], e["state"], e["cached"]) for _, e in redis.published]


async def test_tracked_step_runs_then_finishes_or_fails() -> None:
    redis = _Redis()
    env = _env(redis)

    async def work(result: Any) -> Any:
        return result

    assert await tracked(env, "r", "a", work({"status": "executed"})) == {"status": "executed"}
    await tracked(env, "r", "b", work({"status": "cached"}))
    assert _states(redis) == [
        ("a", "running", False),
        ("a", "done", False),
        ("b", "running", False),
        ("b", "done", True),
    ]
    assert {channel for channel, _ in redis.published} == {"t:run:r:events"}

    async def boom() -> None:
        raise RuntimeError("step failed")

    redis.published.clear()
    with pytest.raises(RuntimeError, match="step failed"):
        await tracked(env, "r", "c", boom())
    assert _states(redis) == [("c", "running", False), ("c", "failed", False)]
    await steps_done(env, "r", ["d", "e"], cached=True)
    assert _states(redis)[-2:] == [("d", "done", True), ("e", "done", True)]


async def test_a_failed_publish_never_fails_the_step() -> None:
    env = _env(_Redis(fail=True))

    async def work() -> int:
        return 7

    assert await tracked(env, "r", "a", work()) == 7
    await steps_done(env, "r", ["b"], cached=False)
