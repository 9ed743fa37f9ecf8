"""Property tests over generated valid recipes: twins, formatting and cache-id locality."""

from __future__ import annotations

import os

from hypothesis import given, settings
from hypothesis import strategies as st

from interpreter.canonical import format_sexp, format_yaml, recipe_id
from interpreter.loader import load_recipe
from interpreter.planner import plan_recipe
from interpreter.validate import validate
from tests.interpreter.recipe_registry import small_registry

REGISTRY = small_registry()
SETTINGS = settings(max_examples=int(os.environ.get("ARTDAG_FUZZ_EXAMPLES", "100")), deadline=None)

_radius = st.floats(0, 50, allow_nan=False).map(lambda x: round(x, 3))
_degrees = st.one_of(
    st.floats(-360, 360, allow_nan=False).map(lambda x: round(x, 2)),
    st.sampled_from(
        ["90 * t", "lfo(0.5) * 180", "clamp(t * 10, -360, 360)", "if(frame % 2 == 0, 10, -10)"]
    ),
)
_effect: st.SearchStrategy[tuple[str, dict[str, object]]] = st.one_of(
    st.just(("invert", {})),
    st.tuples(st.just("blur"), st.fixed_dictionaries({"radius": _radius})),
    st.tuples(st.just("hue"), st.fixed_dictionaries({"degrees": _degrees})),
)


def _yaml(chain: list[tuple[str, dict[str, object]]], ins: list[int]) -> str:
    lines = ["name: gen", "inputs:", "  video: {type: video}", "steps:"]
    prev = ["video"]
    for i, (name, params) in enumerate(chain):
        src = prev[ins[i] % len(prev)]
        cfg = ", ".join(
            [f"effect: {name}"]
            + [f"{k}: {v!r}" if isinstance(v, str) else f"{k}: {v}" for k, v in params.items()]
        )
        lines.append(f"  - {{id: s{i}, type: EFFECT, inputs: [{src}], config: {{{cfg}}}}}")
        prev.append(f"s{i}")
    # every step must reach the output: fold them all into a sequence
    lines.append(f"  - {{id: out, type: SEQUENCE, inputs: [{', '.join(prev[1:])}]}}")
    lines.append("output: out")
    return "\n".join(lines) + "\n"


chains = st.lists(_effect, min_size=1, max_size=6)


@SETTINGS
@given(chains, st.lists(st.integers(0, 10), min_size=6, max_size=6))
def test_formatted_twins_share_recipe_and_plan_ids(
    chain: list[tuple[str, dict[str, object]]], ins: list[int]
) -> None:
    recipe = load_recipe(_yaml(chain, ins), "gen.yaml", REGISTRY)
    validate(recipe, REGISTRY)
    plan = plan_recipe(recipe, {"video": "QmV"}, registry=REGISTRY)
    for text in (format_sexp(recipe), format_yaml(recipe)):
        twin = load_recipe(text, "twin", REGISTRY)
        assert recipe_id(twin) == recipe_id(recipe)
        assert plan_recipe(twin, {"video": "QmV"}, registry=REGISTRY).plan_id == plan.plan_id


@SETTINGS
@given(chains, st.lists(st.integers(0, 10), min_size=6, max_size=6), st.integers(0, 5), _radius)
def test_changing_one_parameter_changes_only_that_step_and_dependants(
    chain: list[tuple[str, dict[str, object]]], ins: list[int], which: int, radius: float
) -> None:
    k = which % len(chain)
    changed_chain = list(chain)
    if chain[k] == ("blur", {"radius": radius}):
        radius = radius + 1 if radius < 49 else radius - 1
    changed_chain[k] = ("blur", {"radius": radius})
    a = plan_recipe(
        load_recipe(_yaml(chain, ins), "a", REGISTRY), {"video": "QmV"}, registry=REGISTRY
    )
    b = plan_recipe(
        load_recipe(_yaml(changed_chain, ins), "b", REGISTRY), {"video": "QmV"}, registry=REGISTRY
    )
    ids_a = {s.step_id: s.cache_id for s in a.steps}
    ids_b = {s.step_id: s.cache_id for s in b.steps}
    assert ids_a.keys() == ids_b.keys()
    # dependants of step k in plan a (including the SEQUENCE joins)
    dependants = {f"s{k}"}
    for s in a.steps:  # steps are in level order, so one pass suffices
        if any(i in dependants for i in s.inputs):
            dependants.add(s.step_id)
    assert {sid for sid in ids_a if ids_a[sid] != ids_b[sid]} == dependants
