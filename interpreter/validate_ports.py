"""Edge checks: inputs matched to ports by kind, output kinds, audio variables."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from effects.registry import EffectSpec
from interpreter.errors import RecipeValidationError, TypeMismatchError
from interpreter.expr import expr_vars
from interpreter.nodes import Expr, NodeType, Pos, Step
from interpreter.schema import GENERATORS, INPUT_TYPES, SCHEMAS, Kind, NodeSchema, PortSpec
from interpreter.schema_types import port_slots
from interpreter.validate_report import Reporter

__all__ = ["AUDIO_VARS", "PortChecker"]

#: Variables (and the ``decay`` function) that need an analysis input on their step.
AUDIO_VARS = frozenset(
    {"beat", "beat_phase", "since_beat", "energy", "bass", "mid", "high", "decay"}
)
_ANALYSIS_OPTIONAL = (NodeType.EFFECT, NodeType.TRANSFORM, NodeType.BLEND)


def _calls(e: Expr) -> set[str]:
    if e.op in ("num", "var"):
        return set()
    out = {e.op}
    for a in e.args:
        out |= _calls(a)
    return out


def _input_pos(step: Step, i: int) -> Pos:
    return step.input_pos[i] if i < len(step.input_pos) else step.pos


class PortChecker:
    """Checks what flows along each edge, step by step in topological order.

    Args:
        report: Builds the positioned errors.
    """

    def __init__(self, report: Reporter) -> None:
        self.report = report
        self.recipe = report.recipe

    def output_kind(self, step: Step, kinds: Mapping[str, Kind], spec: EffectSpec | None) -> Kind:
        """Check the step's inputs against its ports; returns the kind it produces.

        Args:
            step: The step.
            kinds: Output kind of every step before it.
            spec: Its effect spec (EFFECT steps).
        """
        schema = SCHEMAS[step.type]
        got = [kinds[i] for i in step.inputs]
        if step.type is NodeType.EFFECT:
            self._effect_inputs(step, got, spec)
            return "video"
        slots = self._match_ports(step, schema.ports, got)
        for i, (k, port) in enumerate(zip(got, slots, strict=True)):
            if k not in port.kinds:
                raise self.report.err(
                    TypeMismatchError,
                    f"{step.id}: {k} fed to the {port.name} input of {step.type.value}, which takes {'/'.join(port.kinds)}",
                    _input_pos(step, i),
                    f"{step.inputs[i]!r} produces {k}",
                )
        if step.type is NodeType.SEQUENCE:
            self._same_kind(step, got)
        return self._produced(step, schema, got)

    def _effect_inputs(self, step: Step, got: Sequence[Kind], spec: EffectSpec | None) -> None:
        arity = spec.arity if spec else 1
        video = [i for i, k in enumerate(got) if k != "analysis"]
        analysis = [i for i, k in enumerate(got) if k == "analysis"]
        if len(video) != arity or len(analysis) > 1:
            raise self.report.err(
                RecipeValidationError,
                f"{step.id}: effect {step.config.get('effect')!r} takes {arity} video input{'s' if arity > 1 else ''}"
                f" (plus optionally one analysis), got {len(got)} input{'s' if len(got) != 1 else ''}",
                step.pos,
            )
        for i in video:
            if got[i] not in ("video", "av"):
                raise self.report.err(
                    TypeMismatchError,
                    f"{step.id}: {got[i]} fed to the video-only effect {step.config.get('effect')!r}",
                    _input_pos(step, i),
                    f"{step.inputs[i]!r} produces {got[i]}; pass a video",
                )

    def _match_ports(
        self, step: Step, ports: Sequence[PortSpec], got: Sequence[Kind]
    ) -> list[PortSpec]:
        fixed = [p for p in ports if not p.variadic]
        variadic = next((p for p in ports if p.variadic), None)
        need = len([p for p in fixed if not p.optional]) + (1 if variadic else 0)
        most = len(fixed) + (10**6 if variadic else 0)
        if not need <= len(got) <= most:
            want = f"at least {need}" if variadic else str(need)
            raise self.report.err(
                RecipeValidationError,
                f"{step.id}: {step.type.value} takes {want} input(s), got {len(got)}",
                step.pos,
                "ports: " + ", ".join(p.name + ("..." if p.variadic else "") for p in ports),
            )
        return port_slots(ports, len(got))

    def _same_kind(self, step: Step, got: Sequence[Kind]) -> None:
        base = {"av": "video"}.get(got[0], got[0])
        for i, k in enumerate(got):
            if {"av": "video"}.get(k, k) != base:
                raise self.report.err(
                    TypeMismatchError,
                    f"{step.id}: SEQUENCE mixes {got[0]} and {k}",
                    _input_pos(step, i),
                    "all parts must be the same kind",
                )

    def _produced(self, step: Step, schema: NodeSchema, got: Sequence[Kind]) -> Kind:
        if schema.output == "same":
            return got[0]
        if schema.output == "source":
            if "input" in step.config:
                return INPUT_TYPES[self.recipe.input(step.config["input"]).type]
            return GENERATORS[step.config["generator"]].kind
        return schema.output

    def audio_vars(self, step: Step, kinds: Mapping[str, Kind]) -> None:
        """Expressions reading beat / audio variables need an analysis input on their step."""
        if any(kinds[i] == "analysis" for i in step.inputs):
            return
        flat = [(k, v) for k, v in step.config.items() if k != "params"]
        flat += [(f"params.{k}", v) for k, v in (step.config.get("params") or {}).items()]
        for key, value in flat:
            if isinstance(value, Expr):
                used = sorted((expr_vars(value) | _calls(value)) & AUDIO_VARS)
                if used:
                    raise self.report.err(
                        RecipeValidationError,
                        f"{step.id}: {key.removeprefix('params.')} reads {used[0]!r} but the step has no analysis input",
                        step.where(key),
                        "add an ANALYZE step to its inputs"
                        if step.type in _ANALYSIS_OPTIONAL
                        else f"{step.type.value} has no analysis input; only t and frame are available",
                    )
