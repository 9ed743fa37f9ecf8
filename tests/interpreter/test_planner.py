"""The planner: cache ids, levels, tree reduction, cached steps, JSON round trip."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest

from effects.registry import Registry
from interpreter.errors import MissingInputError, ParamRangeError, PlanError
from interpreter.ids import analysis_id, canonical_json, sha3_hex
from interpreter.nodes import Recipe
from interpreter.planner import ExecutionPlan, plan_recipe

Load = Callable[..., Recipe]

CHAIN = """\
name: chain
inputs:
  video: {type: video}
  audio: {type: audio}
params:
  k: {default: 1, min: 0, max: 4}
steps:
  - {id: beats, type: ANALYZE, inputs: [audio], config: {features: [energy, beats, beats]}}
  - {id: a, type: EFFECT, inputs: [video], config: {effect: invert}}
  - {id: b, type: EFFECT, inputs: [a], config: {effect: blur, radius: RADIUS}}
  - {id: c, type: EFFECT, inputs: [video, beats], config: {effect: hue, degrees: "k * 90 * beat_phase"}}
  - {id: d, type: EFFECT, inputs: [b, c], config: {effect: blend, mode: add}}
  - {id: out, type: MUX, inputs: [d, audio]}
output: out
"""
CIDS = {"video": "QmVideo", "audio": "QmAudio"}


def _chain(load: Load, radius: float = 2) -> Recipe:
    return load(CHAIN.replace("RADIUS", str(radius)))


def test_cache_ids_follow_the_specification(load: Load, registry: Registry) -> None:
    plan = plan_recipe(_chain(load), CIDS, registry=registry)
    s = {p.step_id: p for p in plan.steps}
    assert s["video"].cache_id == "QmVideo" and s["video"].level == 0
    assert s["beats"].cache_id == analysis_id("QmAudio", ["beats", "energy"])
    assert s["beats"].config == {"features": ["beats", "energy"]}
    assert plan.analysis[0].features == ("beats", "energy")
    assert plan.analysis[0].analysis_id == s["beats"].cache_id
    # one input: SHA3(type | canonical config | input cache id), defaults filled
    assert s["a"].config == {"effect": "invert", "params": {}}
    assert s["b"].config == {"effect": "blur", "params": {"radius": 2}}
    assert s["b"].cache_id == sha3_hex("EFFECT", canonical_json(s["b"].config), s["a"].cache_id)
    # the recipe param is folded into the expression
    assert s["c"].config["params"]["degrees"] == {
        "expr": {"op": "*", "args": [{"op": "*", "args": [1, 90]}, {"var": "beat_phase"}]}
    }
    assert [p.level for p in plan.steps] == sorted(p.level for p in plan.steps)
    assert (s["a"].level, s["b"].level, s["c"].level, s["d"].level, s["out"].level) == (
        1,
        2,
        2,
        3,
        4,
    )
    assert s["d"].inputs == ("b", "c")


def test_one_changed_parameter_changes_only_that_step_and_dependants(
    load: Load, registry: Registry
) -> None:
    p1 = {
        p.step_id: p.cache_id for p in plan_recipe(_chain(load, 2), CIDS, registry=registry).steps
    }
    p2 = {
        p.step_id: p.cache_id for p in plan_recipe(_chain(load, 3), CIDS, registry=registry).steps
    }
    changed = {k for k in p1 if p1[k] != p2[k]}
    assert changed == {"b", "d", "out"}


def test_param_override_changes_only_readers(load: Load, registry: Registry) -> None:
    p1 = plan_recipe(_chain(load), CIDS, registry=registry)
    p2 = plan_recipe(_chain(load), CIDS, params={"k": 2}, registry=registry)
    changed = {
        a.step_id for a, b in zip(p1.steps, p2.steps, strict=True) if a.cache_id != b.cache_id
    }
    assert changed == {"c", "d", "out"}
    assert p1.plan_id != p2.plan_id and p1.recipe_id == p2.recipe_id
    with pytest.raises(ParamRangeError):
        plan_recipe(_chain(load), CIDS, params={"k": 9}, registry=registry)
    with pytest.raises(ParamRangeError):
        plan_recipe(_chain(load), CIDS, params={"kk": 1}, registry=registry)


def test_input_order_matters_for_order_sensitive_nodes(load: Load, registry: Registry) -> None:
    a = plan_recipe(_chain(load), CIDS, registry=registry)
    b = plan_recipe(
        load(CHAIN.replace("RADIUS", "2").replace("inputs: [b, c]", "inputs: [c, b]")),
        CIDS,
        registry=registry,
    )
    assert a.step("d").cache_id != b.step("d").cache_id


def test_different_input_content_changes_dependants_only(load: Load, registry: Registry) -> None:
    a = plan_recipe(_chain(load), CIDS, registry=registry)
    b = plan_recipe(_chain(load), {**CIDS, "audio": "QmOther"}, registry=registry)
    changed = {x.step_id for x, y in zip(a.steps, b.steps, strict=True) if x.cache_id != y.cache_id}
    assert changed == {"audio", "beats", "c", "d", "out"}


def test_cached_steps_are_marked(load: Load, registry: Registry) -> None:
    first = plan_recipe(_chain(load), CIDS, registry=registry)
    done = {first.step("a").cache_id, first.step("b").cache_id}
    plan = plan_recipe(_chain(load), CIDS, is_cached=done.__contains__, registry=registry)
    assert {s.step_id for s in plan.steps if s.cached} == {"a", "b"}


def test_missing_input_is_a_positioned_error(load: Load, registry: Registry) -> None:
    with pytest.raises(MissingInputError) as ei:
        plan_recipe(_chain(load), {"video": "QmVideo"}, registry=registry)
    assert (ei.value.line, ei.value.column) == (4, 3)
    assert "-i audio=" in ei.value.hint
    assert str(ei.value).startswith("t.yaml:4:3: recipe input 'audio' is not bound")


def test_json_round_trip(load: Load, registry: Registry) -> None:
    plan = plan_recipe(_chain(load), CIDS, registry=registry)
    again = ExecutionPlan.from_json(plan.to_json())
    assert again == plan
    assert ExecutionPlan.from_json(again.to_json(indent=2)) == plan
    d = plan.to_dict()
    assert d["levels"] == 5 and all("level" in s for s in d["steps"])


@pytest.mark.parametrize(
    "text",
    ["", "[]", "{}", '{"version": 99}', "not json", '{"version": 1, "steps": [{"step_id": 1}]}'],
)
def test_malformed_plan_json_is_a_plan_error(text: str) -> None:
    with pytest.raises(PlanError):
        ExecutionPlan.from_json(text)


def _sequence(n: int) -> str:
    steps = "\n".join(
        f"  - {{id: p{i}, type: SOURCE, config: {{generator: color, color: [{i}, 0, 0]}}}}"
        for i in range(n)
    )
    parts = ", ".join(f"p{i}" for i in range(n))
    return f"name: seq\nsteps:\n{steps}\n  - {{id: seq, type: SEQUENCE, inputs: [{parts}], config: {{transition: cut}}}}\noutput: seq\n"


@pytest.mark.parametrize("n", [1, 2, 3, 5, 16, 17])
def test_sequence_is_a_tree_reduction(load: Load, registry: Registry, n: int) -> None:
    plan = plan_recipe(load(_sequence(n)), {}, registry=registry)
    rounds = max(1, math.ceil(math.log2(n)))
    assert len(plan.levels) == 1 + rounds
    joins = [s for s in plan.steps if s.node_type == "SEQUENCE"]
    assert len(joins) == max(1, n - 1)
    assert all(len(s.inputs) <= 2 or n <= 2 for s in joins)
    assert plan.step("seq").level == rounds

    # the joins keep the parts in order: walk the tree from the root
    def leaves(sid: str) -> list[str]:
        s = plan.step(sid)
        return [sid] if s.node_type == "SOURCE" else [x for i in s.inputs for x in leaves(i)]

    assert leaves("seq") == [f"p{i}" for i in range(n)]


def test_sixteen_part_sequence_plans_in_five_levels(load: Load, registry: Registry) -> None:
    plan = plan_recipe(load(_sequence(16)), {}, registry=registry)
    assert len(plan.levels) == 5
    assert [len(level) for level in plan.levels] == [16, 8, 4, 2, 1]
