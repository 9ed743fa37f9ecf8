"""Recipes built directly from the node model (independent of the parsers)."""

from __future__ import annotations

from typing import Any

from interpreter.nodes import InputDecl, NodeType, Recipe, Step


def step(sid: str, type_: str, inputs: tuple[str, ...] = (), **config: Any) -> Step:
    return Step(sid, NodeType(type_), inputs, config)


def recipe(*steps: Step, output: str, inputs: tuple[str, ...] = ()) -> Recipe:
    decls = tuple(InputDecl(n, "video") for n in inputs)
    return Recipe("test", "1.0", "", decls, (), steps, output)


def generator(sid: str, name: str, **params: Any) -> Step:
    return step(sid, "SOURCE", generator=name, params=params)
