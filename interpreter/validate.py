"""Recipe validation: names, fields, ranges, expressions, graph shape and kinds.

:func:`validate` raises the first problem as a positioned
:class:`~interpreter.errors.InterpreterError` subclass and returns the output
kind of every step when the recipe is sound.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from effects.registry import EffectParamError, EffectSpec, Registry
from effects.registry import UnknownEffectError as RegistryUnknownEffect
from interpreter.errors import (
    CycleError,
    DanglingInputError,
    InterpreterError,
    ParamRangeError,
    RecipeValidationError,
    TypeMismatchError,
    UnknownEffectError,
    UnknownParamError,
    UnusedInputError,
)
from interpreter.expr import compile_expr, expr_vars
from interpreter.nodes import Expr, NodeType, Pos, Recipe, Step
from interpreter.schema import GENERATORS, INPUT_TYPES, SCHEMAS, FieldSpec, Kind

__all__ = ["default_registry", "topological_order", "validate"]


def default_registry() -> Registry:
    """The effects catalog's registry (imported lazily: building it is cheap)."""
    from effects.catalog import default_registry as build

    return build()


def _hint_close(name: str, names: Sequence[str], what: str) -> str:
    close = difflib.get_close_matches(name, list(names), n=1)
    if close:
        return f"did you mean {close[0]!r}?"
    return f"{what}: " + (", ".join(sorted(names)) or "none")


def topological_order(recipe: Recipe) -> list[Step]:
    """Steps ordered so inputs come first (ties broken by id); raises CycleError.

    Only meaningful for recipes whose inputs all name steps.
    """
    by_id = {s.id: s for s in recipe.steps}
    order: list[Step] = []
    state: dict[str, int] = {}  # 1 visiting, 2 done
    path: list[str] = []

    def visit(sid: str) -> None:
        st = state.get(sid)
        if st == 2:
            return
        if st == 1:
            cyc = [*path[path.index(sid) :], sid]
            first = by_id[sid]
            raise CycleError(
                "cycle: " + " -> ".join(cyc),
                file=recipe.filename,
                line=first.pos.line,
                column=first.pos.column,
                text=recipe.line_text(first.pos.line),
                hint="a step cannot depend on its own output",
            )
        state[sid] = 1
        path.append(sid)
        for dep in sorted(set(by_id[sid].inputs)):
            if dep in by_id:
                visit(dep)
        path.pop()
        state[sid] = 2
        order.append(by_id[sid])

    for sid in sorted(by_id):
        visit(sid)
    return order


class _Validator:
    def __init__(self, recipe: Recipe, registry: Registry) -> None:
        self.recipe = recipe
        self.registry = registry
        self.params = {p.name: p for p in recipe.params}

    def err(
        self, cls: Callable[..., InterpreterError], message: str, pos: Pos, hint: str = ""
    ) -> InterpreterError:
        return cls(
            message,
            file=self.recipe.filename,
            line=pos.line,
            column=pos.column,
            text=self.recipe.line_text(pos.line),
            hint=hint,
        )

    # --- values -----------------------------------------------------------

    def number(
        self,
        owner: str,
        name: str,
        value: Any,
        pos: Pos,
        lo: float | None,
        hi: float | None,
        animatable: bool,
        integer: bool,
    ) -> None:
        if isinstance(value, Expr):
            param = compile_expr(
                value,
                pos,
                {k: _num(p.default) for k, p in self.params.items()},
                self.recipe.filename,
                self.recipe.line_text(pos.line),
            )
            if not param.constant:
                if not animatable:
                    raise self.err(
                        ParamRangeError,
                        f"{owner}.{name} cannot vary over time",
                        pos,
                        "give a constant",
                    )
                return
            value = param.value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.err(
                ParamRangeError, f"{owner}.{name}: expected a number, got {value!r}", pos
            )
        if integer and isinstance(value, float) and not value.is_integer():
            raise self.err(
                ParamRangeError, f"{owner}.{name}: expected a whole number, got {value}", pos
            )
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            rng = f"{'-inf' if lo is None else f'{lo:g}'}..{'inf' if hi is None else f'{hi:g}'}"
            raise self.err(
                ParamRangeError,
                f"{owner}.{name}: {value:g} is out of range",
                pos,
                f"accepted range {rng}",
            )

    def field_value(self, owner: str, f: FieldSpec, value: Any, pos: Pos) -> None:
        if value is None and not f.required:
            return
        if f.type in ("float", "int"):
            self.number(owner, f.name, value, pos, f.min, f.max, f.animatable, f.type == "int")
        elif f.type == "bool":
            if not isinstance(value, bool):
                raise self.err(
                    ParamRangeError, f"{owner}.{f.name}: expected true or false, got {value!r}", pos
                )
        elif f.type == "enum":
            if value not in f.choices:
                raise self.err(
                    ParamRangeError,
                    f"{owner}.{f.name}: {value!r} is not accepted",
                    pos,
                    _hint_close(str(value), f.choices, "one of"),
                )
        elif f.type == "str":
            if not isinstance(value, str) or not value:
                raise self.err(
                    ParamRangeError, f"{owner}.{f.name}: expected a name, got {value!r}", pos
                )
        elif f.type == "color":
            ok = isinstance(value, list) and len(value) == 3
            ok = ok and all(
                isinstance(c, int | float) and not isinstance(c, bool) and 0 <= c <= 255
                for c in value
            )
            if not ok:
                raise self.err(
                    ParamRangeError,
                    f"{owner}.{f.name}: expected [r, g, b] in 0..255, got {value!r}",
                    pos,
                )
        elif f.type == "list[str]":
            items = value if isinstance(value, list) else None
            if not items or not all(isinstance(x, str) for x in items):
                raise self.err(
                    ParamRangeError, f"{owner}.{f.name}: expected a non-empty list of names", pos
                )
            for x in items:
                if f.choices and x not in f.choices:
                    raise self.err(
                        ParamRangeError,
                        f"{owner}.{f.name}: unknown {f.name[:-1] or f.name} {x!r}",
                        pos,
                        _hint_close(x, f.choices, "accepted"),
                    )
        elif f.type == "dict" and not isinstance(value, Mapping):
            raise self.err(ParamRangeError, f"{owner}.{f.name}: expected a mapping", pos)

    def fields(
        self, step: Step, fields: Sequence[FieldSpec], config: Mapping[str, Any], prefix: str = ""
    ) -> None:
        names = [f.name for f in fields]
        for k in config:
            if k not in names:
                raise self.err(
                    UnknownParamError,
                    f"{step.id}: unknown {step.type.value} field {k!r}",
                    step.key_where(prefix + k),
                    _hint_close(k, names, "fields"),
                )
        for f in fields:
            if f.name not in config or config[f.name] is None:
                if f.required:
                    raise self.err(
                        RecipeValidationError,
                        f"{step.id}: missing {f.name!r}",
                        step.pos,
                        f"add {f.name}: ... ({f.doc})",
                    )
                continue
            self.field_value(step.id, f, config[f.name], step.where(prefix + f.name))

    def effect(self, step: Step, name: Any, params: Any, pos_key: str) -> EffectSpec:
        if not isinstance(name, str) or not name:
            raise self.err(
                ParamRangeError,
                f"{step.id}: effect must be a name, got {name!r}",
                step.where(pos_key),
            )
        try:
            spec = self.registry.get(name)
        except RegistryUnknownEffect as exc:
            hint = (
                f"did you mean {exc.suggestions[0]!r}?"
                if exc.suggestions
                else "see `artdag effects` for the list"
            )
            raise self.err(
                UnknownEffectError, f"unknown effect {name!r}", step.where(pos_key), hint
            ) from None
        if not isinstance(params, Mapping):
            raise self.err(ParamRangeError, f"{step.id}: params must be a mapping", step.pos)
        for k, v in params.items():
            pos = step.where(f"params.{k}")
            try:
                p = spec.param(k)
            except EffectParamError as exc:
                raise self.err(
                    UnknownParamError,
                    f"{name}: unknown parameter {k!r}",
                    step.key_where(f"params.{k}"),
                    exc.hint,
                ) from None
            if p.type in ("float", "int"):
                self.number(name, k, v, pos, p.min, p.max, p.animatable, p.type == "int")
                continue
            check = tuple(v) if p.type == "color" and isinstance(v, list) else v
            try:
                p.check(name, check)
            except EffectParamError as exc:
                raise self.err(ParamRangeError, str(exc).split(" (")[0], pos, exc.hint) from None
        return spec

    # --- steps --------------------------------------------------------------

    def config(self, step: Step) -> EffectSpec | None:
        cfg = step.config
        schema = SCHEMAS[step.type]
        if step.type is NodeType.SOURCE:
            if step.inputs:
                raise self.err(
                    RecipeValidationError,
                    f"{step.id}: a SOURCE takes no inputs",
                    step.input_pos[0] if step.input_pos else step.pos,
                )
            has_in, has_gen = "input" in cfg, "generator" in cfg
            if has_in == has_gen:
                raise self.err(
                    RecipeValidationError,
                    f"{step.id}: a SOURCE needs exactly one of input or generator",
                    step.pos,
                    "config: {input: NAME} or config: {generator: testsrc, ...}",
                )
            if has_in:
                self.fields(step, schema.fields[:1], cfg)
                names = [i.name for i in self.recipe.inputs]
                if cfg["input"] not in names:
                    raise self.err(
                        DanglingInputError,
                        f"{step.id}: no recipe input named {cfg['input']!r}",
                        step.where("input"),
                        _hint_close(str(cfg["input"]), names, "declared inputs"),
                    )
                return None
            gen_name = cfg["generator"]
            if gen_name not in GENERATORS:
                raise self.err(
                    ParamRangeError,
                    f"{step.id}: unknown generator {gen_name!r}",
                    step.where("generator"),
                    _hint_close(str(gen_name), list(GENERATORS), "generators"),
                )
            self.fields(step, GENERATORS[gen_name].params, cfg.get("params", {}), "params.")
            return None
        if step.type is NodeType.EFFECT:
            for k in cfg:
                if k not in ("effect", "params"):
                    raise self.err(
                        UnknownParamError,
                        f"{step.id}: unknown EFFECT field {k!r}",
                        step.key_where(k),
                    )
            if "effect" not in cfg:
                raise self.err(
                    RecipeValidationError,
                    f"{step.id}: EFFECT without an effect name",
                    step.pos,
                    "add effect: NAME",
                )
            return self.effect(step, cfg["effect"], cfg.get("params", {}), "effect")
        if step.type is NodeType.MAP:
            plain = {k: v for k, v in cfg.items() if k not in ("effect", "params")}
            self.fields(
                step, [f for f in schema.fields if f.name not in ("effect", "params")], plain
            )
            if cfg.get("effect") is not None:
                self.effect(step, cfg["effect"], cfg.get("params", {}), "effect")
            elif cfg.get("params"):
                raise self.err(
                    RecipeValidationError,
                    f"{step.id}: params given without an effect",
                    step.where("params"),
                )
            return None
        self.fields(step, schema.fields, cfg)
        if (
            step.type is NodeType.SEGMENT
            and cfg.get("end") is not None
            and cfg.get("duration") is not None
        ):
            raise self.err(
                RecipeValidationError,
                f"{step.id}: give end or duration, not both",
                step.where("duration"),
            )
        return None

    def ports(self, step: Step, kinds: Mapping[str, Kind], spec: EffectSpec | None) -> Kind:
        schema = SCHEMAS[step.type]
        got = [kinds[i] for i in step.inputs]

        def pos_of(i: int) -> Pos:
            return step.input_pos[i] if i < len(step.input_pos) else step.pos

        ports = list(schema.ports)
        if step.type is NodeType.EFFECT:
            arity = spec.arity if spec else 1
            video = [i for i, k in enumerate(got) if k != "analysis"]
            analysis = [i for i, k in enumerate(got) if k == "analysis"]
            if len(video) != arity or len(analysis) > 1:
                raise self.err(
                    RecipeValidationError,
                    f"{step.id}: effect {step.config.get('effect')!r} takes {arity} video input{'s' if arity > 1 else ''}"
                    f" (plus optionally one analysis), got {len(got)} input{'s' if len(got) != 1 else ''}",
                    step.pos,
                )
            for i in video:
                if got[i] not in ("video", "av"):
                    raise self.err(
                        TypeMismatchError,
                        f"{step.id}: {got[i]} fed to the video-only effect {step.config.get('effect')!r}",
                        pos_of(i),
                        f"{step.inputs[i]!r} produces {got[i]}; pass a video",
                    )
            return "video"
        # match inputs to ports: fixed ports first, the variadic one takes the rest
        fixed = [p for p in ports if not p.variadic]
        variadic = next((p for p in ports if p.variadic), None)
        need = len([p for p in fixed if not p.optional]) + (1 if variadic else 0)
        most = len(fixed) + (10**6 if variadic else 0)
        if not need <= len(got) <= most:
            want = f"at least {need}" if variadic else str(need)
            raise self.err(
                RecipeValidationError,
                f"{step.id}: {step.type.value} takes {want} input(s), got {len(got)}",
                step.pos,
                "ports: " + ", ".join(p.name + ("..." if p.variadic else "") for p in ports),
            )
        slots = []
        for i in range(len(got)):
            if ports[0].variadic:
                slots.append(
                    ports[0]
                    if i < len(got) - (len(ports) - 1)
                    else ports[1 + i - (len(got) - (len(ports) - 1))]
                )
            else:
                slots.append(ports[i] if i < len(ports) else ports[-1])
        for i, (k, port) in enumerate(zip(got, slots, strict=True)):
            if k not in port.kinds:
                raise self.err(
                    TypeMismatchError,
                    f"{step.id}: {k} fed to the {port.name} input of {step.type.value}, which takes {'/'.join(port.kinds)}",
                    pos_of(i),
                    f"{step.inputs[i]!r} produces {k}",
                )
        if step.type is NodeType.SEQUENCE:
            base = {"av": "video"}.get(got[0], got[0])
            for i, k in enumerate(got):
                if {"av": "video"}.get(k, k) != base:
                    raise self.err(
                        TypeMismatchError,
                        f"{step.id}: SEQUENCE mixes {got[0]} and {k}",
                        pos_of(i),
                        "all parts must be the same kind",
                    )
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
                    raise self.err(
                        RecipeValidationError,
                        f"{step.id}: {key.removeprefix('params.')} reads {used[0]!r} but the step has no analysis input",
                        step.where(key),
                        "add an ANALYZE step to its inputs"
                        if step.type in _ANALYSIS_OPTIONAL
                        else f"{step.type.value} has no analysis input; only t and frame are available",
                    )

    def run(self) -> dict[str, Kind]:
        r = self.recipe
        seen_inputs: set[str] = set()
        for decl in r.inputs:
            if decl.name in seen_inputs:
                raise self.err(
                    RecipeValidationError, f"input {decl.name!r} declared twice", decl.pos
                )
            seen_inputs.add(decl.name)
            if decl.type not in INPUT_TYPES:
                raise self.err(
                    ParamRangeError,
                    f"input {decl.name!r}: unknown type {decl.type!r}",
                    decl.pos,
                    _hint_close(decl.type, list(INPUT_TYPES), "types"),
                )
        for p in r.params:
            if isinstance(p.default, bool) or not isinstance(p.default, int | float):
                raise self.err(
                    ParamRangeError, f"param {p.name!r}: the default must be a number", p.pos
                )
            if (p.min is not None and p.default < p.min) or (
                p.max is not None and p.default > p.max
            ):
                raise self.err(
                    ParamRangeError,
                    f"param {p.name!r}: default {p.default:g} is out of its range",
                    p.pos,
                )
        ids: dict[str, Step] = {}
        for s in r.steps:
            if s.id in ids:
                raise self.err(
                    RecipeValidationError,
                    f"step id {s.id!r} used twice",
                    s.pos,
                    f"first used at line {ids[s.id].pos.line}",
                )
            ids[s.id] = s
        for s in r.steps:
            for i, ref in enumerate(s.inputs):
                if ref not in ids:
                    pos = s.input_pos[i] if i < len(s.input_pos) else s.pos
                    raise self.err(
                        DanglingInputError,
                        f"{s.id}: no step or input named {ref!r}",
                        pos,
                        _hint_close(ref, list(ids), "steps"),
                    )
        if r.output not in ids:
            raise self.err(
                DanglingInputError,
                f"output {r.output!r} is not a step",
                r.output_pos,
                _hint_close(r.output, list(ids), "steps"),
            )
        order = topological_order(r)
        specs = {s.id: self.config(s) for s in r.steps}
        kinds: dict[str, Kind] = {}
        for s in order:
            kinds[s.id] = self.ports(s, kinds, specs[s.id])
            self.audio_vars(s, kinds)
        # everything must reach the output
        reach: set[str] = set()
        todo = [r.output]
        while todo:
            sid = todo.pop()
            if sid not in reach:
                reach.add(sid)
                todo.extend(ids[sid].inputs)
        for decl in r.inputs:
            used = any(
                s.id in reach and s.config.get("input") == decl.name and s.type is NodeType.SOURCE
                for s in r.steps
            )
            if not used:
                raise self.err(
                    UnusedInputError,
                    f"input {decl.name!r} is never used",
                    decl.pos,
                    "remove it or feed it to a step",
                )
        for s in r.steps:
            if s.id not in reach:
                raise self.err(
                    UnusedInputError,
                    f"step {s.id!r} does not reach the output {r.output!r}",
                    s.pos,
                    "remove it or use it",
                )
        return kinds


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


def _num(v: Any) -> float:
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else 0.0


def validate(recipe: Recipe, registry: Registry | None = None) -> dict[str, Kind]:
    """Check a normalised recipe.

    Args:
        recipe: From :func:`interpreter.loader.load_recipe`.
        registry: Effect registry (default: the effects catalog).

    Returns:
        The output kind of every step, by id.

    Raises:
        RecipeValidationError: (a subclass) for the first problem found.
        ExpressionError: A parameter expression reads an unknown variable.
    """
    return _Validator(recipe, registry if registry is not None else default_registry()).run()
