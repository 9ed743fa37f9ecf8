"""The expression function library: arities and the scalar and numpy implementations.

Scalar functions evaluate one frame (floats); vector functions evaluate many
frames at once over numpy arrays and must agree with the scalar ones.
Division, modulo and powers that have no finite value yield 0.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

__all__ = ["FOLDED", "FUNCTIONS", "IMPLICIT_VARS", "SCALAR_OPS", "VECTOR_OPS"]

#: name -> (min arity, max arity)
FUNCTIONS: Mapping[str, tuple[int, int]] = {
    "+": (2, 2),
    "-": (2, 2),
    "*": (2, 2),
    "/": (2, 2),
    "%": (2, 2),
    "**": (2, 2),
    "<": (2, 2),
    "<=": (2, 2),
    ">": (2, 2),
    ">=": (2, 2),
    "==": (2, 2),
    "!=": (2, 2),
    "and": (2, 2),
    "or": (2, 2),
    "not": (1, 1),
    "neg": (1, 1),
    "if": (3, 3),
    "clamp": (3, 3),
    "lerp": (3, 3),
    "min": (2, 2),
    "max": (2, 2),
    "abs": (1, 1),
    "floor": (1, 1),
    "sqrt": (1, 1),
    "exp": (1, 1),
    "sin": (1, 1),
    "cos": (1, 1),
    "lfo": (1, 2),
    "decay": (1, 1),
}

#: Frame variables read by a function without being written as an argument.
IMPLICIT_VARS: Mapping[str, tuple[str, ...]] = {"decay": ("since_beat",), "lfo": ("t",)}
#: Operators taking more than two arguments, folded left into nested pairs.
FOLDED: frozenset[str] = frozenset({"+", "*", "-", "/", "and", "or", "min", "max"})


def _safe_div(a: float, b: float) -> float:
    return a / b if b else 0.0


def _safe_mod(a: float, b: float) -> float:
    return math.fmod(a, b) if b else 0.0


def _safe_pow(a: float, b: float) -> float:
    try:
        r = math.pow(a, b)
    except (ValueError, OverflowError, ZeroDivisionError):
        return 0.0
    return r if isinstance(r, float) else 0.0


SCALAR_OPS: Mapping[str, Callable[..., float]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": _safe_div,
    "%": _safe_mod,
    "**": _safe_pow,
    "<": lambda a, b: float(a < b),
    "<=": lambda a, b: float(a <= b),
    ">": lambda a, b: float(a > b),
    ">=": lambda a, b: float(a >= b),
    "==": lambda a, b: float(a == b),
    "!=": lambda a, b: float(a != b),
    "and": lambda a, b: float(bool(a) and bool(b)),
    "or": lambda a, b: float(bool(a) or bool(b)),
    "not": lambda a: float(not a),
    "neg": lambda a: -a,
    "clamp": lambda x, lo, hi: min(max(x, lo), hi),
    "lerp": lambda a, b, u: a + (b - a) * u,
    "min": min,
    "max": max,
    "abs": abs,
    "floor": lambda a: float(math.floor(a)),
    "sqrt": lambda a: math.sqrt(a) if a > 0 else 0.0,
    "exp": lambda a: math.exp(min(a, 700.0)),
    "sin": math.sin,
    "cos": math.cos,
}


def _np_div(a: Any, b: Any) -> Any:
    a, b = np.broadcast_arrays(np.asarray(a, float), np.asarray(b, float))
    return np.divide(a, b, out=np.zeros_like(a), where=b != 0)


def _np_mod(a: Any, b: Any) -> Any:
    a, b = np.broadcast_arrays(np.asarray(a, float), np.asarray(b, float))
    return np.fmod(a, b, out=np.zeros_like(a), where=b != 0)


def _np_pow(a: Any, b: Any) -> Any:
    with np.errstate(all="ignore"):
        r = np.power(np.asarray(a, float), np.asarray(b, float))
    return np.nan_to_num(r, nan=0.0, posinf=0.0, neginf=0.0)


VECTOR_OPS: Mapping[str, Callable[..., Any]] = {
    "+": np.add,
    "-": np.subtract,
    "*": np.multiply,
    "/": _np_div,
    "%": _np_mod,
    "**": _np_pow,
    "<": lambda a, b: np.less(a, b).astype(float),
    "<=": lambda a, b: np.less_equal(a, b).astype(float),
    ">": lambda a, b: np.greater(a, b).astype(float),
    ">=": lambda a, b: np.greater_equal(a, b).astype(float),
    "==": lambda a, b: np.equal(a, b).astype(float),
    "!=": lambda a, b: np.not_equal(a, b).astype(float),
    "and": lambda a, b: np.logical_and(a, b).astype(float),
    "or": lambda a, b: np.logical_or(a, b).astype(float),
    "not": lambda a: np.logical_not(a).astype(float),
    "neg": np.negative,
    "clamp": lambda x, lo, hi: np.minimum(np.maximum(x, lo), hi),
    "lerp": lambda a, b, u: a + (np.subtract(b, a)) * u,
    "min": np.minimum,
    "max": np.maximum,
    "abs": np.abs,
    "floor": np.floor,
    "sqrt": lambda a: np.sqrt(np.maximum(a, 0.0)),
    "exp": lambda a: np.exp(np.minimum(a, 700.0)),
    "sin": np.sin,
    "cos": np.cos,
}
