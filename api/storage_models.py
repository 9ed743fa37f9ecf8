"""Request and response models of the storage providers API (``/storage``).

The name, type and config rules are :mod:`streamer.content.provider_config`'s;
the request models carry the same limits for the OpenAPI document (the config
of each type is checked by the service, which names the field at fault).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType

from streamer.content.provider_config import (
    CONFIG_VALUE_MAX,
    NAME_PATTERN,
    PROVIDER_TYPES,
    SECRET,
    ProviderKind,
)
from streamer.content.providers import ProviderTest

__all__ = [
    "Provider",
    "ProviderCreate",
    "ProviderDeleted",
    "ProviderField",
    "ProviderForm",
    "ProviderLinks",
    "ProviderList",
    "ProviderPatch",
    "ProviderTestResult",
    "ProviderTypeInfo",
]


def _config_doc() -> str:
    lines = ["The type's fields (strings; empty ones are left out):"]
    for kind, fields in PROVIDER_TYPES.items():
        names = ", ".join(f"{n}{' (required)' if req else ''}" for n, (req, _) in fields.items())
        lines.append(f"{kind}: {names}.")
    lines.append(f"secret_access_key is never shown (it reads {SECRET!r}).")
    return " ".join(lines)


def _field_doc(kind: str, name: str) -> str:
    required, text = PROVIDER_TYPES[kind][name]
    return f"{kind}{' (required)' if required else ''}: {text}"


ProviderName = Annotated[
    str,
    Meta(
        pattern=NAME_PATTERN,
        description="1-63 letters, digits, spaces, _ . - starting with a letter or digit "
        "(surrounding spaces stripped); unique",
    ),
]
# plain JSON schema: Litestar copies ``extra`` values into the document as they are
_CONFIG_VALUE = {"oneOf": [{"type": "string", "maxLength": CONFIG_VALUE_MAX}, {"type": "null"}]}
Config = Annotated[
    dict[str, Any],
    Meta(
        description=_config_doc(),
        extra_json_schema={"extra": {"additional_properties": _CONFIG_VALUE}},
    ),
]


class ProviderCreate(Struct, kw_only=True, forbid_unknown_fields=True):
    """``POST /storage/add``: a new provider."""

    type: Annotated[ProviderKind, Meta(description="the backend")]
    name: ProviderName
    config: Config = msgspec.field(default_factory=dict)


class ProviderPatch(Struct, kw_only=True, forbid_unknown_fields=True):
    """``PATCH /storage/{id}``: the fields given change."""

    name: ProviderName | UnsetType = UNSET
    enabled: bool | UnsetType = UNSET
    config: (
        Annotated[
            dict[str, Any],
            Meta(
                description="merged into the stored config; "
                f"a secret_access_key of {SECRET!r} keeps the stored one. {_config_doc()}",
                extra_json_schema={"extra": {"additional_properties": _CONFIG_VALUE}},
            ),
        ]
        | UnsetType
    ) = UNSET


class ProviderForm(Struct, kw_only=True):
    """``POST /storage`` (the web UI's form): ``type``, ``name`` and the config.

    The config comes as one ``config`` JSON object, the type's own fields, or
    both (the fields win); fields of other types and empty ones are ignored.
    """

    type: (
        Annotated[
            str,
            Meta(
                description="the backend",
                extra_json_schema={"extra": {"enum": list(PROVIDER_TYPES)}},
            ),
        ]
        | None
    ) = None
    name: Annotated[str, Meta(description="as in POST /storage/add")] | None = None
    config: Annotated[str, Meta(description="a JSON object: " + _config_doc())] | None = None
    path: Annotated[str, Meta(description=_field_doc("local", "path"))] | None = None
    api: Annotated[str, Meta(description=_field_doc("ipfs", "api"))] | None = None
    bucket: Annotated[str, Meta(description=_field_doc("s3", "bucket"))] | None = None
    endpoint_url: Annotated[str, Meta(description=_field_doc("s3", "endpoint_url"))] | None = None
    region: Annotated[str, Meta(description=_field_doc("s3", "region"))] | None = None
    prefix: Annotated[str, Meta(description=_field_doc("s3", "prefix"))] | None = None
    access_key_id: Annotated[str, Meta(description=_field_doc("s3", "access_key_id"))] | None = None
    secret_access_key: (
        Annotated[str, Meta(description=_field_doc("s3", "secret_access_key"))] | None
    ) = None

    def type_fields(self) -> dict[str, str | None]:
        """The per-type config fields of the form, by name."""
        return {name: getattr(self, name) for fields in PROVIDER_TYPES.values() for name in fields}


class ProviderLinks(Struct, kw_only=True):
    """Where to read and test the provider."""

    self_: str = msgspec.field(name="self")
    test: str


class Provider(Struct, kw_only=True):
    """A storage provider (its secret shown as ``"***"``)."""

    id: int
    type: ProviderKind
    name: str
    config: Annotated[dict[str, Any], Meta(description=_config_doc())]
    enabled: bool
    created_at: Annotated[str, Meta(description="ISO 8601")] | None
    links: ProviderLinks

    @classmethod
    def of(cls, row: dict[str, Any]) -> Provider:
        """The public view of a row."""
        config = dict(row["config"] or {})
        if "secret_access_key" in config:
            config["secret_access_key"] = SECRET
        created = row["created_at"]
        return cls(
            id=row["id"],
            type=row["type"],
            name=row["name"],
            config=config,
            enabled=row["enabled"],
            created_at=created.isoformat() if isinstance(created, dt.datetime) else created,
            links=ProviderLinks(self_=f"/storage/{row['id']}", test=f"/storage/{row['id']}/test"),
        )


class ProviderList(Struct, kw_only=True):
    """Every provider, and the types one may add."""

    providers: list[Provider]
    types: list[ProviderKind]


class ProviderDeleted(Struct, kw_only=True):
    """The id of the removed provider."""

    deleted: int


class ProviderTestResult(Struct, kw_only=True):
    """A probe put, read back and deleted through the provider."""

    id: int
    name: str
    type: ProviderKind
    ok: bool
    latency_ms: float
    detail: Annotated[str, Meta(description="where it went, or what failed")]

    @classmethod
    def of(cls, test: ProviderTest) -> ProviderTestResult:
        """The document of a test."""
        row = test.row
        return cls(
            id=row["id"],
            name=row["name"],
            type=row["type"],
            ok=test.ok,
            latency_ms=test.latency_ms,
            detail=test.detail,
        )


class ProviderField(Struct, kw_only=True):
    """One config field of a provider type."""

    name: str
    required: bool
    description: str


class ProviderTypeInfo(Struct, kw_only=True):
    """The config fields a provider type takes."""

    type: ProviderKind
    fields: list[ProviderField]
