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

The statements run on the driver's cursor, in the SQLAlchemy connection's transaction, and their
rows come back as named tuples (:class:`Rows`): SQLAlchemy's result objects cost a field create
more Python than the driver's whole exchange (:func:`_run` says what is kept of its execution).
"""

from __future__ import annotations

import hashlib
import re
from collections import namedtuple
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Iterator, Mapping, Sequence

import psycopg2
import psycopg2.extensions
from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError, MultipleResultsFound, NoResultFound

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
            generic: bool = False, bitmap: bool = False) -> Rows:
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
    return _run(conn, run, dict(params or {}))


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


def pipeline(conn: Connection, steps: Sequence[Step]) -> Rows:
    """Run ``steps`` one after another in one round trip; return the last one's result.

    They go as one message of statements (PostgreSQL's simple query protocol), which the server
    runs in order, each on its own snapshot as separate statements are in READ COMMITTED: a lock
    one step takes is held when the next one reads, and an error stops the rest and fails the
    transaction as any error does. A round trip saved is a wait saved, and CPU on both sides (the
    driver, the server's protocol). Values are bound by the driver (``mogrify``), as for any
    statement it sends.

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


def _send(conn: Connection, statements: list[str]) -> Rows:
    """Statements whose values are bound already, as one message (sent without parameters, so
    the driver does not format the text again)."""
    return _run(conn, "; ".join(statements), None)


class Rows:
    """A statement's rows as named tuples, with the result methods the services use (``one``,
    ``first``, ``all``, ``scalar_one``, ``scalars``, ``mappings``), as SQLAlchemy's results have them."""

    __slots__ = ("_rows",)

    def __init__(self, rows: list) -> None:
        self._rows = rows

    def __iter__(self) -> Iterator:
        return iter(self._rows)

    def all(self) -> list:
        """Every row."""
        return list(self._rows)

    def first(self):
        """The first row, or None."""
        return self._rows[0] if self._rows else None

    def one(self):
        """The only row; an error when there is none or more than one."""
        if not self._rows:
            raise NoResultFound("No row was found when one was required")
        if len(self._rows) > 1:
            raise MultipleResultsFound("Multiple rows were found when exactly one was required")
        return self._rows[0]

    def scalar_one(self) -> Any:
        """The first value of the only row."""
        return self.one()[0]

    def scalars(self) -> Rows:
        """The first value of each row."""
        return Rows([r[0] for r in self._rows])

    def mappings(self) -> Rows:
        """Each row as a dict by column name."""
        return Rows([r._asdict() for r in self._rows])


@lru_cache(maxsize=256)
def _row_type(names: tuple[str, ...]) -> type:
    return namedtuple("Row", names, rename=True)  # a name that is no identifier becomes _0, _1…


def _run(conn: Connection, statement: str, params: Mapping[str, Any] | None) -> Rows:
    """Send ``statement`` on ``conn``'s driver connection, in its transaction, and read its rows.

    SQLAlchemy's result objects are skipped: building their metadata for every statement was 12–14%
    of a field create's Python (py-spy, bench/NOTES.md session 16), for statements that are only a
    prepared name and values. What SQLAlchemy's execution would do that matters is done here: the
    connection's transaction begins as it would on a first statement, ``before_cursor_execute``
    listeners see the statement (the round-trip tests count with them; they get no execution
    context, and ``after_cursor_execute`` is not fired), a driver error is raised
    as SQLAlchemy's (``IntegrityError``, ``OperationalError``…), and a connection the server
    dropped is invalidated so the pool replaces it.
    """
    if not conn.in_transaction():
        conn.begin()  # SQLAlchemy's autobegin: a later commit() commits this statement too
    raw = conn.connection.dbapi_connection
    with raw.cursor() as cur:
        for listener in conn.dispatch.before_cursor_execute:
            listener(conn, cur, statement, params, None, False)
        try:
            cur.execute(statement, params)
            if cur.description is None:
                return Rows([])
            return Rows(list(map(_row_type(tuple(d.name for d in cur.description))._make, cur.fetchall())))
        except psycopg2.Error as exc:
            dropped = conn.dialect.is_disconnect(exc, raw, cur)
            if dropped:
                conn.invalidate(exc)
            raise DBAPIError.instance(statement, params, exc, psycopg2.Error, connection_invalidated=dropped,
                                      dialect=conn.dialect) from exc


def _prepared_here(conn: Connection, sql: str, generic: bool = False, bitmap: bool = False) -> bool:
    return _compiled(sql, generic, bitmap)[0] in conn.connection.info.get("geomap_prepared", ())


def _prepare_here(conn: Connection, sql: str, generic: bool = False, bitmap: bool = False) -> None:
    """``PREPARE`` ``sql`` on this connection unless it is already."""
    name, prepare, _ = _compiled(sql, generic, bitmap)
    done: set[str] = conn.connection.info.setdefault("geomap_prepared", set())
    if name not in done:
        _run(conn, prepare, None)
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
