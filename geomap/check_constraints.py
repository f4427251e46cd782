"""Autogenerate support for CHECK constraints, which Alembic does not compare by itself.

Enum attributes and numeric ranges are enforced by CHECK constraints derived from the layer
registry (:mod:`geomap.tables`). Without this comparator, adding a durian variety to a layer
module makes ``geomap db revision`` write an empty migration and the database keeps refusing
the new value. With it, a changed, added or removed check becomes ``drop_constraint`` +
``create_check_constraint`` in the generated migration.

Why a comparator and not enum lookup tables: the values stay declared once, in the layer module;
the database keeps enforcing them with a plain CHECK (no extra join on every write); and the
migration shows exactly which values changed. Two checks are "the same" when they have the same
name, the same quoted literals and the same numbers — PostgreSQL rewrites ``x IN ('a','b')`` as
``x = ANY (ARRAY['a'::text, 'b'::text])``, so the text itself cannot be compared.
"""

from __future__ import annotations

import re
from collections import Counter

from alembic.autogenerate import comparators
from alembic.operations import ops
from sqlalchemy import CheckConstraint, MetaData, Table, text
from sqlalchemy.sql.elements import conv

_LITERAL = re.compile(r"'((?:[^']|'')*)'")
_NUMBER = re.compile(r"(?<![\w'])-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")


def signature(sqltext: str) -> tuple[frozenset[str], Counter]:
    """What a check constrains, independent of how PostgreSQL prints it: literals and numbers."""
    literals = frozenset(m.replace("''", "'") for m in _LITERAL.findall(sqltext))
    numbers = Counter(float(n) for n in _NUMBER.findall(_LITERAL.sub("", sqltext)))
    return literals, numbers


def constraint_name(table: Table, check: CheckConstraint) -> str:
    """The name the naming convention gives ``check`` (``ck_<table>_<name>``)."""
    name = str(check.name)
    if isinstance(check.name, conv) or name.startswith(f"ck_{table.name}_"):
        return name
    return f"ck_{table.name}_{name}"


def _reflected(connection, schema: str | None, table: str) -> dict[str, str]:
    rows = connection.execute(
        text("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
             "WHERE contype = 'c' AND conrelid = to_regclass(:t)"),
        {"t": f"{schema or 'public'}.\"{table}\""},
    ).all()
    return {r[0]: r[1] for r in rows}


@comparators.dispatch_for("table")
def compare_check_constraints(autogen_context, modify_ops, schemaname, tablename, conn_table, metadata_table) -> None:
    """Add drop/create operations for CHECK constraints that differ between registry and database."""
    if conn_table is None or metadata_table is None or autogen_context.connection is None:
        return  # a new table is created with its checks; a dropped one takes them along
    wanted = {
        constraint_name(metadata_table, c): c
        for c in metadata_table.constraints if isinstance(c, CheckConstraint) and c.name is not None
    }
    existing = _reflected(autogen_context.connection, schemaname, tablename)
    ours = {n: d for n, d in existing.items() if n.startswith(f"ck_{tablename}_")}
    for name, definition in sorted(ours.items()):
        check = wanted.get(name)
        if check is None or signature(str(check.sqltext)) != signature(definition):
            modify_ops.ops.append(ops.DropConstraintOp.from_constraint(_as_constraint(tablename, schemaname, name, definition)))
    for name, check in sorted(wanted.items()):
        if name not in ours or signature(str(check.sqltext)) != signature(ours[name]):
            modify_ops.ops.append(ops.CreateCheckConstraintOp.from_constraint(check))


def _as_constraint(table: str, schema: str | None, name: str, definition: str) -> CheckConstraint:
    """The reflected check as a constraint object, so the downgrade can re-create it as it was."""
    check = CheckConstraint(definition.removeprefix("CHECK ").strip(), name=conv(name))
    Table(table, MetaData(), schema=schema).append_constraint(check)
    return check
