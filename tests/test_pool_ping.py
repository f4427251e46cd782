"""The pool pings a connection before handing it out unless it was checked in a moment ago
(geomap/database.py), and a connection the server dropped is replaced before a request uses it."""

from __future__ import annotations

import psycopg2
from sqlalchemy import text

from geomap import database
from geomap.database import make_engine


def test_a_connection_is_pinged_only_after_being_idle_and_a_dropped_one_is_replaced(db_url: str, monkeypatch):
    engine = make_engine(db_url, pool_size=1, max_overflow=0)
    pings: list[int] = []
    ping = engine.dialect.do_ping
    monkeypatch.setattr(engine.dialect, "do_ping", lambda dbapi_connection: pings.append(1) or ping(dbapi_connection))
    try:
        with engine.connect() as conn:  # a new connection has no idle time on record: pinged
            pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with engine.connect() as conn:  # checked in a moment ago: handed out as it is
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar_one() == pid
        assert len(pings) == 1
        monkeypatch.setattr(database, "PING_IDLE_S", 0.0)  # every connection now counts as idle
        other = psycopg2.connect(db_url.replace("+psycopg2", ""))
        other.autocommit = True
        with other.cursor() as cur:
            cur.execute("SELECT pg_terminate_backend(%s)", (pid,))
        other.close()
        with engine.connect() as conn:  # the ping finds it dead; the pool opens a new one
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar_one() != pid
        assert len(pings) >= 2
    finally:
        engine.dispose()


def test_sequential_requests_reuse_the_connection_used_last_not_the_pools_oldest(db_url: str):
    """After a peak opened several connections, one visitor's requests in turn keep landing on the
    same (warm) backend: its prepared statements and caches serve them, rather than each request
    rotating to a connection that has to prepare and plan everything once more."""
    engine = make_engine(db_url, pool_size=4, max_overflow=0)
    try:
        peak = [engine.connect() for _ in range(4)]  # a burst: four connections open at once
        pids = [c.execute(text("SELECT pg_backend_pid()")).scalar_one() for c in peak]
        for c in peak:
            c.close()
        assert len(set(pids)) == 4
        seen = []
        for _ in range(6):
            with engine.connect() as conn:
                seen.append(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())
        assert seen == [pids[-1]] * 6  # the one checked in last, every time
    finally:
        engine.dispose()
