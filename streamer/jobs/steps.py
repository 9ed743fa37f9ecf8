"""Executing one plan step: a sub-recipe of that node rendered into one media file.

A plan step's inputs are other steps whose outputs are already in the cache
(media files, or analysis JSON for ANALYZE inputs). :func:`step_recipe` builds
a small recipe with one SOURCE per media input (bound to the cached file),
the ANALYZE inputs as data, any inlined generator sources, and the step
itself as the output; :func:`render_step` runs it through the
StreamInterpreter into a :class:`hls.file_output.FileOutput`.

Generator SOURCE steps are cheap to recompute and have no file to decode, so
they are not materialised: their consumers include them inline
(:func:`is_inline`); an ANALYZE over one analyses its audio rendered offline
(:func:`render_generated_wav`). Recipe inputs are in the cache already (their cache id is
their CID). Time in a step's expressions (``t``) counts from that step's own
first frame.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hls.file_output import FileOutput, FileResult
from interpreter.errors import PlanError
from interpreter.nodes import Expr, InputDecl, NodeType, Recipe, Step
from interpreter.planner import ExecutionPlan, PlanStep
from interpreter.runtime.offline import render_wav
from interpreter.stream import StreamInterpreter
from interpreter.validate import default_registry

__all__ = [
    "config_from_plan",
    "expr_from_json",
    "is_inline",
    "needs_execution",
    "render_generated_wav",
    "render_step",
    "step_recipe",
]


def expr_from_json(value: Any) -> Any:
    """Inverse of :meth:`interpreter.nodes.Expr.to_json` (numbers become ``num`` nodes)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return Expr("num", (value,))
    if isinstance(value, Mapping):
        if "var" in value and len(value) == 1:
            return Expr("var", (str(value["var"]),))
        if "op" in value:
            return Expr(str(value["op"]), tuple(expr_from_json(a) for a in value.get("args", [])))
    return value


def config_from_plan(value: Any) -> Any:
    """A plan step's canonical config back to recipe form (``{"expr": ast}`` -> :class:`Expr`)."""
    if isinstance(value, Mapping):
        if set(value) == {"expr"}:
            return expr_from_json(value["expr"])
        return {k: config_from_plan(v) for k, v in value.items()}
    if isinstance(value, list):
        return [config_from_plan(v) for v in value]
    return value


def _has_expr(value: Any) -> bool:
    if isinstance(value, Mapping):
        return set(value) == {"expr"} or any(_has_expr(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_expr(v) for v in value)
    return False


def is_inline(plan: ExecutionPlan, step: PlanStep) -> bool:
    """A generator SOURCE that is not the output: recomputed by its consumers."""
    return (
        step.node_type == NodeType.SOURCE.value
        and "generator" in step.config
        and step.step_id != plan.output
    )


def needs_execution(plan: ExecutionPlan, step: PlanStep) -> bool:
    """Whether the step produces a cache entry of its own (not an input, not inlined)."""
    if step.node_type == NodeType.SOURCE.value:
        return "generator" in step.config and not is_inline(plan, step)
    return True


def step_recipe(plan: ExecutionPlan, step: PlanStep) -> tuple[Recipe, dict[str, str]]:
    """The sub-recipe that computes ``step`` from its inputs' cached outputs.

    Returns:
        The recipe and, for each of its inputs, the plan step id whose cached
        media file binds it (``{"in0": "effect_1", ...}``).

    Raises:
        PlanError: ``step`` is an ANALYZE step (not rendered) or a recipe input.
    """
    if step.node_type == NodeType.ANALYZE.value:
        raise PlanError(f"step {step.step_id!r}: ANALYZE steps are analysed, not rendered")
    if step.node_type == NodeType.SOURCE.value and "generator" not in step.config:
        raise PlanError(f"step {step.step_id!r}: a recipe input is not rendered")
    decls: list[InputDecl] = []
    steps: list[Step] = []
    binding: dict[str, str] = {}
    seen: set[str] = set()
    for sid in step.inputs:
        if sid in seen:
            continue
        seen.add(sid)
        src = plan.step(sid)
        if src.node_type == NodeType.ANALYZE.value:
            features = list(src.config.get("features") or [])
            steps.append(Step(sid, NodeType.ANALYZE, (), {"features": features}))
        elif is_inline(plan, src):
            steps.append(Step(sid, NodeType.SOURCE, (), config_from_plan(dict(src.config))))
        else:
            name = f"in{len(decls)}"
            decls.append(InputDecl(name, "video"))
            binding[name] = sid
            steps.append(Step(sid, NodeType.SOURCE, (), {"input": name}))
    analyses = [s for s in plan.steps if s.node_type == NodeType.ANALYZE.value]
    if len(analyses) == 1 and analyses[0].step_id not in seen and _has_expr(step.config):
        # the whole recipe's only analysis drives expressions of every step
        a = analyses[0]
        steps.append(
            Step(a.step_id, NodeType.ANALYZE, (), {"features": list(a.config["features"])})
        )
    config = config_from_plan(dict(step.config))
    steps.append(Step(step.step_id, NodeType(step.node_type), tuple(step.inputs), config))
    recipe = Recipe(
        name=f"{plan.recipe_name}:{step.step_id}",
        version="",
        description=step.name,
        inputs=tuple(decls),
        params=(),
        steps=tuple(steps),
        output=step.step_id,
        filename=f"plan {plan.plan_id[:12]} step {step.step_id}",
    )
    return recipe, binding


async def render_step(
    plan: ExecutionPlan,
    step: PlanStep,
    files: Mapping[str, Path],
    analysis: Mapping[str, Any],
    out_path: Path,
    *,
    container: str = "mkv",
    crf: int = 14,
    preset: str = "veryfast",
    on_progress: Any = None,
) -> FileResult:
    """Render ``step`` into ``out_path``.

    Args:
        plan: The plan the step belongs to.
        step: A step for which :func:`needs_execution` holds (not ANALYZE).
        files: Plan step id -> local media file of its cached output, for
            every media input of the step.
        analysis: ANALYZE step id -> analysis JSON, for the ANALYZE steps the
            sub-recipe contains.
        out_path: Where the file goes (written atomically).
        container: ``"mkv"`` for intermediates, ``"mp4"`` for a published output.
        crf: x264 quality.
        preset: x264 preset.
        on_progress: Passed to the StreamInterpreter (gets a ``Progress``).

    Raises:
        InterpreterError: The step cannot be rendered (position names the plan step).
        KeyError: An input file or analysis is missing from ``files``/``analysis``.
    """
    recipe, binding = step_recipe(plan, step)
    inputs = {name: Path(files[sid]) for name, sid in binding.items()}
    wanted = {s.id for s in recipe.steps if s.type is NodeType.ANALYZE}
    data = {sid: analysis[sid] for sid in wanted}
    sink = FileOutput(out_path, container=container, crf=crf, preset=preset)  # type: ignore[arg-type]
    interp = StreamInterpreter(
        recipe,
        inputs,
        sink,
        params=dict(plan.params),
        analysis=data or None,
        on_progress=on_progress,
    )
    result: FileResult = await interp.run()
    return result


def render_generated_wav(plan: ExecutionPlan, step: PlanStep, path: Path) -> None:
    """Render the audio of an inlined generator ``step`` into a WAV file (blocking).

    An ANALYZE over a generator analyses this file; the analysis is cached under
    the plan's id for it, ``analysis_id(generator cache id, features)``.

    Raises:
        InterpreterError: The generator makes no audio (position names the plan step).
    """
    recipe = Recipe(
        name=f"{plan.recipe_name}:{step.step_id}",
        version="",
        description=step.name,
        inputs=(),
        params=(),
        steps=(Step(step.step_id, NodeType.SOURCE, (), config_from_plan(dict(step.config))),),
        output=step.step_id,
        filename=f"plan {plan.plan_id[:12]} step {step.step_id}",
    )
    render_wav(
        recipe, step.step_id, {}, path, registry=default_registry(), params=dict(plan.params)
    )
