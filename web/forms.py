"""The web UI's form posts as typed values, checked, with a problem per field.

The pages post HTML forms (``application/x-www-form-urlencoded`` or
``multipart/form-data``), which work with and without JavaScript; the JSON
API takes JSON. These models are the forms' side: :class:`ConfirmForm` (a
cancel or delete button), :class:`RecipeForm` (the recipe editor) and
:class:`RunForm` (start a run: an input from the media library per declared
input, the params within their declared ranges, pace and duration).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from litestar.datastructures import UploadFile

from interpreter.nodes import ParamDecl, Recipe
from streamer.recipes.store import RecipeRef
from streamer.runs.service import MAX_DURATION, MAX_PACE, RunSpec

__all__ = [
    "ConfirmForm",
    "MediaChoice",
    "RecipeForm",
    "RunForm",
    "media_choices",
]


@dataclass
class ConfirmForm:
    """A cancel or delete button's post.

    Attributes:
        confirmed: ``"1"`` once the user confirmed (htmx asks in a dialog and
            sends it; without JavaScript a confirmation page does).
        next: where to go afterwards (a path on this site).
    """

    confirmed: str = ""
    next: str = ""

    @property
    def is_confirmed(self) -> bool:
        """The user said yes."""
        return self.confirmed == "1"


@dataclass
class RecipeForm:
    """The recipe editor's post: the text typed or pasted, or a file.

    Attributes:
        recipe: the text of the editor.
        op: ``"save"`` (validate and store) or ``"check"`` (validate only).
        file: a recipe file; when it has content it wins over ``recipe``.
        filename: the name the text came with (kept across posts).
    """

    recipe: str = ""
    op: str = "save"
    file: UploadFile | None = None
    filename: str = ""


@dataclass(frozen=True)
class MediaChoice:
    """An item of the media library offered for a recipe input."""

    cid: str
    label: str


def _label(row: Mapping[str, Any]) -> str:
    source = str(row.get("source") or "")
    name = row.get("title") or (source.split(":", 1)[1] if ":" in source else "")
    size = float(row.get("size") or 0)
    shown = f"{size / 1048576:.1f} MiB" if size >= 1048576 else f"{size / 1024:.0f} KiB"
    cid = str(row["cid"])
    return f"{name or cid[:16]} · {shown} · {cid[:10]}…"


def media_choices(rows: Iterable[Mapping[str, Any]]) -> dict[str, list[MediaChoice]]:
    """Cache items by kind (``video``, ``audio``, ``image``), newest first, for input pickers."""
    out: dict[str, list[MediaChoice]] = {"video": [], "audio": [], "image": []}
    for row in rows:
        kind = str(row.get("kind"))
        if kind in out:
            out[kind].append(MediaChoice(str(row["cid"]), _label(row)))
    return out


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _check_param(decl: ParamDecl, text: str) -> tuple[float | None, str | None]:
    """(value, problem) of a param field; value None when it is left at the default."""
    if not text.strip():
        return None, None
    value = _number(text)
    if value is None:
        return None, f"{decl.name}: not a number"
    if (decl.min is not None and value < decl.min) or (decl.max is not None and value > decl.max):
        return None, f"{decl.name}: {value:g} is out of range {decl.min}..{decl.max}"
    if isinstance(decl.default, int | float) and value == decl.default:
        return None, None
    return value, None


def _check_positive(name: str, text: str, most: float) -> tuple[float | None, str | None]:
    if not text.strip():
        return None, None
    value = _number(text)
    if value is None or not 0 < value <= most:
        return None, f"{name}: a number > 0 and <= {most:g}"
    return value, None


@dataclass
class RunForm:
    """The run form of a recipe's page, as posted and checked.

    Attributes:
        values: field name -> text as posted (fills the form again).
        errors: field name (``inputs.NAME``, ``params.NAME``, ``pace``, ``duration``)
            -> what is wrong with it.
        error: a problem of the form as a whole (the server's refusal).
        inputs: input name -> chosen CID.
        params: param overrides (values equal to the default are left out).
        pace: multiple of real time (None: as fast as possible).
        duration: seconds to render (None: the whole recipe).
    """

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    inputs: dict[str, str] = field(default_factory=dict)
    params: dict[str, float] = field(default_factory=dict)
    pace: float | None = None
    duration: float | None = None

    @classmethod
    def blank(cls, recipe: Recipe | None) -> RunForm:
        """The form before any post: params at their defaults."""
        values = {f"params.{p.name}": str(p.default) for p in (recipe.params if recipe else ())}
        return cls(values=values)

    @classmethod
    def parse(cls, data: Mapping[str, Any], recipe: Recipe) -> RunForm:
        """Check a post against the recipe's declared inputs and params."""
        values = {str(k): str(v) for k, v in data.items() if isinstance(v, str)}
        form = cls(values=values)
        for decl in recipe.inputs:
            cid = values.get(f"inputs.{decl.name}", "").strip()
            if cid:
                form.inputs[decl.name] = cid
            else:
                form.errors[f"inputs.{decl.name}"] = f"choose a {decl.type} for {decl.name}"
        for param in recipe.params:
            value, problem = _check_param(param, values.get(f"params.{param.name}", ""))
            if problem:
                form.errors[f"params.{param.name}"] = problem
            elif value is not None:
                form.params[param.name] = value
        form.pace, problem = _check_positive("pace", values.get("pace", ""), MAX_PACE)
        if problem:
            form.errors["pace"] = problem
        form.duration, problem = _check_positive(
            "duration", values.get("duration", ""), MAX_DURATION
        )
        if problem:
            form.errors["duration"] = problem
        return form

    def refuse(self, detail: str, field_name: str | None) -> None:
        """Record the server's refusal: on its field when the form has it, else for the form."""
        if field_name and (field_name in self.values or field_name.startswith("inputs.")):
            self.errors[field_name] = detail
        else:
            self.error = detail

    def spec(self, recipe_id: str) -> RunSpec:
        """What the runs service starts for this form."""
        return RunSpec(
            recipe=RecipeRef(recipe_id=recipe_id),
            inputs=dict(self.inputs),
            params=dict(self.params),
            pace=self.pace,
            duration=self.duration,
        )
