"""Server-side layout of DAGs as SVG geometry: one column per level, left to right.

The templates draw the result; ``web/static/app.js`` adds hover and click
details. Nothing here knows about HTTP or the database.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "NODE_HEIGHT",
    "NODE_WIDTH",
    "DagEdge",
    "DagLayout",
    "DagNode",
    "layout",
    "plan_nodes",
    "recipe_nodes",
]

NODE_WIDTH = 168
NODE_HEIGHT = 46
COL_GAP = 64
ROW_GAP = 22
MARGIN = 20


@dataclass(frozen=True)
class DagNode:
    """One node to draw.

    Attributes:
        id: Unique id (step id).
        label: First text line (the step name).
        kind: Second line (node type); also the CSS class suffix.
        inputs: Ids of the nodes feeding this one (unknown ids are ignored).
        details: Shown on click (JSON-serialisable).
        marked: Highlighted (cached step, recipe output).
        mark_label: What the highlight means, e.g. ``cached``.
    """

    id: str
    label: str
    kind: str
    inputs: tuple[str, ...] = ()
    details: Mapping[str, Any] = field(default_factory=dict)
    marked: bool = False
    mark_label: str = ""


@dataclass(frozen=True)
class PlacedNode:
    """A node with its level and top-left corner."""

    node: DagNode
    level: int
    x: int
    y: int

    @property
    def details_json(self) -> str:
        """The details as JSON for a ``data-`` attribute (the template escapes it)."""
        return json.dumps(
            {"id": self.node.id, "type": self.node.kind, **dict(self.node.details)},
            default=str,
            sort_keys=True,
        )


@dataclass(frozen=True)
class DagEdge:
    """An edge with its SVG path (cubic curve from the source's right to the target's left)."""

    source: str
    target: str
    path: str


@dataclass(frozen=True)
class DagLayout:
    """Placed nodes, edges and the canvas size."""

    nodes: tuple[PlacedNode, ...]
    edges: tuple[DagEdge, ...]
    width: int
    height: int
    levels: int


def _levels(nodes: Sequence[DagNode]) -> dict[str, int]:
    """Longest-path level of each node (sources at 0); cycles are cut, never looped."""
    by_id = {n.id: n for n in nodes}
    level: dict[str, int] = {}
    visiting: set[str] = set()

    def visit(node_id: str) -> int:
        if node_id in level:
            return level[node_id]
        if node_id in visiting:  # a cycle: treat the back edge as absent
            return -1
        visiting.add(node_id)
        parents = [p for p in by_id[node_id].inputs if p in by_id]
        value = 1 + max((visit(p) for p in parents), default=-1)
        visiting.discard(node_id)
        level[node_id] = value
        return value

    for n in nodes:
        visit(n.id)
    return level


def layout(nodes: Iterable[DagNode], levels: Mapping[str, int] | None = None) -> DagLayout:
    """Place ``nodes`` by level (given, e.g. the planner's, or computed).

    Within a column nodes keep their input order, which for recipes and plans
    is topological and stable, so the same graph always draws the same.
    """
    items = list(nodes)
    computed = _levels(items)
    level_of = {n.id: (levels or {}).get(n.id, computed[n.id]) for n in items}
    columns: dict[int, list[DagNode]] = {}
    for n in items:
        columns.setdefault(level_of[n.id], []).append(n)
    placed: dict[str, PlacedNode] = {}
    tallest = max((len(c) for c in columns.values()), default=0)
    height = MARGIN * 2 + max(tallest * (NODE_HEIGHT + ROW_GAP) - ROW_GAP, NODE_HEIGHT)
    for col, level in enumerate(sorted(columns)):
        members = columns[level]
        block = len(members) * (NODE_HEIGHT + ROW_GAP) - ROW_GAP
        top = (height - block) // 2  # centre each column vertically
        for row, n in enumerate(members):
            x = MARGIN + col * (NODE_WIDTH + COL_GAP)
            placed[n.id] = PlacedNode(n, level, x, top + row * (NODE_HEIGHT + ROW_GAP))
    # vertical extent of each column, to route long edges around the columns they skip
    extent: dict[int, tuple[int, int]] = {}
    for p in placed.values():
        top, bottom = extent.get(p.level, (p.y, p.y + NODE_HEIGHT))
        extent[p.level] = (min(top, p.y), max(bottom, p.y + NODE_HEIGHT))
    edges = []
    for target in placed.values():
        for source_id in target.node.inputs:
            source = placed.get(source_id)
            if source is not None:
                edges.append(DagEdge(source_id, target.node.id, _edge_path(source, target, extent)))
    width = MARGIN * 2 + max(len(columns) * (NODE_WIDTH + COL_GAP) - COL_GAP, NODE_WIDTH)
    return DagLayout(tuple(placed.values()), tuple(edges), width, height, len(columns))


def _edge_path(
    source: PlacedNode, target: PlacedNode, extent: Mapping[int, tuple[int, int]]
) -> str:
    """A cubic curve from the source's right side to the target's left side.

    An edge that skips columns runs along the top or bottom of the skipped
    columns (whichever side its source is on) instead of through their nodes.
    """
    x1, y1 = source.x + NODE_WIDTH, source.y + NODE_HEIGHT // 2
    x2, y2 = target.x, target.y + NODE_HEIGHT // 2
    skipped = [extent[lv] for lv in extent if source.level < lv < target.level]
    if not skipped:
        bend = max(24, (x2 - x1) // 2)
        return f"M{x1},{y1} C{x1 + bend},{y1} {x2 - bend},{y2} {x2},{y2}"
    tops, bottoms = [t for t, _ in skipped], [b for _, b in skipped]
    above = y1 <= (min(tops) + max(bottoms)) / 2
    yw = min(tops) - ROW_GAP // 2 if above else max(bottoms) + ROW_GAP // 2
    xa, xb = x1 + COL_GAP, x2 - COL_GAP  # the lane spans the skipped columns
    bend = COL_GAP // 2
    return (
        f"M{x1},{y1} C{x1 + bend},{y1} {xa - bend},{yw} {xa},{yw} "
        f"L{xb},{yw} C{xb + bend},{yw} {x2 - bend},{y2} {x2},{y2}"
    )


def recipe_nodes(recipe: Any, canonical_doc: Mapping[str, Any] | None = None) -> list[DagNode]:
    """Nodes of an :class:`interpreter.nodes.Recipe` (declared inputs first).

    Args:
        recipe: the parsed recipe.
        canonical_doc: its canonical form (``interpreter.canonical.canonical``);
            step configs are shown from it (plain JSON, expressions as trees)
            rather than from the parsed objects.
    """
    configs = {st.get("id"): st.get("config") for st in (canonical_doc or {}).get("steps", [])}
    source_lines = (getattr(recipe, "source", "") or "").splitlines()
    nodes = [
        DagNode(
            id=i.name,
            label=i.name,
            kind="INPUT",
            details={"input type": i.type, "description": i.description},
        )
        for i in recipe.inputs
    ]
    starts = sorted({s.pos.line for s in recipe.steps if s.pos.line > 0})
    for s in recipe.steps:
        kind = getattr(s.type, "value", str(s.type))
        details: dict[str, Any] = {"line": s.pos.line, "column": s.pos.column}
        details["config"] = configs.get(s.id, s.config)
        if 0 < s.pos.line <= len(source_lines):
            # the step's text: from its line to the next step's (at most 12 lines)
            end = next((n for n in starts if n > s.pos.line), len(source_lines) + 1)
            block = source_lines[s.pos.line - 1 : min(end - 1, s.pos.line + 11)]
            details["source"] = "\n".join(block).rstrip()
        nodes.append(
            DagNode(
                id=s.id,
                label=s.id,
                kind=kind,
                inputs=tuple(s.inputs),
                details=details,
                marked=s.id == recipe.output,
                mark_label="output" if s.id == recipe.output else "",
            )
        )
    return nodes


def plan_nodes(plan: Mapping[str, Any]) -> tuple[list[DagNode], dict[str, int]]:
    """Nodes and planner levels of an execution plan's JSON (``ExecutionPlan.to_dict``)."""
    nodes: list[DagNode] = []
    levels: dict[str, int] = {}
    for step in plan.get("steps", []):
        sid = str(step.get("step_id"))
        cached = bool(step.get("cached"))
        nodes.append(
            DagNode(
                id=sid,
                label=str(step.get("name") or sid),
                kind=str(step.get("node_type", "")),
                inputs=tuple(str(i) for i in step.get("inputs", [])),
                details={
                    "cache_id": step.get("cache_id"),
                    "cached": cached,
                    "level": step.get("level"),
                    "config": step.get("config"),
                },
                marked=cached,
                mark_label="cached" if cached else "",
            )
        )
        if isinstance(step.get("level"), int):
            levels[sid] = step["level"]
    return nodes, levels
