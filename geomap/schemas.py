"""Pydantic models of a layer's properties, built from the registry.

One model per layer validates what clients and files send: types, ranges, enums (the stored
value or its Vietnamese/English label, any case, NFC or NFD), patterns and unknown fields.
The loader and the API both use it, so a rule is written once.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
import uuid
from functools import lru_cache
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, create_model

from geomap.errors import FieldProblem
from geomap.layers.base import Attr, Layer
from geomap.layers.common import SERVER_OWNED


def no_nul(value: Any) -> Any:
    """Refuse NUL characters: PostgreSQL text cannot hold them."""
    if isinstance(value, str) and "\x00" in value:
        raise ValueError("must not contain NUL (\\u0000) characters")
    return value


def normalize_text(value: Any) -> Any:
    """Strip and NFC-normalise strings; empty strings become None; NUL characters are refused."""
    if isinstance(value, str):
        no_nul(value)
        value = unicodedata.normalize("NFC", value.strip())
        return value or None
    return value


def _enum_normalizer(attr: Attr):
    lookup: dict[str, str] = {}
    for c in attr.choices:
        for key in (c.value, c.vi, c.en):
            lookup[unicodedata.normalize("NFC", key).casefold()] = c.value

    def normalize(value: Any) -> Any:
        value = normalize_text(value)
        if isinstance(value, str):
            return lookup.get(value.casefold(), value)
        return value

    return normalize


def ref_code_field(attr: Attr) -> str:
    """Name of the companion field that references by code (``farm_id`` → ``farm_code``)."""
    return attr.name.removesuffix("_id") + "_code"


def _annotation(attr: Attr) -> Any:
    constraints: dict[str, Any] = {}
    if attr.kind in ("int", "float"):
        constraints = {k: v for k, v in (("ge", attr.ge), ("le", attr.le), ("gt", attr.gt)) if v is not None}
        base: Any = int if attr.kind == "int" else float
        if attr.kind == "float":
            constraints["allow_inf_nan"] = False
        return Annotated[base, Field(**constraints)]
    if attr.kind == "enum":
        return Annotated[Literal[attr.values], BeforeValidator(_enum_normalizer(attr))]  # type: ignore[valid-type]
    if attr.kind == "date":
        return dt.date
    if attr.kind == "ref":
        return uuid.UUID
    if attr.max_length:
        constraints["max_length"] = attr.max_length
    if attr.pattern:
        constraints["pattern"] = attr.pattern
    return Annotated[str, BeforeValidator(normalize_text), Field(**constraints)]


@lru_cache(maxsize=None)
def properties_model(layer: Layer, partial: bool = False) -> type[BaseModel]:
    """Model of the writable properties of ``layer``.

    ``partial`` makes every field optional (for merge patches). Required fields may not be null.
    Unknown fields are refused.
    """
    fields: dict[str, Any] = {"id": (uuid.UUID | None, None)}
    for attr in layer.writable_attributes:
        ann = _annotation(attr)
        if attr.required and not partial:
            fields[attr.name] = (ann, ...)
        elif attr.required:
            fields[attr.name] = (ann, None)
        else:
            fields[attr.name] = (ann | None, None)
        if attr.kind == "ref":
            fields[ref_code_field(attr)] = (Annotated[str | None, BeforeValidator(normalize_text)], None)
    config = ConfigDict(extra="forbid", coerce_numbers_to_str=True, str_strip_whitespace=True)
    return create_model(f"{layer.name}_{'patch' if partial else 'properties'}", __config__=config, **fields)


def problems_from(exc: ValidationError, index: int | None = None, layer: Layer | None = None) -> list[FieldProblem]:
    """Turn pydantic errors into field problems with plain reasons."""
    problems = []
    for err in exc.errors(include_url=False):
        loc = [str(p) for p in err["loc"]]
        field = ".".join(loc) if loc else "properties"
        if err["type"] == "extra_forbidden":
            reason = (
                "is set by the server and cannot be written"
                if loc and loc[-1] in SERVER_OWNED or (layer and getattr(layer.find(loc[-1]), "server", False))
                else "is not a field of this layer"
            )
        elif err["type"] == "missing" or (err.get("input", ...) is None and layer is not None and getattr(layer.find(loc[-1]), "required", False)):
            reason = "is required"
        elif err["type"] == "literal_error" and layer is not None:
            attr = layer.attr(loc[-1])
            reason = f"unknown value {err['input']!r}; allowed: " + ", ".join(
                f"{c.value} ({c.vi})" for c in attr.choices
            )
        else:
            reason = err["msg"]
        problems.append(FieldProblem(field, reason, index))
    return problems
