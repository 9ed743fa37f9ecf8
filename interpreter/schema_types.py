"""The types the node schemas are written in: kinds, fields, ports, node and generator specs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from interpreter.nodes import NodeType

__all__ = [
    "INPUT_TYPES",
    "KINDS",
    "FieldSpec",
    "FieldType",
    "GeneratorSpec",
    "Kind",
    "NodeSchema",
    "PortSpec",
    "port_slots",
]

Kind = Literal["video", "audio", "av", "analysis"]
KINDS: tuple[Kind, ...] = ("video", "audio", "av", "analysis")
FieldType = Literal["float", "int", "bool", "str", "enum", "color", "list[str]", "dict"]

#: Recipe input types and the kind of data they produce.
INPUT_TYPES: Mapping[str, Kind] = {"video": "video", "audio": "audio", "image": "video", "av": "av"}


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One config field of a node type.

    Attributes:
        name: Key as written in recipes.
        type: Value type.
        default: Value when omitted (``None`` with ``required`` False: "not set").
        doc: One-line description (with unit).
        min: Inclusive lower bound for numbers.
        max: Inclusive upper bound for numbers.
        choices: Accepted values of an ``enum``.
        required: Whether the recipe must give it.
        animatable: Whether a time-varying expression is accepted.
    """

    name: str
    type: FieldType
    default: Any
    doc: str
    min: float | None = None
    max: float | None = None
    choices: tuple[str, ...] = ()
    required: bool = False
    animatable: bool = False


@dataclass(frozen=True, slots=True)
class PortSpec:
    """One input port.

    Attributes:
        name: Port name used in messages.
        kinds: Kinds accepted.
        variadic: Whether the port takes one or more inputs (only the last port).
        optional: Whether the port may be left unconnected.
    """

    name: str
    kinds: tuple[Kind, ...]
    variadic: bool = False
    optional: bool = False


@dataclass(frozen=True, slots=True)
class NodeSchema:
    """Config fields, ports and output of one node type.

    Attributes:
        type: The node type.
        doc: What it does.
        fields: Config fields (EFFECT and generator parameters are checked
            against the effect registry / :data:`GENERATORS` instead).
        ports: Input ports in order.
        output: Kind produced: a kind, ``"same"`` (that of the first input) or
            ``"source"`` (decided by the input declaration or generator).
    """

    type: NodeType
    doc: str
    fields: tuple[FieldSpec, ...]
    ports: tuple[PortSpec, ...]
    output: Kind | Literal["same", "source"]

    def field(self, name: str) -> FieldSpec | None:
        """The named field or None."""
        for f in self.fields:
            if f.name == name:
                return f
        return None


@dataclass(frozen=True, slots=True)
class GeneratorSpec:
    """A SOURCE generator: synthetic media so recipes run with no input files."""

    name: str
    doc: str
    kind: Kind
    params: tuple[FieldSpec, ...]


def port_slots(ports: Sequence[PortSpec], n: int) -> list[PortSpec]:
    """The port each of ``n`` inputs lands on: fixed ports first, the variadic one takes the rest."""
    slots = []
    for i in range(n):
        if ports[0].variadic:
            slots.append(
                ports[0] if i < n - (len(ports) - 1) else ports[1 + i - (n - (len(ports) - 1))]
            )
        else:
            slots.append(ports[i] if i < len(ports) else ports[-1])
    return slots
