"""Field types and checks the request models of runs, recipes and phases share.

Litestar validates what msgspec can express (types, ranges, patterns, unknown
fields: 400 naming the field). What it cannot name precisely, the models check
in ``__post_init__`` and raise :class:`api.errors.BadRequest` with the exact
field (``inputs.video``, ``params.speed``): msgspec reports a map's values as
``inputs[...]``, without the key.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar.params import PathParameter
from msgspec import Meta

from api.errors import BadRequest
from api.models import CID_PATTERN, check_cid

__all__ = [
    "NON_BLANK",
    "InputCids",
    "ParamValues",
    "RecipeIdField",
    "RecipeIdPath",
    "RecipeTextField",
    "RunIdPath",
    "Timestamp",
    "check_inputs",
    "check_one_of",
    "check_params",
    "openapi",
]

#: A string with at least one character that is not whitespace.
NON_BLANK = r"\S"


def openapi(**schema: Any) -> dict[str, Any]:
    """``Meta(extra_json_schema=...)`` adding OpenAPI schema keys Litestar does not derive.

    Litestar copies ``extra_json_schema["extra"]`` onto the field's schema: used
    for an exclusive zero bound (which it drops) and for the values of a map
    that the model checks itself.
    """
    return {"extra": schema}


RunIdPath = Annotated[str, PathParameter(description="The run's id.")]
RecipeIdPath = Annotated[
    str, PathParameter(description="The recipe's id (SHA3-256 of its canonical form, hex).")
]

#: Recipe input name -> CID; each value is checked as a CID (400 naming ``inputs.NAME``).
InputCids = Annotated[
    dict[str, Any],
    Meta(
        description="Recipe input name -> CID of the media (in the cache or on IPFS).",
        extra_json_schema=openapi(additionalProperties={"type": "string", "pattern": CID_PATTERN}),
    ),
]
#: Recipe parameter name -> number (400 naming ``params.NAME`` otherwise).
ParamValues = Annotated[
    dict[str, Any],
    Meta(
        description="Recipe parameter overrides: name -> number (within the declared min/max).",
        extra_json_schema=openapi(additionalProperties={"type": "number"}),
    ),
]
#: A row's timestamp as ISO 8601 text.
Timestamp = Annotated[str, Meta(description="ISO 8601 timestamp.")] | None
#: A stored recipe's id in a request body (exclusive with the recipe text).
RecipeIdField = (
    Annotated[str, Meta(pattern=NON_BLANK, description="Id of a stored recipe (or give `recipe`).")]
    | None
)
#: A recipe's text in a request body (exclusive with its id).
RecipeTextField = (
    Annotated[
        str,
        Meta(
            pattern=NON_BLANK,
            description="The recipe text, YAML or S-expression (or give `recipe_id`).",
        ),
    ]
    | None
)


def check_inputs(inputs: dict[str, Any]) -> dict[str, str]:
    """``inputs`` with every value a valid CID string.

    Raises:
        BadRequest: a value is not a string or not a CID (``field`` ``inputs.NAME``).
    """
    for name, cid in inputs.items():
        if not isinstance(cid, str):
            raise BadRequest(f"inputs.{name}: expected a CID string", field=f"inputs.{name}")
        check_cid(cid, f"inputs.{name}")
    return {str(name): str(cid) for name, cid in inputs.items()}


def check_params(params: dict[str, Any]) -> dict[str, float]:
    """``params`` as floats.

    Raises:
        BadRequest: a value is not a number (``field`` ``params.NAME``).
    """
    for name, value in params.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise BadRequest(
                f"params.{name}: expected a number, got {value!r}", field=f"params.{name}"
            )
    return {str(name): float(value) for name, value in params.items()}


def check_one_of(first: tuple[str, object], second: tuple[str, object], *, field: str) -> None:
    """Exactly one of two optional fields is given.

    Raises:
        BadRequest: none or both (``field`` as given).
    """
    if (first[1] is None) == (second[1] is None):
        raise BadRequest(f"give exactly one of {first[0]!r} and {second[0]!r}", field=field)
