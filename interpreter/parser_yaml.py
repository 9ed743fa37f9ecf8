"""YAML recipes: the specification's format, parsed with positions.

The text is composed into PyYAML's node graph with the safe loader (no
tags, no objects), then walked so every key and value keeps its line and
column. Values are left raw (strings stay strings); :mod:`interpreter.normalise`
turns expression strings into :class:`~interpreter.nodes.Expr` trees once the
field types are known.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Any

import yaml

from interpreter.errors import InterpreterError, RecipeSyntaxError, UnknownParamError
from interpreter.nodes import InputDecl, NodeType, ParamDecl, Pos, Recipe, Step
from interpreter.schema import SCHEMAS

__all__ = ["parse_yaml"]

TOP_KEYS = ("name", "version", "description", "inputs", "params", "steps", "output")
STEP_KEYS = ("id", "type", "inputs", "config", "name", "description")


def _pos(node: yaml.Node) -> Pos:
    m = node.start_mark
    return Pos(m.line + 1, m.column + 1)


class _Builder:
    def __init__(self, text: str, filename: str) -> None:
        self.text = text
        self.filename = filename
        self.lines = text.splitlines()
        self.loader = yaml.SafeLoader("")

    def err(
        self, cls: Callable[..., InterpreterError], message: str, pos: Pos, hint: str = ""
    ) -> InterpreterError:
        text = self.lines[pos.line - 1] if 0 < pos.line <= len(self.lines) else ""
        return cls(
            message, file=self.filename, line=pos.line, column=pos.column, text=text, hint=hint
        )

    def syntax(self, message: str, node: yaml.Node, hint: str = "") -> InterpreterError:
        return self.err(RecipeSyntaxError, message, _pos(node), hint)

    def scalar(self, node: yaml.Node) -> Any:
        if not isinstance(node, yaml.ScalarNode):
            raise self.syntax("expected a single value", node)
        value = self.loader.construct_object(node, deep=True)
        if not isinstance(value, str | int | float | bool) and value is not None:
            # dates, binary and friends: keep the text as written
            return str(node.value)
        return value

    def string(self, node: yaml.Node, what: str, allow_empty: bool = False) -> str:
        v = self.scalar(node)
        if allow_empty and v in ("", None):
            return ""
        if not isinstance(v, str) or not v:
            if isinstance(v, int | float) and not isinstance(v, bool):
                return str(node.value)
            raise self.syntax(f"{what} must be a text value, got {v!r}", node)
        return v

    def value(self, node: yaml.Node, depth: int = 0) -> Any:
        if depth > 32:
            raise self.syntax("value nested too deeply", node)
        if isinstance(node, yaml.SequenceNode):
            return [self.value(n, depth + 1) for n in node.value]
        if isinstance(node, yaml.MappingNode):
            return {self.key(k): self.value(v, depth + 1) for k, v in self.pairs(node)}
        return self.scalar(node)

    def key(self, node: yaml.Node) -> str:
        if not isinstance(node, yaml.ScalarNode):
            raise self.syntax("a key must be a plain name", node)
        return str(node.value)

    def pairs(self, node: yaml.Node) -> list[tuple[yaml.Node, yaml.Node]]:
        if not isinstance(node, yaml.MappingNode):
            raise self.syntax("expected a mapping (key: value)", node)
        seen: dict[str, yaml.Node] = {}
        for k, _ in node.value:
            name = self.key(k)
            if name in seen:
                raise self.syntax(
                    f"duplicate key {name!r}", k, f"first given at {_pos(seen[name])}"
                )
            seen[name] = k
        return list(node.value)

    def check_keys(
        self, node: yaml.Node, allowed: tuple[str, ...], where: str
    ) -> dict[str, tuple[yaml.Node, yaml.Node]]:
        out = {}
        for k, v in self.pairs(node):
            name = self.key(k)
            if name not in allowed:
                close = difflib.get_close_matches(name, allowed, n=1)
                hint = f"did you mean {close[0]!r}?" if close else "accepted: " + ", ".join(allowed)
                raise self.err(UnknownParamError, f"unknown {where} key {name!r}", _pos(k), hint)
            out[name] = (k, v)
        return out

    def build(self) -> Recipe:
        try:
            root = yaml.compose(self.text, Loader=yaml.SafeLoader)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            pos = Pos(mark.line + 1, mark.column + 1) if mark else Pos(1, 1)
            problem = exc.problem or exc.context or "malformed YAML"
            raise self.err(
                RecipeSyntaxError, f"YAML: {problem}", pos, "check indentation, quotes and colons"
            ) from None
        except yaml.YAMLError as exc:
            raise self.err(RecipeSyntaxError, f"YAML: {exc}", Pos(1, 1)) from None
        if root is None:
            raise self.err(
                RecipeSyntaxError,
                "empty recipe",
                Pos(1, 1),
                "a recipe needs name, steps and output",
            )
        if not isinstance(root, yaml.MappingNode):
            raise self.syntax("a recipe must be a mapping of name, inputs, steps, output", root)
        top = self.check_keys(root, TOP_KEYS, "recipe")
        for required in ("name", "steps", "output"):
            if required not in top:
                raise self.err(
                    RecipeSyntaxError,
                    f"missing {required!r}",
                    _pos(root),
                    f"add '{required}:' at the top level",
                )
        name = self.string(top["name"][1], "name")
        version = self.string(top["version"][1], "version") if "version" in top else "1.0"
        description = (
            self.string(top["description"][1], "description", allow_empty=True)
            if "description" in top
            else ""
        )
        inputs = self.inputs(top["inputs"][1]) if "inputs" in top else ()
        params = self.params(top["params"][1]) if "params" in top else ()
        steps = self.steps(top["steps"][1])
        out_node = top["output"][1]
        output = self.string(out_node, "output")
        return Recipe(
            name=name,
            version=version,
            description=description,
            inputs=inputs,
            params=params,
            steps=steps,
            output=output,
            source=self.text,
            filename=self.filename,
            syntax="yaml",
            output_pos=_pos(out_node),
        )

    def inputs(self, node: yaml.Node) -> tuple[InputDecl, ...]:
        if isinstance(node, yaml.ScalarNode) and node.value in ("", "~", "null"):
            return ()
        out = []
        for k, v in self.pairs(node):
            name = self.key(k)
            if isinstance(v, yaml.ScalarNode):  # shorthand `video: video`
                out.append(InputDecl(name, self.string(v, "input type"), "", _pos(k)))
                continue
            fields = self.check_keys(v, ("type", "description"), "input")
            if "type" not in fields:
                raise self.syntax(
                    f"input {name!r} has no type", v, "add type: video or type: audio"
                )
            typ = self.string(fields["type"][1], "input type")
            desc = (
                self.string(fields["description"][1], "description", allow_empty=True)
                if "description" in fields
                else ""
            )
            out.append(InputDecl(name, typ, desc, _pos(k)))
        return tuple(out)

    def params(self, node: yaml.Node) -> tuple[ParamDecl, ...]:
        if isinstance(node, yaml.ScalarNode) and node.value in ("", "~", "null"):
            return ()
        out = []
        for k, v in self.pairs(node):
            name = self.key(k)
            if not isinstance(v, yaml.MappingNode):
                out.append(ParamDecl(name, self.value(v), pos=_pos(k)))
                continue
            fields = self.check_keys(v, ("default", "min", "max", "description"), "param")
            if "default" not in fields:
                raise self.syntax(f"param {name!r} has no default", v, "add default: VALUE")
            lo = self.scalar(fields["min"][1]) if "min" in fields else None
            hi = self.scalar(fields["max"][1]) if "max" in fields else None
            for bound, key in ((lo, "min"), (hi, "max")):
                if bound is not None and (
                    isinstance(bound, bool) or not isinstance(bound, int | float)
                ):
                    raise self.syntax(f"param {name!r}: {key} must be a number", fields[key][1])
            desc = (
                self.string(fields["description"][1], "description", allow_empty=True)
                if "description" in fields
                else ""
            )
            out.append(ParamDecl(name, self.value(fields["default"][1]), desc, lo, hi, _pos(k)))
        return tuple(out)

    def steps(self, node: yaml.Node) -> tuple[Step, ...]:
        if not isinstance(node, yaml.SequenceNode):
            raise self.syntax("steps must be a list", node, "write each step as '- id: ...'")
        return tuple(self.step(n) for n in node.value)

    def step(self, node: yaml.Node) -> Step:
        if not isinstance(node, yaml.MappingNode):
            raise self.syntax("a step must be a mapping with id, type, inputs, config", node)
        f = self.check_keys(node, STEP_KEYS, "step")
        if "id" not in f:
            raise self.syntax("step has no id", node, "add id: NAME")
        if "type" not in f:
            raise self.syntax("step has no type", node, "add type: SOURCE, EFFECT, ...")
        sid = self.string(f["id"][1], "step id")
        tnode = f["type"][1]
        tname = self.string(tnode, "step type")
        try:
            ntype = NodeType(tname.upper().replace("-", "_"))
        except ValueError:
            names = [t.value for t in NodeType]
            close = difflib.get_close_matches(tname.upper(), names, n=1)
            hint = f"did you mean {close[0]!r}?" if close else "types: " + ", ".join(names)
            raise self.err(
                UnknownParamError, f"unknown node type {tname!r}", _pos(tnode), hint
            ) from None
        inputs: list[str] = []
        input_pos: list[Pos] = []
        if "inputs" in f:
            inode = f["inputs"][1]
            items = inode.value if isinstance(inode, yaml.SequenceNode) else [inode]
            for item in items:
                inputs.append(self.string(item, "input reference"))
                input_pos.append(_pos(item))
        config: dict[str, Any] = {}
        config_pos: dict[str, Pos] = {}
        if "config" in f:
            cnode = f["config"][1]
            if not (isinstance(cnode, yaml.ScalarNode) and cnode.value in ("", "~", "null")):
                for k, v in self.pairs(cnode):
                    key = self.key(k)
                    config[key] = self.value(v)
                    config_pos[key] = _pos(v)
                    config_pos["key:" + key] = _pos(k)
        config, config_pos = nest_params(ntype, config, config_pos)
        return Step(
            sid, ntype, tuple(inputs), config, _pos(f["id"][1]), config_pos, tuple(input_pos)
        )


def nest_params(
    ntype: NodeType, config: dict[str, Any], config_pos: dict[str, Pos]
) -> tuple[dict[str, Any], dict[str, Pos]]:
    """Move the flat parameters of EFFECT / generator SOURCE / MAP-with-effect configs under ``params``.

    ``{effect: blur, radius: 3}`` becomes ``{effect: blur, params: {radius: 3}}``
    and the position of ``radius`` is kept as ``params.radius`` (``key:params.radius``
    for the key itself).
    """
    if ntype is NodeType.EFFECT:
        keep: tuple[str, ...] = ("effect",)
    elif ntype is NodeType.SOURCE and "generator" in config:
        keep = ("generator", "input")
    elif ntype is NodeType.MAP and "effect" in config:
        keep = tuple(f.name for f in SCHEMAS[NodeType.MAP].fields if f.name != "params")
    else:
        return config, config_pos
    params = dict(config.get("params") or {}) if isinstance(config.get("params"), dict) else {}
    out: dict[str, Any] = {}
    for k, v in config.items():
        if k in keep:
            out[k] = v
        elif not (k == "params" and isinstance(v, dict)):
            params[k] = v
    pos: dict[str, Pos] = {}
    for k, p in config_pos.items():
        prefix = "key:" if k.startswith("key:") else ""
        base = k.removeprefix("key:")
        if base in keep or base.startswith("params."):
            pos[k] = p
        elif base == "params":
            for pk in config.get("params") or {}:
                pos.setdefault(f"{prefix}params.{pk}", p)
        else:
            pos[f"{prefix}params.{base}"] = p
    out["params"] = params
    return out, pos


def parse_yaml(text: str, filename: str = "<recipe>") -> Recipe:
    """Parse a YAML recipe into the graph model (values raw, not yet normalised).

    Raises:
        RecipeSyntaxError: Malformed YAML or a shape that is not a recipe.
        UnknownParamError: An unknown key (with a suggestion).
    """
    return _Builder(text, filename).build()
