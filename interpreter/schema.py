"""Config fields, input ports and output kind of every node type.

This is the contract between the recipe language (parsers, validator,
planner) and the StreamInterpreter that executes the nodes. Field values in a
validated recipe are constants of the listed type, or (where ``animatable``)
an :class:`interpreter.nodes.Expr` evaluated per frame. ``resolve_fields``
fills defaults.

Kinds of data flowing along edges: ``video`` (frames), ``audio`` (samples),
``av`` (muxed video + audio: accepted wherever ``video`` or ``audio`` is, the
other part is ignored), ``analysis`` (an ANALYZE result: beats, energy, ...).

Expressions reading audio variables (``beat``, ``beat_phase``, ``since_beat``,
``energy``, ``bass``, ``mid``, ``high``, ``decay(...)``) need an ``analysis``
input on their step (EFFECT, TRANSFORM, BLEND take an optional one; MAP and
BEAT_SYNC always have one); ``t`` and ``frame`` are always available.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from interpreter.nodes import NodeType
from interpreter.schema_generators import GENERATORS
from interpreter.schema_nodes import ANALYSIS_FEATURES, BLEND_MODES, SCHEMAS
from interpreter.schema_types import (
    INPUT_TYPES,
    KINDS,
    FieldSpec,
    FieldType,
    GeneratorSpec,
    Kind,
    NodeSchema,
    PortSpec,
)

__all__ = [
    "ANALYSIS_FEATURES",
    "BLEND_MODES",
    "GENERATORS",
    "INPUT_TYPES",
    "KINDS",
    "SCHEMAS",
    "FieldSpec",
    "FieldType",
    "GeneratorSpec",
    "Kind",
    "NodeSchema",
    "PortSpec",
    "resolve_fields",
]


def resolve_fields(node_type: NodeType, config: Mapping[str, Any]) -> dict[str, Any]:
    """The config with every schema default filled in (unknown keys kept as given)."""
    schema = SCHEMAS[node_type]
    out: dict[str, Any] = {f.name: f.default for f in schema.fields if f.default is not None}
    out.update(config)
    return out
