"""The schema of every node type: config fields, input ports and output kind."""

from __future__ import annotations

from collections.abc import Mapping

from interpreter.nodes import NodeType
from interpreter.schema_generators import GENERATORS
from interpreter.schema_types import FieldSpec, Kind, NodeSchema, PortSpec

__all__ = ["ANALYSIS_FEATURES", "BLEND_MODES", "SCHEMAS"]

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

_VIDEO: tuple[Kind, ...] = ("video", "av")
_AUDIO: tuple[Kind, ...] = ("audio", "av")
_MEDIA: tuple[Kind, ...] = ("video", "audio", "av")

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
