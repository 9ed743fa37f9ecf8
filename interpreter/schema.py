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
from dataclasses import dataclass
from typing import Any, Literal

from interpreter.nodes import NodeType

__all__ = [
    "ANALYSIS_FEATURES",
    "BLEND_MODES",
    "GENERATORS",
    "INPUT_TYPES",
    "KINDS",
    "SCHEMAS",
    "FieldSpec",
    "GeneratorSpec",
    "Kind",
    "NodeSchema",
    "PortSpec",
    "resolve_fields",
]

Kind = Literal["video", "audio", "av", "analysis"]
KINDS: tuple[Kind, ...] = ("video", "audio", "av", "analysis")
FieldType = Literal["float", "int", "bool", "str", "enum", "color", "list[str]", "dict"]

#: Recipe input types and the kind of data they produce.
INPUT_TYPES: Mapping[str, Kind] = {"video": "video", "audio": "audio", "image": "video", "av": "av"}

#: Features an ANALYZE node may request (audio then video).
ANALYSIS_FEATURES: tuple[str, ...] = (
    "tempo",
    "beats",
    "downbeats",
    "onsets",
    "energy",
    "bands",
    "metadata",
    "motion",
    "cuts",
)

BLEND_MODES: tuple[str, ...] = (
    "normal",
    "add",
    "multiply",
    "screen",
    "overlay",
    "difference",
    "lighten",
    "darken",
)


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


_VIDEO: tuple[Kind, ...] = ("video", "av")
_AUDIO: tuple[Kind, ...] = ("audio", "av")
_MEDIA: tuple[Kind, ...] = ("video", "audio", "av")

_DURATION = FieldSpec("duration", "float", 10.0, "length in seconds", min=0.04, max=86400.0)
_SIZE = (
    FieldSpec("width", "int", 640, "frame width in px (even)", min=16, max=7680),
    FieldSpec("height", "int", 360, "frame height in px (even)", min=16, max=4320),
    FieldSpec("fps", "float", 30.0, "frames per second", min=1.0, max=120.0),
)
_RATE = FieldSpec("sample_rate", "int", 44100, "audio sample rate in Hz", min=8000, max=192000)

GENERATORS: Mapping[str, GeneratorSpec] = {
    g.name: g
    for g in (
        GeneratorSpec("testsrc", "moving test pattern", "video", (_DURATION, *_SIZE)),
        GeneratorSpec(
            "color",
            "solid colour",
            "video",
            (_DURATION, *_SIZE, FieldSpec("color", "color", [0, 0, 0], "[r, g, b] 0..255")),
        ),
        GeneratorSpec(
            "noise",
            "uniform random noise",
            "video",
            (_DURATION, *_SIZE, FieldSpec("seed", "int", 0, "random seed", min=0)),
        ),
        GeneratorSpec(
            "gradient",
            "two-colour gradient",
            "video",
            (
                _DURATION,
                *_SIZE,
                FieldSpec("from_color", "color", [0, 0, 0], "start colour [r, g, b]"),
                FieldSpec("to_color", "color", [255, 255, 255], "end colour [r, g, b]"),
                FieldSpec("angle", "float", 0.0, "direction in degrees", min=-360, max=360),
            ),
        ),
        GeneratorSpec(
            "sine",
            "sine tone",
            "audio",
            (
                _DURATION,
                _RATE,
                FieldSpec("frequency", "float", 440.0, "tone in Hz", min=1.0, max=20000.0),
                FieldSpec("amplitude", "float", 0.5, "peak level 0..1", min=0.0, max=1.0),
            ),
        ),
        GeneratorSpec(
            "clicks",
            "click / beat track",
            "audio",
            (
                _DURATION,
                _RATE,
                FieldSpec("bpm", "float", 120.0, "beats per minute", min=20.0, max=400.0),
                FieldSpec("amplitude", "float", 0.8, "peak level 0..1", min=0.0, max=1.0),
            ),
        ),
    )
}

SCHEMAS: Mapping[NodeType, NodeSchema] = {
    s.type: s
    for s in (
        NodeSchema(
            NodeType.SOURCE,
            "a recipe input ({input: NAME}) or a generator ({generator: NAME, params...})",
            (
                FieldSpec("input", "str", None, "name of a declared recipe input"),
                FieldSpec("generator", "enum", None, "generator name", choices=tuple(GENERATORS)),
            ),
            (),
            "source",
        ),
        NodeSchema(
            NodeType.ANALYZE,
            "phase-1 feature extraction of one input",
            (
                FieldSpec(
                    "features",
                    "list[str]",
                    None,
                    "features to extract",
                    choices=ANALYSIS_FEATURES,
                    required=True,
                ),
            ),
            (PortSpec("media", _MEDIA),),
            "analysis",
        ),
        NodeSchema(
            NodeType.EFFECT,
            "a registered effect ({effect: NAME, PARAM: value...}); params checked by the registry",
            (
                FieldSpec("effect", "str", None, "registry name", required=True),
                FieldSpec("params", "dict", {}, "effect parameters (numbers may be expressions)"),
            ),
            # arity-2 effects take two video inputs; an optional analysis input
            # drives beat / energy variables of expressions
            (
                PortSpec("video", _VIDEO, variadic=True),
                PortSpec("analysis", ("analysis",), optional=True),
            ),
            "video",
        ),
        NodeSchema(
            NodeType.SEGMENT,
            "a time range of the input",
            (
                FieldSpec("start", "float", 0.0, "start in seconds", min=0.0),
                FieldSpec("end", "float", None, "end in seconds (exclusive)", min=0.0),
                FieldSpec("duration", "float", None, "length in seconds (instead of end)", min=0.0),
            ),
            (PortSpec("media", _MEDIA),),
            "same",
        ),
        NodeSchema(
            NodeType.RESIZE,
            "scale to a size",
            (
                FieldSpec(
                    "width",
                    "int",
                    None,
                    "target width in px (even)",
                    min=16,
                    max=7680,
                    required=True,
                ),
                FieldSpec(
                    "height",
                    "int",
                    None,
                    "target height in px (even)",
                    min=16,
                    max=4320,
                    required=True,
                ),
                FieldSpec(
                    "mode",
                    "enum",
                    "fit",
                    "fit: letterbox, fill: crop, stretch: distort",
                    choices=("fit", "fill", "stretch"),
                ),
            ),
            (PortSpec("video", _VIDEO),),
            "video",
        ),
        NodeSchema(
            NodeType.TRANSFORM,
            "colour adjustments",
            (
                FieldSpec(
                    "brightness", "float", 0.0, "offset, -1..1", min=-1.0, max=1.0, animatable=True
                ),
                FieldSpec(
                    "contrast", "float", 1.0, "factor, 0..4", min=0.0, max=4.0, animatable=True
                ),
                FieldSpec(
                    "saturation", "float", 1.0, "factor, 0..4", min=0.0, max=4.0, animatable=True
                ),
                FieldSpec(
                    "hue",
                    "float",
                    0.0,
                    "rotation in degrees",
                    min=-360.0,
                    max=360.0,
                    animatable=True,
                ),
                FieldSpec(
                    "gamma", "float", 1.0, "gamma, 0.1..5", min=0.1, max=5.0, animatable=True
                ),
            ),
            (PortSpec("video", _VIDEO), PortSpec("analysis", ("analysis",), optional=True)),
            "video",
        ),
        NodeSchema(
            NodeType.SEQUENCE,
            "parts one after another (planned as a tree of pairwise joins)",
            (
                FieldSpec(
                    "transition", "enum", "cut", "cut or crossfade", choices=("cut", "crossfade")
                ),
                FieldSpec(
                    "duration", "float", 0.5, "crossfade length in seconds", min=0.0, max=60.0
                ),
            ),
            (PortSpec("parts", _MEDIA, variadic=True),),
            "same",
        ),
        NodeSchema(
            NodeType.LAYER,
            "stack two or more videos, first at the bottom",
            (
                FieldSpec("mode", "enum", "normal", "blend mode", choices=BLEND_MODES),
                FieldSpec(
                    "opacity",
                    "float",
                    1.0,
                    "opacity of upper layers 0..1",
                    min=0.0,
                    max=1.0,
                    animatable=True,
                ),
                FieldSpec("x", "int", 0, "offset of upper layers in px", animatable=True),
                FieldSpec("y", "int", 0, "offset of upper layers in px", animatable=True),
            ),
            (PortSpec("base", _VIDEO), PortSpec("layers", _VIDEO, variadic=True)),
            "video",
        ),
        NodeSchema(
            NodeType.BLEND,
            "blend two videos",
            (
                FieldSpec("mode", "enum", "normal", "blend mode", choices=BLEND_MODES),
                FieldSpec(
                    "opacity",
                    "float",
                    0.5,
                    "weight of the second input 0..1",
                    min=0.0,
                    max=1.0,
                    animatable=True,
                ),
            ),
            (
                PortSpec("a", _VIDEO),
                PortSpec("b", _VIDEO),
                PortSpec("analysis", ("analysis",), optional=True),
            ),
            "video",
        ),
        NodeSchema(
            NodeType.MUX,
            "combine a video and an audio track",
            (FieldSpec("shortest", "bool", True, "stop at the end of the shorter input"),),
            (PortSpec("video", _VIDEO), PortSpec("audio", _AUDIO)),
            "av",
        ),
        NodeSchema(
            NodeType.BEAT_SYNC,
            "cut (jump) or stretch (time-warp) video so its segments land on beats",
            (
                FieldSpec("mode", "enum", "cut", "cut or stretch", choices=("cut", "stretch")),
                FieldSpec("beats_per_segment", "int", 1, "beats per video segment", min=1, max=64),
                FieldSpec(
                    "use",
                    "enum",
                    "beats",
                    "beat grid to follow",
                    choices=("beats", "downbeats", "onsets"),
                ),
            ),
            (PortSpec("video", _VIDEO), PortSpec("analysis", ("analysis",))),
            "video",
        ),
        NodeSchema(
            NodeType.MAP,
            "slice-on-beats: one slice per beat interval, taken from the sources in turn"
            " (optionally through an effect)",
            (
                FieldSpec(
                    "over",
                    "enum",
                    "beats",
                    "which events slice time",
                    choices=("beats", "downbeats", "onsets"),
                ),
                FieldSpec("every", "int", 1, "events per slice", min=1, max=64),
                FieldSpec(
                    "pick", "enum", "cycle", "source order", choices=("cycle", "random", "pingpong")
                ),
                FieldSpec("seed", "int", 0, "seed for pick: random", min=0),
                FieldSpec("effect", "str", None, "optional effect applied to each slice"),
                FieldSpec(
                    "params", "dict", {}, "parameters of that effect (may use beat variables)"
                ),
            ),
            (PortSpec("analysis", ("analysis",)), PortSpec("sources", _VIDEO, variadic=True)),
            "video",
        ),
    )
}


def resolve_fields(node_type: NodeType, config: Mapping[str, Any]) -> dict[str, Any]:
    """The config with every schema default filled in (unknown keys kept as given)."""
    schema = SCHEMAS[node_type]
    out: dict[str, Any] = {f.name: f.default for f in schema.fields if f.default is not None}
    out.update(config)
    return out
