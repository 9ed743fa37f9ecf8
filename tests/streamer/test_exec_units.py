"""Pieces of the execution layer without workers: sub-recipes, retries, provenance."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from arq import Retry
from redis.exceptions import ConnectionError as RedisConnectionError

from interpreter.errors import PlanError
from interpreter.loader import load_recipe
from interpreter.nodes import Expr, NodeType
from interpreter.planner import plan_recipe
from streamer.content.provenance import (
    build_provenance,
    descriptor_cid,
    hardware_descriptor,
    recipe_effects,
    rendered_by,
    software_descriptor,
)
from streamer.jobs import execute as jobs_exec
from streamer.jobs.job_env import MAX_TRIES, retry_or_raise
from streamer.jobs.steps import config_from_plan, is_inline, needs_execution, step_recipe
from streamer.resources import RESOURCES_KEY, Resources

RECIPE = """\
name: units
version: '1'
inputs:
  video: {type: video}
steps:
- id: g
  type: SOURCE
  config: {generator: color, duration: 1, width: 64, height: 48}
- id: fx
  type: EFFECT
  inputs: [video]
  config: {effect: hue, degrees: 90 * t + 10}
- id: both
  type: BLEND
  inputs: [fx, g]
output: both
"""
CID = "QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG"


def test_sub_recipe_binds_media_inputs_and_inlines_generators() -> None:
    plan = plan_recipe(load_recipe(RECIPE), {"video": CID})
    g, fx, both = plan.step("g"), plan.step("fx"), plan.step("both")
    assert is_inline(plan, g) and not needs_execution(plan, g)
    assert not needs_execution(plan, plan.step("video"))
    assert needs_execution(plan, fx) and needs_execution(plan, both)

    recipe, binding = step_recipe(plan, both)
    assert binding == {"in0": "fx"}
    assert recipe.output == "both" and [i.name for i in recipe.inputs] == ["in0"]
    kinds = {s.id: s.type for s in recipe.steps}
    assert kinds == {"fx": NodeType.SOURCE, "g": NodeType.SOURCE, "both": NodeType.BLEND}
    assert recipe.step("g").config["generator"] == "color"

    recipe, binding = step_recipe(plan, fx)
    assert binding == {"in0": "video"}
    degrees = recipe.step("fx").config["params"]["degrees"]
    assert isinstance(degrees, Expr) and degrees.op == "+"
    with pytest.raises(PlanError, match="recipe input"):
        step_recipe(plan, plan.step("video"))


def test_config_from_plan_round_trips_expressions() -> None:
    e = Expr("*", (Expr("num", (2.0,)), Expr("var", ("t",))))
    back = config_from_plan({"params": {"x": {"expr": e.to_json()}, "y": [1, {"expr": 3}]}})
    assert back["params"]["x"] == e
    assert back["params"]["y"] == [1, Expr("num", (3,))]


def test_transient_errors_retry_with_backoff_until_the_last_try() -> None:
    exc = RedisConnectionError("down")
    with pytest.raises(Retry) as info:
        retry_or_raise({"job_try": 1}, exc)
    assert info.value.defer_score == 1000
    with pytest.raises(Retry) as info:
        retry_or_raise({"job_try": 3}, exc)
    assert info.value.defer_score == 4000
    retry_or_raise({"job_try": MAX_TRIES}, exc)  # no Retry: caller raises


async def test_execute_step_retries_when_redis_is_down(tmp_path: Any) -> None:
    from cache.local import LocalStore
    from streamer.settings import Settings

    plan = plan_recipe(load_recipe(RECIPE), {"video": CID})
    local = LocalStore(tmp_path)
    local.put_json("plans", plan.plan_id, plan.to_dict())

    class DB:
        async def fetchval(self, *a: Any) -> None:
            return None

    class DownRedis:
        async def set(self, *a: Any, **k: Any) -> bool:
            raise RedisConnectionError("connection refused")

    class StoresStub:
        def __init__(self) -> None:
            self.local = local

        async def reachable_ipfs(self) -> None:
            return None

    settings = Settings.from_env({"CACHE_DIR": str(tmp_path)})
    res = Resources(
        settings=settings,
        db=DB(),
        redis=DownRedis(),  # type: ignore[arg-type]
        arq=DownRedis(),  # type: ignore[arg-type]
        stores=StoresStub(),  # type: ignore[arg-type]
        keys=settings.services.keys,
        token_key=b"k" * 32,
    )
    ctx: dict[str, Any] = {RESOURCES_KEY: res, "job_try": 1}
    with pytest.raises(Retry):
        await jobs_exec.execute_step(ctx, plan.plan_id, "fx")
    ctx["job_try"] = MAX_TRIES
    with pytest.raises(RedisConnectionError):
        await jobs_exec.execute_step(ctx, plan.plan_id, "fx")


def test_build_provenance_has_the_spec_shape() -> None:
    sw = {"name": "artdag-l1", "version": "1.2.3", "git_commit": "abc"}
    hw = {"hostname": "box", "cpu_model": "X", "cpu_cores": 2, "memory_bytes": 1 << 30}
    when = dt.datetime(2026, 1, 7, 12, 0, tzinfo=dt.UTC)
    rec = build_provenance(
        task_id="job-1",
        output_name="out.mp4",
        output_cid=CID,
        inputs={"video": CID},
        effects=recipe_effects(load_recipe(RECIPE), "9.9"),
        rendered_by="@giles@artdag.example",
        software=sw,
        hardware=hw,
        rendered_at=when,
    )
    assert rec == {
        "task_id": "job-1",
        "rendered_at": "2026-01-07T12:00:00Z",
        "rendered_by": "@giles@artdag.example",
        "output": {"name": "out.mp4", "cid": CID},
        "inputs": [{"name": "video", "cid": CID}],
        "effects": [{"name": "hue", "version": "9.9"}],
        "infrastructure": {
            "software": {"name": "infra:artdag", "cid": descriptor_cid(sw)},
            "hardware": {"name": "infra:box", "cid": descriptor_cid(hw)},
        },
    }
    # CIDs are content ids of the canonical JSON: key order does not matter, content does
    assert descriptor_cid(dict(reversed(list(sw.items())))) == descriptor_cid(sw)
    assert descriptor_cid(sw | {"git_commit": "abd"}) != descriptor_cid(sw)


def test_descriptors_and_actor() -> None:
    sw, hw = software_descriptor(), hardware_descriptor()
    assert sw["name"] == "artdag-l1" and sw["version"]
    assert sw["git_commit"] is None or len(sw["git_commit"]) == 40
    assert hw["cpu_cores"] >= 1 and hw["hostname"] and hw["cpu_model"]
    assert hw["memory_bytes"] is None or hw["memory_bytes"] > 1 << 20
    assert rendered_by("@a@b.c", "x.y") == "@a@b.c"
    assert rendered_by("giles", "artdag.example") == "@giles@artdag.example"
    assert rendered_by(None, "artdag.example") == "@artdag@artdag.example"
