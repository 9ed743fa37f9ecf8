"""Time-varying parameter expressions: one AST, two spellings, compiled once.

Any numeric parameter may be an expression over the frame variables
``t`` (seconds), ``frame``, ``beat`` (beat index), ``beat_phase`` (0..1 within
the beat), ``since_beat`` (seconds since the last beat), ``energy``, ``bass``,
``mid``, ``high`` (0..1), the constant ``pi``, and recipe params by name.

Spellings:

- S-expression recipes write them natively: ``(* 90 t)``, ``(if (> bass 0.5) 1 0)``.
- YAML: a string value. Infix ``"90 * t + sin(t)"`` (``+ - * / % **``,
  comparisons, ``and or not``, calls ``f(a, b)``), or an S-expression string
  when it starts with ``(`` + a known operator + a space (``"(* 90 t)"``).

Operators and functions: ``+ - * / % ** < <= > >= == != and or not neg``,
``if(cond, then, else)``, ``clamp(x, lo, hi)``, ``lerp(a, b, u)``,
``min max abs floor sqrt exp sin cos``, ``lfo(freq)`` / ``lfo(freq, phase)``
(``0.5 + 0.5 sin(2 pi (freq t + phase))``), ``decay(rate)``
(``exp(-rate * since_beat)``, an envelope restarting at each beat).

Both spellings give the same :class:`~interpreter.nodes.Expr` tree (n-ary
``+``/``*`` fold left like infix), so canonical JSON and ids match. Trees are
bounded (depth 32, 256 nodes) and compiled into plain closures (never
``eval``); :meth:`Param.evaluate_array` evaluates over numpy arrays to
precompute per-frame parameter arrays. Division by zero yields 0.
"""

from __future__ import annotations

from interpreter.expr_compile import Param, compile_expr
from interpreter.expr_context import FRAME_VARS, FrameContext
from interpreter.expr_functions import FUNCTIONS
from interpreter.expr_parse import parse_expr_text
from interpreter.expr_tree import expr_from_datum, expr_vars

__all__ = [
    "FRAME_VARS",
    "FUNCTIONS",
    "FrameContext",
    "Param",
    "compile_expr",
    "expr_from_datum",
    "expr_vars",
    "parse_expr_text",
]
