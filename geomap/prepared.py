"""Server-side prepared statements, one set per pooled connection.

psycopg2 sends every statement as plain SQL, so PostgreSQL parses and plans it afresh each time.
For the short statements a field write sends a dozen of, planning was most of the server's work:
measured with ``pg_stat_statements`` on the 1M-tree bench database, 0.14 ms to plan the caller
lookup against 0.03 ms to run it, 0.38 ms against 0.13 ms for the working-area check.
:func:`execute` runs a statement written with SQLAlchemy's ``:name`` parameters through
``PREPARE``/``EXECUTE`` instead: the first use on a connection prepares it, later uses only bind
values (PostgreSQL switches to a generic plan after five runs when it costs no more than the
custom ones, and replans by itself when a table's statistics change).

A prepared statement belongs to the database session, so which statements a connection has
prepared is kept in the pool's per-connection ``info``, which SQLAlchemy empties when a dead
connection is replaced. ``PREPARE`` is not undone by a rollback, so a failed write leaves the
statement prepared and the record true.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from typing import Any, Mapping

from sqlalchemy import Connection, CursorResult

#: SQLAlchemy's own pattern for a bound parameter in ``text()`` (a ``::cast`` is not one).
_PARAM = re.compile(r"(?<![:\w\\]):(\w+)(?!:)")

#: Every statement prepared by this process, by name (the tests use it to read EXECUTEs back).
STATEMENTS: dict[str, str] = {}


#: Sent with a statement that takes arrays: see :func:`execute`.
GENERIC = "SET LOCAL plan_cache_mode = force_generic_plan; "
#: Sent with a generic statement that must read its rows' pages in order: see :func:`execute`.
BITMAP = "SET LOCAL enable_indexscan = off; "


@lru_cache(maxsize=512)
def _compiled(sql: str, generic: bool = False, bitmap: bool = False) -> tuple[str, str, str]:
    """``(name, PREPARE statement, EXECUTE statement)`` of ``sql``; the parameters keep their
    names in the EXECUTE (the driver's ``%(name)s``), in order of first appearance."""
    order = list(dict.fromkeys(_PARAM.findall(sql)))
    positional = _PARAM.sub(lambda m: f"${order.index(m.group(1)) + 1}", sql)
    name = "geomap_" + hashlib.sha1(sql.encode()).hexdigest()[:16]
    args = f"({', '.join(f'%({p})s' for p in order)})" if order else ""
    STATEMENTS[name] = sql
    prefix = (GENERIC if generic or bitmap else "") + (BITMAP if bitmap else "")
    return name, f"PREPARE {name} AS {positional}", f"{prefix}EXECUTE {name}{args}"


def execute(conn: Connection, sql: str, params: Mapping[str, Any] | None = None, *,
            generic: bool = False, bitmap: bool = False) -> CursorResult:
    """Run one statement (``:name`` parameters, as for ``text()``) prepared on this connection.

    ``generic``: use the generic plan from the first run. PostgreSQL keeps planning a statement
    whose parameter is an array afresh (it prices the generic plan for ten elements against the
    custom plan's one, so the generic never looks cheaper): 0.37 ms of planning per run for the
    working-area check. The setting is ``SET LOCAL``, sent in the same round trip, and holds for
    the rest of the transaction, whose other prepared statements use generic plans already.

    ``bitmap``: a generic plan that reads the table through a bitmap (each page it needs once, in
    page order) rather than a plain index scan (a page per row, in index order). A generic plan
    is priced for the planner's default hundred rows, so under a ``LIMIT`` it picks the index
    scan even where a value brings thousands: a dense street-level tile. Implies ``generic``.
    """
    name, prepare, run = _compiled(sql, generic, bitmap)
    prepared: set[str] = conn.connection.info.setdefault("geomap_prepared", set())
    if name not in prepared:
        with conn.connection.dbapi_connection.cursor() as cur:
            cur.execute(prepare)  # no parameters: psycopg2 sends the text as it is
        prepared.add(name)
    # Sent as the driver's own SQL: a ``text()`` construct would be compiled, cache-keyed and
    # have its parameters processed on every call, for a statement that is only a name and values.
    return conn.exec_driver_sql(run, dict(params or {}))


def readable(statement: str) -> str:
    """The SQL behind an ``EXECUTE`` this module sent (for logs and tests); other text as it is."""
    run = statement.removeprefix(GENERIC).removeprefix(BITMAP)
    if not run.startswith("EXECUTE geomap_"):
        return statement
    return STATEMENTS.get(run.removeprefix("EXECUTE ").split("(")[0].strip(), statement)
