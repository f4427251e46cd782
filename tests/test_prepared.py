"""Server-side prepared statements (geomap/prepared.py): planned once per pooled connection,
right after a rollback, and with SQLAlchemy's parameter rules (a ``::cast`` is not a parameter,
a parameter used twice is one value)."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError, MultipleResultsFound, NoResultFound, OperationalError

from geomap import prepared

SQL = "SELECT CAST(:a AS int) + CAST(:b AS int) AS s, CAST(:a AS int) * 2 AS twice, '7'::int AS cast, CAST(:label AS text) AS label"


def _prepared_here(conn) -> set[str]:
    return set(conn.execute(text("SELECT name FROM pg_prepared_statements")).scalars())


def test_a_statement_is_prepared_once_per_connection_and_binds_its_parameters(engine: Engine):
    name = prepared._compiled(SQL)[0]
    with engine.connect() as conn:
        first = prepared.execute(conn, SQL, {"a": 2, "b": 3, "label": "một"}).one()
        again = prepared.execute(conn, SQL, {"a": 10, "b": -4, "label": "hai"}).one()
        assert (first.s, first.twice, first.cast, first.label) == (5, 4, 7, "một")
        assert (again.s, again.twice, again.label) == (6, 20, "hai")
        assert name in _prepared_here(conn)
        assert prepared.STATEMENTS[name] == SQL


def test_a_rolled_back_transaction_keeps_the_statement_prepared(engine: Engine):
    sql = "SELECT count(*) FROM unnest(CAST(:xs AS text[])) x WHERE x <> :skip"
    with engine.connect() as conn:
        with conn.begin() as tx:
            assert prepared.execute(conn, sql, {"xs": ["a", "b", "c"], "skip": "b"}).scalar_one() == 2
            tx.rollback()
        with conn.begin():
            assert prepared._compiled(sql)[0] in _prepared_here(conn)
            assert prepared.execute(conn, sql, {"xs": [], "skip": "b"}).scalar_one() == 0


def test_a_replaced_connection_prepares_again(engine: Engine):
    sql = "SELECT CAST(:n AS int) + 1"
    with engine.connect() as conn:
        assert prepared.execute(conn, sql, {"n": 1}).scalar_one() == 2
        conn.invalidate()  # as when the server restarted: the pool opens a new session
    with engine.connect() as conn:
        assert prepared.execute(conn, sql, {"n": 41}).scalar_one() == 42


def test_a_generic_statement_is_planned_once(engine: Engine):
    """An array parameter kept PostgreSQL planning afresh; ``generic=True`` plans it once."""
    sql = "SELECT count(*) FROM unnest(CAST(:xs AS text[])) x WHERE x = ANY (CAST(:want AS text[]))"
    with engine.connect() as conn, conn.begin():
        for n in range(8):
            assert prepared.execute(conn, sql, {"xs": ["a", "b", "c"][: n % 3 + 1], "want": ["a", "c"]},
                                    generic=True).scalar_one() == [1, 1, 2][n % 3]
        plans = conn.execute(text("SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE name = :n"),
                             {"n": prepared._compiled(sql, True)[0]}).one()
        assert (plans.generic_plans, plans.custom_plans) == (8, 0)
        assert " ".join(prepared.readable(prepared._compiled(sql, True)[2]).split()) == sql


def test_a_bitmap_statement_reads_its_rows_pages_in_order(engine: Engine):
    """A generic plan is priced for a hundred rows, so under a LIMIT it takes a plain index scan
    (a page read per row); ``bitmap=True`` keeps the generic plan and reads through a bitmap."""
    sql = "SELECT count(*) FROM (SELECT v FROM bitmap_probe WHERE v BETWEEN :lo AND :hi LIMIT :cap) s"
    with engine.connect() as conn, conn.begin():
        conn.execute(text("CREATE TEMP TABLE bitmap_probe AS SELECT g AS v FROM generate_series(1, 20000) g"))
        conn.execute(text("CREATE INDEX ON bitmap_probe (v)"))
        conn.execute(text("ANALYZE bitmap_probe"))
        for lo in (1, 5000, 9000):
            assert prepared.execute(conn, sql, {"lo": lo, "hi": lo + 3999, "cap": 10_001}, bitmap=True).scalar_one() == 4000
        name = prepared._compiled(sql, False, True)[0]
        plan = "\n".join(conn.execute(text(f"EXPLAIN EXECUTE {name}(1, 4000, 10001)")).scalars())
        assert "Bitmap Heap Scan" in plan and "Index Scan using" not in plan, plan
        assert prepared.readable(prepared._compiled(sql, False, True)[2]) == sql


def test_a_pipeline_runs_its_steps_in_order_in_one_round_trip(engine: Engine):
    """The steps go as one message once prepared; the first time, a step is prepared after the
    steps before it ran (it reads a table they create). Values and text with ``%`` and quotes
    arrive as sent; the result is the last step's."""
    from sqlalchemy import event

    create = prepared.Step("CREATE TEMP TABLE IF NOT EXISTS pipe_probe (v text); DELETE FROM pipe_probe; "
                           "INSERT INTO pipe_probe VALUES (CAST(:v AS text) || '%')", prepare=False)
    steps = lambda value: [  # noqa: E731
        prepared.Step(create.sql, {"v": value}, prepare=False),
        prepared.Step("INSERT INTO pipe_probe SELECT v || CAST(:more AS text) FROM pipe_probe", {"more": "+%(x)s"}),
        prepared.Step("SELECT v, format('%s rows', count(*) OVER ()) AS n FROM pipe_probe WHERE v LIKE :p ORDER BY v",
                      {"p": "%"}, generic=True),
    ]
    sent: list[str] = []
    with engine.connect() as conn, conn.begin():
        event.listen(conn, "before_cursor_execute", lambda *a: sent.append(a[2]))
        first = prepared.pipeline(conn, steps("50% O'Brien")).all()
        assert [tuple(r) for r in first] == [("50% O'Brien%", "2 rows"), ("50% O'Brien%+%(x)s", "2 rows")]
        sent.clear()
        again = prepared.pipeline(conn, steps("ấp 1")).all()
        assert [r.v for r in again] == ["ấp 1%", "ấp 1%+%(x)s"]
        assert len(sent) == 1, sent  # everything prepared: one round trip
        assert prepared.readable(sent[0]).endswith(
            "INSERT INTO pipe_probe SELECT v || CAST(:more AS text) FROM pipe_probe; "
            "SELECT v, format('%s rows', count(*) OVER ()) AS n FROM pipe_probe WHERE v LIKE :p ORDER BY v")


def test_each_step_of_a_pipeline_reads_what_the_steps_before_it_waited_for(engine: Engine):
    """READ COMMITTED gives each statement of the message its own snapshot: a step that waits for
    a lock held by another transaction sees, in the next step of the same message, what that
    transaction committed (a retried write finds its original's receipt)."""
    import threading

    from sqlalchemy import event

    steps = lambda key: [  # noqa: E731
        prepared.Step("SELECT pg_advisory_xact_lock(hashtext(CAST(:k AS text)))", {"k": key}),
        prepared.Step("SELECT coalesce(sum(v), 0) FROM pipe_committed"),
    ]
    with engine.begin() as setup:
        setup.execute(text("CREATE TABLE IF NOT EXISTS pipe_committed (v int)"))
        setup.execute(text("TRUNCATE pipe_committed"))
    seen, sent = [], []
    waiter_conn = engine.connect()
    with waiter_conn.begin():  # both statements prepared: the contended run is one message
        assert prepared.pipeline(waiter_conn, steps("pipe-warm")).scalar_one() == 0
    event.listen(waiter_conn, "before_cursor_execute", lambda *a: sent.append(a[2]))

    def waiter():
        with waiter_conn.begin():
            seen.append(prepared.pipeline(waiter_conn, steps("pipe-probe")).scalar_one())

    holder = engine.connect()
    tx = holder.begin()
    thread = threading.Thread(target=waiter, daemon=True)
    try:
        holder.execute(text("SELECT pg_advisory_xact_lock(hashtext('pipe-probe'))"))
        holder.execute(text("INSERT INTO pipe_committed VALUES (7)"))
        thread.start()
        with engine.connect() as watch:  # the waiter is blocked on the lock before the holder commits
            for _ in range(1000):
                if watch.execute(text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")).scalar_one():
                    break
                threading.Event().wait(0.01)
            else:
                raise AssertionError("the pipeline never waited for the lock")
        tx.commit()
        thread.join(30)
        assert not thread.is_alive()
    finally:
        if tx.is_active:
            tx.rollback()
        holder.close()
        waiter_conn.close()
        with engine.begin() as cleanup:
            cleanup.execute(text("DROP TABLE pipe_committed"))
    assert len(sent) == 1 and "pg_advisory_xact_lock" in prepared.readable(sent[0]), sent
    assert seen == [7]


def test_rows_come_from_the_driver_with_sqlalchemys_result_methods(engine: Engine):
    """The statements skip SQLAlchemy's result objects; what the services call on them behaves as
    SQLAlchemy's would, and a statement on a connection with no transaction yet begins one that a
    later ``commit()`` commits (SQLAlchemy's autobegin)."""
    sql = "SELECT x AS n, 'ô ' || x AS label, NULL::text AS \"?column?\" FROM generate_series(1, CAST(:k AS int)) x ORDER BY x"
    with engine.connect() as conn:
        rows = prepared.execute(conn, sql, {"k": 3})
        assert [(r.n, r.label) for r in rows] == [(1, "ô 1"), (2, "ô 2"), (3, "ô 3")]
        assert prepared.execute(conn, sql, {"k": 2}).mappings().all() == [
            {"n": 1, "label": "ô 1", "_2": None}, {"n": 2, "label": "ô 2", "_2": None}]
        assert prepared.execute(conn, sql, {"k": 3}).scalars().all() == [1, 2, 3]
        assert prepared.execute(conn, sql, {"k": 0}).first() is None
        with pytest.raises(NoResultFound):
            prepared.execute(conn, sql, {"k": 0}).one()
        with pytest.raises(MultipleResultsFound):
            prepared.execute(conn, sql, {"k": 2}).one()
        conn.rollback()
        conn.execute(text("CREATE TABLE IF NOT EXISTS autobegin_probe (v int)"))
        conn.commit()
        assert not conn.in_transaction()
        assert prepared.execute(conn, "INSERT INTO autobegin_probe VALUES (CAST(:v AS int)) RETURNING v",
                                {"v": 5}).scalar_one() == 5
        assert conn.in_transaction()
        conn.commit()
    with engine.begin() as other:
        assert other.execute(text("SELECT array_agg(v) FROM autobegin_probe")).scalar_one() == [5]
        other.execute(text("DROP TABLE autobegin_probe"))


def test_driver_errors_are_raised_as_sqlalchemys_and_a_dropped_connection_is_replaced(engine: Engine):
    """The integrity table (geomap/integrity.py) and the API's 503 for a database away read
    SQLAlchemy's exceptions with the driver's error inside; a connection the server dropped is
    invalidated, so the pool opens a new one instead of handing the dead one out again."""
    with engine.begin() as setup:
        setup.execute(text("CREATE TABLE IF NOT EXISTS unique_probe (v int PRIMARY KEY)"))
        setup.execute(text("TRUNCATE unique_probe"))
    try:
        with engine.connect() as conn, conn.begin():
            insert = "INSERT INTO unique_probe VALUES (CAST(:v AS int))"
            prepared.execute(conn, insert, {"v": 1})
            with pytest.raises(IntegrityError) as caught:
                prepared.pipeline(conn, [prepared.Step(insert, {"v": 2}), prepared.Step(insert, {"v": 1})])
            assert caught.value.orig.pgcode == "23505" and caught.value.orig.diag.constraint_name == "unique_probe_pkey"
        with engine.connect() as victim:
            pid = prepared.execute(victim, "SELECT pg_backend_pid() AS pid").scalar_one()
            victim.rollback()
            with engine.connect() as killer:
                assert killer.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar_one()
            with pytest.raises(OperationalError) as dropped:
                prepared.execute(victim, "SELECT 1 AS one")
            assert dropped.value.connection_invalidated and victim.invalidated
        with engine.connect() as again:
            assert prepared.execute(again, "SELECT pg_backend_pid() AS pid").scalar_one() != pid
    finally:
        with engine.begin() as cleanup:
            cleanup.execute(text("DROP TABLE unique_probe"))
