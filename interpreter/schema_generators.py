"""SOURCE generators: synthetic media, so recipes run with no input files."""

from __future__ import annotations

from collections.abc import Mapping

from interpreter.schema_types import FieldSpec, GeneratorSpec

__all__ = ["GENERATORS"]

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
            (
                _DURATION,
                *_SIZE,
                FieldSpec("color", "color", [0, 0, 0], "[r, g, b] 0..255, #rrggbb or a CSS name"),
            ),
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
                FieldSpec(
                    "from_color", "color", [0, 0, 0], "start colour ([r, g, b], #rrggbb, CSS name)"
                ),
                FieldSpec(
                    "to_color",
                    "color",
                    [255, 255, 255],
                    "end colour ([r, g, b], #rrggbb, CSS name)",
                ),
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
