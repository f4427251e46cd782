"""Database integrity errors, by SQLSTATE, as domain errors a client can act on.

The services check everything they can before writing, so these are the last line: a CHECK the
registry declares (an enum value, a range), a reference, a required column, or a unique code or
id that another request wrote a moment ago. Each becomes a 422 naming the field or a 409 naming
the existing asset; only a serialization failure or deadlock says "retry", because only then
would the same request succeed a second time. The driver's text goes to the log, never to the client.
"""

from __future__ import annotations

import logging
import re
from contextlib import contextmanager
from typing import Iterator

from sqlalchemy.exc import DBAPIError, IntegrityError

from geomap.errors import Conflict, FieldProblem, GeomapError, InvalidInput
from geomap.layers.base import Layer

log = logging.getLogger(__name__)

UNIQUE, CHECK, FOREIGN_KEY, NOT_NULL = "23505", "23514", "23503", "23502"
RACES = {"40001", "40P01"}  # serialization failure, deadlock
_KEY = re.compile(r"Key \((?P<cols>[^)]*)\)=\((?P<vals>.*)\) already exists", re.S)
_CHECK_SUFFIXES = {"enum": None, "ge": "must be at least {}", "le": "must be at most {}", "gt": "must be more than {}"}


def _diag(exc: DBAPIError):
    return getattr(exc.orig, "diag", None)


def _check_problem(layer: Layer | None, table: str, constraint: str) -> FieldProblem:
    name = constraint.removeprefix(f"ck_{table}_")
    field, _, suffix = name.rpartition("_")
    attr = layer.find(field) if layer is not None else None
    if suffix == "enum" and attr is not None and attr.choices:
        return FieldProblem(field, "must be one of: " + ", ".join(f"{c.value} ({c.vi})" for c in attr.choices))
    if suffix in _CHECK_SUFFIXES and attr is not None:
        bound = {"ge": attr.ge, "le": attr.le, "gt": attr.gt}.get(suffix)
        if bound is not None:
            return FieldProblem(field, _CHECK_SUFFIXES[suffix].format(f"{bound:g}"))
    if name == "geom_valid":
        return FieldProblem("geometry", "is not a valid geometry")
    return FieldProblem(field or name, "is not allowed by the database's rules for this field")


def domain_error(exc: DBAPIError, layer: Layer | None = None) -> GeomapError | None:
    """The domain error for a database error a client caused, or None for anything else."""
    diag = _diag(exc)
    code = getattr(exc.orig, "pgcode", None)
    if diag is None or code is None:
        return None
    table, constraint = diag.table_name or "", diag.constraint_name or ""
    if code == UNIQUE:
        match = _KEY.search(diag.message_detail or "")
        cols, vals = (match["cols"], match["vals"]) if match else ("code", "?")
        field = "id" if cols == "id" else "code"
        what = f"{field} {vals}"
        return Conflict(f"{what} already belongs to another asset (it was written a moment ago)",
                        {"errors": [{"field": field, "reason": "already taken"}], "existing": {field: vals}})
    if code == CHECK:
        return InvalidInput([_check_problem(layer, table, constraint)])
    if code == FOREIGN_KEY:
        column = constraint.removeprefix(f"fk_{table}_").split("_")[0] if constraint else "reference"
        field = next((a.name for a in (layer.ref_attributes if layer else ()) if constraint.startswith(f"fk_{table}_{a.name}")), column)
        return InvalidInput([FieldProblem(field, "refers to an asset that does not exist (or was deleted)")])
    if code == NOT_NULL:
        column = diag.column_name or "field"
        return InvalidInput([FieldProblem("geometry" if column == "geom" else column, "is required")])
    if code in RACES:
        return Conflict("another request changed the same assets at the same moment; send the request again")
    return None


@contextmanager
def integrity_errors(layer: Layer | None = None) -> Iterator[None]:
    """Turn database errors a client can cause into domain errors (the detail goes to the log)."""
    try:
        yield
    except (IntegrityError, DBAPIError) as exc:
        mapped = domain_error(exc, layer)
        if mapped is None:
            raise
        log.info("database refused a write (%s): %s", getattr(exc.orig, "pgcode", "?"), str(exc.orig).strip())
        raise mapped from None
