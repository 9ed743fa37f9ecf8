"""Request and response models of ``POST /recipes/validate`` (check a recipe text, store nothing).

Editors call it as the user types: the answer lists the problems with their
line and column (the validator of ``artdag recipe check``), and the declared
inputs and params whenever the text could be read.
"""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta, Struct

from api.schemas.recipes import MAX_RECIPE_BYTES, RecipeInput, RecipeParam, Syntax
from streamer.recipes.check import RecipeCheck

__all__ = ["RecipeProblem", "RecipeValidate", "RecipeValidation", "recipe_validation"]


class RecipeValidate(Struct, forbid_unknown_fields=True, kw_only=True):
    """``POST /recipes/validate``: the text to check."""

    recipe: Annotated[
        str,
        Meta(
            max_length=MAX_RECIPE_BYTES,
            description="The recipe text, YAML or S-expression.",
        ),
    ]
    filename: (
        Annotated[
            str,
            Meta(
                max_length=200,
                description="The name problems are reported against (default `<recipe>`).",
            ),
        ]
        | None
    ) = None


class RecipeProblem(Struct, kw_only=True):
    """A problem of the recipe, where it is and what to do about it."""

    line: Annotated[int, Meta(ge=0, description="1-based line; 0 when not known.")]
    column: Annotated[int, Meta(ge=0, description="1-based column; 0 when not known.")]
    message: Annotated[str, Meta(description="What is wrong (without the position).")]
    hint: Annotated[str, Meta(description='How to fix it ("" when there is nothing to say).')]
    text: Annotated[str, Meta(description="The source line the position points at.")]
    kind: Annotated[
        str, Meta(description="The error class, e.g. `UnknownEffectError`, `RecipeSyntaxError`.")
    ]


class RecipeValidation(Struct, kw_only=True):
    """What checking the text found: valid or not, its problems, inputs and params."""

    ok: Annotated[bool, Meta(description="No problem: the recipe can be stored and run.")]
    errors: Annotated[
        list[RecipeProblem],
        Meta(description="The problems found; the validator stops at the first one."),
    ]
    recipe_id: (
        Annotated[str, Meta(description="The id it would be stored under (valid recipes).")] | None
    )
    name: Annotated[str, Meta(description="The recipe's name (when it could be read).")] | None
    syntax: Syntax | None
    output: Annotated[str, Meta(description="The output step (when it could be read).")] | None
    inputs: Annotated[
        list[RecipeInput], Meta(description="Declared inputs (when it could be read).")
    ]
    params: Annotated[
        list[RecipeParam], Meta(description="Declared parameters (when it could be read).")
    ]


def recipe_validation(check: RecipeCheck) -> RecipeValidation:
    """The answer for a check."""
    recipe = check.recipe
    return RecipeValidation(
        ok=check.ok,
        errors=[
            RecipeProblem(
                line=p.line,
                column=p.column,
                message=p.message,
                hint=p.hint,
                text=p.text,
                kind=p.kind,
            )
            for p in check.problems
        ],
        recipe_id=check.recipe_id,
        name=recipe.name if recipe is not None else None,
        syntax=recipe.syntax if recipe is not None else None,
        output=recipe.output if recipe is not None else None,
        inputs=[
            RecipeInput(name=i.name, type=i.type, description=i.description) for i in check.inputs
        ],
        params=[
            RecipeParam(
                name=p.name, default=p.default, min=p.min, max=p.max, description=p.description
            )
            for p in check.params
        ],
    )
