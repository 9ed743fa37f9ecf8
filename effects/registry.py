"""The explicit effect registry: names, parameter metadata and factories.

The registry is pure data plus factories. The recipe validator reads it to
check names, parameter types and ranges; the StreamInterpreter uses the
factories to build effect instances bound to a frame size.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

from effects.colors import ColorError, parse_color

if TYPE_CHECKING:  # numpy stays unimported for readers of the catalog
    from effects.frame import YUVFrame

__all__ = [
    "STREAM_TIME",
    "Effect",
    "EffectError",
    "EffectParamError",
    "EffectSpec",
    "ParamSpec",
    "ParamType",
    "Registry",
    "UnknownEffectError",
]

ParamType = Literal["float", "int", "bool", "enum", "color", "path"]
Layout = Literal["yuv420p", "rgb24"]
ParamValue = float | int | bool | str | tuple[float, ...]

#: ``EffectSpec.extra`` key naming a float parameter that the interpreter fills
#: with the frame's output time in seconds when the recipe does not give it
#: (effects stay pure functions of their inputs and parameters).
STREAM_TIME = "stream_time_param"


class EffectError(Exception):
    """Root of every error raised by the effects layer."""


class UnknownEffectError(EffectError, KeyError):
    """No effect is registered under that name.

    Attributes:
        name: The name asked for.
        suggestions: Close registered names, best first.
    """

    def __init__(self, name: str, suggestions: Sequence[str]) -> None:
        self.name = name
        self.suggestions = tuple(suggestions)
        hint = f"; did you mean {self.suggestions[0]!r}?" if self.suggestions else ""
        super().__init__(f"unknown effect {name!r}{hint}")

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class EffectParamError(EffectError, ValueError):
    """A parameter value or name is not acceptable for an effect.

    Attributes:
        effect: Effect name.
        param: Parameter name.
        hint: What would be accepted.
    """

    def __init__(self, effect: str, param: str, message: str, hint: str = "") -> None:
        self.effect = effect
        self.param = param
        self.hint = hint
        super().__init__(f"{effect}.{param}: {message}" + (f" ({hint})" if hint else ""))


@dataclass(frozen=True, slots=True)
class ParamSpec:
    """Metadata of one effect parameter.

    Attributes:
        name: snake_case name as written in recipes.
        type: Value type.
        default: Value used when the recipe does not give one.
        min: Inclusive lower bound for numbers (None: unbounded).
        max: Inclusive upper bound for numbers (None: unbounded).
        unit: Unit shown in docs ("px", "rad", "deg", "x", "").
        doc: One-line description.
        choices: Accepted values for ``enum``.
        animatable: Whether a per-frame expression may drive it.
    """

    name: str
    type: ParamType
    default: ParamValue
    min: float | None = None
    max: float | None = None
    unit: str = ""
    doc: str = ""
    choices: tuple[str, ...] = ()
    animatable: bool = True

    def check(self, effect: str, value: Any) -> ParamValue:
        """Coerce and range-check one value, raising EffectParamError."""
        t = self.type
        if t in ("float", "int"):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise EffectParamError(effect, self.name, f"expected a number, got {value!r}")
            if self.min is not None and value < self.min:
                raise EffectParamError(
                    effect, self.name, f"{value} is below {self.min}", self.range_text()
                )
            if self.max is not None and value > self.max:
                raise EffectParamError(
                    effect, self.name, f"{value} is above {self.max}", self.range_text()
                )
            return int(value) if t == "int" else float(value)
        if t == "bool":
            if not isinstance(value, bool):
                raise EffectParamError(effect, self.name, f"expected true or false, got {value!r}")
            return value
        if t == "enum":
            if value not in self.choices:
                close = difflib.get_close_matches(str(value), self.choices, n=1)
                hint = (
                    f"did you mean {close[0]!r}?" if close else "one of " + ", ".join(self.choices)
                )
                raise EffectParamError(effect, self.name, f"{value!r} is not accepted", hint)
            return str(value)
        if t == "color":
            try:
                return parse_color(value)
            except ColorError as exc:
                raise EffectParamError(effect, self.name, exc.message, exc.hint) from None
        if not isinstance(value, str) or not value:
            raise EffectParamError(effect, self.name, f"expected a path, got {value!r}")
        return value

    def range_text(self) -> str:
        """Human text of the accepted range."""
        lo = "-inf" if self.min is None else f"{self.min:g}"
        hi = "inf" if self.max is None else f"{self.max:g}"
        return f"accepted range {lo}..{hi}{(' ' + self.unit) if self.unit else ''}"


class Effect(Protocol):
    """An effect instance bound to one frame size.

    ``apply`` reads ``inputs`` (one frame, or two for composite effects) and
    writes ``out``; it never allocates per frame and never recompiles:
    parameters arrive as plain scalars each frame. Temporal effects keep
    their state in the instance; ``reset`` clears it.
    """

    def apply(
        self,
        inputs: Sequence[YUVFrame],
        out: YUVFrame,
        params: Mapping[str, ParamValue],
        frame_index: int,
    ) -> None: ...

    def reset(self) -> None: ...


@dataclass(frozen=True, slots=True)
class EffectSpec:
    """Everything known about one effect.

    Attributes:
        name: snake_case registry name.
        doc: One-line description.
        category: colour, spatial, geometric, glitch, temporal, composite or utility.
        params: Parameter metadata, in documentation order.
        factory: ``factory(width, height) -> Effect``.
        layout: The layout the kernel works in internally.
        temporal: Whether it keeps state across frames.
        preroll: Frames of history its output depends on: a render that starts
            mid-stream (a chunk) first feeds it this many earlier frames and
            drops their output. 0 for stateless effects (and those driven by
            the frame index alone); a bounded window reproduces the effect
            exactly, an unbounded memory (``feedback``) is defined as
            windowed to it (see docs/ARCHITECTURE.md, chunked rendering).
        arity: Number of input frames (1, or 2 for composites).
        fusable: Whether consecutive fusable colour effects may run as one pass.
    """

    name: str
    doc: str
    category: str
    params: tuple[ParamSpec, ...]
    factory: Callable[[int, int], Effect]
    layout: Layout = "yuv420p"
    temporal: bool = False
    preroll: int = 0
    arity: int = 1
    fusable: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict)

    def param(self, name: str) -> ParamSpec:
        """The named parameter, or EffectParamError with a suggestion."""
        for p in self.params:
            if p.name == name:
                return p
        names = [p.name for p in self.params]
        close = difflib.get_close_matches(name, names, n=1)
        hint = (
            f"did you mean {close[0]!r}?"
            if close
            else "parameters: " + (", ".join(names) or "none")
        )
        raise EffectParamError(self.name, name, "unknown parameter", hint)

    def defaults(self) -> dict[str, ParamValue]:
        """Default value of every parameter."""
        return {p.name: p.default for p in self.params}

    def resolve(self, given: Mapping[str, Any]) -> dict[str, ParamValue]:
        """Defaults overlaid with checked constant values from ``given``."""
        out = self.defaults()
        for k, v in given.items():
            out[k] = self.param(k).check(self.name, v)
        return out


class Registry:
    """A name -> EffectSpec mapping with helpful lookups."""

    def __init__(self, specs: Sequence[EffectSpec] = ()) -> None:
        self._specs: dict[str, EffectSpec] = {}
        for s in specs:
            self.register(s)

    def register(self, spec: EffectSpec) -> None:
        """Add a spec; a name may be registered once."""
        if spec.name in self._specs:
            raise EffectError(f"effect {spec.name!r} registered twice")
        self._specs[spec.name] = spec

    def get(self, name: str) -> EffectSpec:
        """The spec for ``name`` or UnknownEffectError with suggestions."""
        try:
            return self._specs[name]
        except KeyError:
            raise UnknownEffectError(
                name, difflib.get_close_matches(name, self._specs, n=3)
            ) from None

    def __contains__(self, name: object) -> bool:
        return name in self._specs

    def __iter__(self) -> Iterator[EffectSpec]:
        return iter(sorted(self._specs.values(), key=lambda s: (s.category, s.name)))

    def __len__(self) -> int:
        return len(self._specs)

    def names(self) -> list[str]:
        """Registered names, sorted."""
        return sorted(self._specs)
