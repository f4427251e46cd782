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
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Mapping, Sequence

import psycopg2.extensions
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
    _, _, run = _compiled(sql, generic, bitmap)
    _prepare_here(conn, sql, generic, bitmap)
    # Sent as the driver's own SQL: a ``text()`` construct would be compiled, cache-keyed and
    # have its parameters processed on every call, for a statement that is only a name and values.
    return conn.exec_driver_sql(run, dict(params or {}))


@dataclass(frozen=True)
class Step:
    """One statement of a :func:`pipeline`, with ``:name`` parameters as for ``text()``.

    ``prepare``: run it through ``PREPARE``/``EXECUTE`` as :func:`execute` does (``generic`` as
    there). A statement whose text changes with its input, or one that creates a table the later
    steps use, is sent as it is.
    """

    sql: str
    params: Mapping[str, Any] | None = None
    prepare: bool = True
    generic: bool = False


def pipeline(conn: Connection, steps: Sequence[Step]) -> CursorResult:
    """Run ``steps`` one after another in one round trip; return the last one's result.

    They go as one message of statements (PostgreSQL's simple query protocol), which the server
    runs in order, each on its own snapshot as separate statements are in READ COMMITTED: a lock
    one step takes is held when the next one reads, and an error stops the rest and fails the
    transaction as any error does. A round trip costs a field write ~0.25 ms of CPU on the two
    sides (SQLAlchemy's execution, the driver, the server's protocol) of the ~10 ms a create costs
    in all. Values are bound by the driver (``mogrify``), as for any statement it sends.

    A step not yet prepared on this connection is prepared once the steps before it have run, so
    its ``PREPARE`` sees a table they create.
    """
    if not steps:
        raise ValueError("a pipeline needs at least one statement")
    raw = conn.connection.dbapi_connection
    encoding = psycopg2.extensions.encodings[raw.encoding]
    pending: list[str] = []
    with raw.cursor() as cur:  # binds values only; SQLAlchemy sends
        for step in steps:
            if step.prepare:
                run = _compiled(step.sql, step.generic)[2]
                if not _prepared_here(conn, step.sql, step.generic) and pending:
                    _send(conn, pending)
                    pending = []
                _prepare_here(conn, step.sql, step.generic)
            else:
                run = _pyformat(step.sql)
            pending.append(cur.mogrify(run, dict(step.params or {})).decode(encoding))
    return _send(conn, pending)


def _send(conn: Connection, statements: list[str]) -> CursorResult:
    """Statements whose values are bound already, as one message. The driver still formats the
    text (SQLAlchemy always hands it a parameter mapping), so a ``%`` in it is doubled."""
    return conn.exec_driver_sql("; ".join(statements).replace("%", "%%"))


def _prepared_here(conn: Connection, sql: str, generic: bool = False, bitmap: bool = False) -> bool:
    return _compiled(sql, generic, bitmap)[0] in conn.connection.info.get("geomap_prepared", ())


def _prepare_here(conn: Connection, sql: str, generic: bool = False, bitmap: bool = False) -> None:
    """``PREPARE`` ``sql`` on this connection unless it is already."""
    name, prepare, _ = _compiled(sql, generic, bitmap)
    done: set[str] = conn.connection.info.setdefault("geomap_prepared", set())
    if name not in done:
        with conn.connection.dbapi_connection.cursor() as cur:
            cur.execute(prepare)  # no parameters: psycopg2 sends the text as it is
        done.add(name)


#: Where a pipeline's next prepared step begins (with the ``SET LOCAL`` it may carry).
_STEPS = re.compile(r"(?<!force_generic_plan)(?<!enable_indexscan = off); (?=(?:SET LOCAL [^;]*; )*EXECUTE geomap_)")


@lru_cache(maxsize=64)
def _pyformat(sql: str) -> str:
    """``sql``'s ``:name`` parameters in the driver's ``%(name)s`` style, its ``%`` signs doubled."""
    return _PARAM.sub(lambda m: f"%({m.group(1)})s", sql.replace("%", "%%"))


def readable(statement: str) -> str:
    """The SQL behind the ``EXECUTE`` statements this module sent, a :func:`pipeline`'s one after
    another (for logs and tests); other text as it is."""
    parts = _STEPS.split(statement)
    return "; ".join(_readable_one(p) for p in parts)


def _readable_one(statement: str) -> str:
    run = statement.removeprefix(GENERIC).removeprefix(BITMAP)
    if not run.startswith("EXECUTE geomap_"):
        return statement
    return STATEMENTS.get(run.removeprefix("EXECUTE ").split("(")[0].strip(), statement)
