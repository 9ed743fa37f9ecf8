"""Helpers for declaring effects: lazy kernel references and ``fspec``."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any, Generic, ParamSpec, TypeVar, cast

from effects.kernels._base import ApplyFn, FnEffect
from effects.registry import Effect, EffectSpec, Layout
from effects.registry import ParamSpec as Param

__all__ = ["KernelRef", "fspec", "lazy", "resolve"]

T = TypeVar("T")
P = ParamSpec("P")
R = TypeVar("R")

#: ``scratch(width, height)``: an effect's per-instance state.
ScratchFn = Callable[[int, int], Any]


class KernelRef(Generic[T]):
    """A name in a kernel module, imported on first use.

    Importing a kernel module imports numba and defines its jitted functions,
    so declarations name them; :meth:`resolve` imports the module (once) and
    returns the named object. ``T`` is the object's type, given where the
    reference is declared.

    Attributes:
        module: Dotted module name.
        name: Attribute of that module.
    """

    __slots__ = ("_target", "module", "name")

    def __init__(self, module: str, name: str) -> None:
        self.module = module
        self.name = name
        self._target: T | None = None

    def resolve(self) -> T:
        """The named object (the module is imported on the first call)."""
        if self._target is None:
            self._target = cast(T, getattr(importlib.import_module(self.module), self.name))
        return self._target

    def __repr__(self) -> str:
        return f"KernelRef({self.module!r}, {self.name!r})"


def resolve(value: T | KernelRef[T]) -> T:
    """``value`` itself, or what it refers to when it is a KernelRef."""
    return value.resolve() if isinstance(value, KernelRef) else value


def lazy(ref: KernelRef[Callable[P, R]]) -> Callable[P, R]:
    """A function that calls what ``ref`` names, importing its module on the first call."""

    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        return ref.resolve()(*args, **kwargs)

    call.__qualname__ = call.__name__ = ref.name
    return call


def fspec(
    name: str,
    doc: str,
    category: str,
    params: tuple[Param, ...],
    fn: ApplyFn | KernelRef[ApplyFn],
    *,
    scratch: ScratchFn | KernelRef[ScratchFn] | None = None,
    reset: Callable[[Any], None] | KernelRef[Callable[[Any], None]] | None = None,
    layout: Layout = "yuv420p",
    temporal: bool = False,
    arity: int = 1,
    fusable: bool = False,
    extra: Mapping[str, Any] | None = None,
) -> EffectSpec:
    """Build an EffectSpec whose factory wraps ``fn`` in an FnEffect.

    ``fn``, ``scratch`` and ``reset`` may be KernelRefs: the factory resolves
    them, so the kernel module is imported by the first ``factory()`` call and
    frames call the kernel functions directly.
    """
    defaults = {p.name: p.default for p in params}

    def factory(width: int, height: int) -> Effect:
        state = resolve(scratch)(width, height) if scratch is not None else None
        return FnEffect(resolve(fn), defaults, state, resolve(reset) if reset else None)

    return EffectSpec(
        name=name,
        doc=doc,
        category=category,
        params=params,
        factory=factory,
        layout=layout,
        temporal=temporal,
        arity=arity,
        fusable=fusable,
        extra=dict(extra or {}),
    )
