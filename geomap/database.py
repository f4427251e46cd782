"""Database connection: an external URL from settings, or the embedded PostGIS.

A process that opened the embedded server also watches it: when PostgreSQL dies (killed, out of
memory), the watch restarts it on its old port within about a second, and the engines' pre-ping
drops the dead connections, so requests succeed again by themselves. An external server that
comes back is used again the same way (pre-ping); geomap does not restart servers it does not own.
"""

from __future__ import annotations

import logging
import threading
import time
from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.engine import make_url

from geomap.embedded import EmbeddedPostgres
from geomap.settings import Settings

log = logging.getLogger("geomap.database")

WATCH_INTERVAL_S = 1.0


class EmbeddedWatch:
    """A daemon thread that restarts the embedded server when it has died (see ``EmbeddedPostgres.recover``)."""

    def __init__(self, server: EmbeddedPostgres, interval_s: float = WATCH_INTERVAL_S) -> None:
        self.server = server
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="embedded-postgres-watch")

    def start(self) -> None:
        """Start watching."""
        self._thread.start()

    def stop(self) -> None:
        """Stop watching (waits for a restart in progress)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=120)

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                if self.server.recover():
                    log.warning("the embedded PostgreSQL had died; restarted it on port %s (crash recovery done)",
                                self.server.running_port())
            except Exception:  # keep watching: the next tick tries again (e.g. old backends still exiting)
                log.warning("restarting the embedded PostgreSQL failed; retrying", exc_info=True)


class Database:
    """Resolves where the database is and owns the embedded server's registration, if any."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.embedded: EmbeddedPostgres | None = None
        self.url: str | None = None
        self._watch: EmbeddedWatch | None = None

    def open(self) -> str:
        """Return the database URL, starting (or reusing) the embedded server when needed."""
        if self.url:
            return self.url
        if self.settings.database_url:
            self.url = self.settings.database_url
        else:
            self.embedded = EmbeddedPostgres(self.settings.home_dir, run_as=self.settings.pg_user)
            self.url = self.embedded.acquire()
            self._watch = EmbeddedWatch(self.embedded)
            self._watch.start()
        return self.url

    @property
    def is_embedded(self) -> bool:
        """Whether the database is geomap's embedded server of ``GEOMAP_HOME``: opened here, or
        handed over as a URL by the process that opened it (``geomap serve --sample-data``, workers)."""
        if self.embedded is not None:
            return True
        if not self.url:
            return False
        url = make_url(self.url)
        if url.host not in ("127.0.0.1", "localhost"):
            return False
        port = EmbeddedPostgres(self.settings.home_dir, run_as=self.settings.pg_user).running_port()
        return port is not None and url.port == port

    def close(self) -> None:
        """Release the embedded server (the last client out stops it)."""
        if self._watch is not None:
            self._watch.stop()
            self._watch = None
        if self.embedded is not None:
            self.embedded.release()
            self.embedded = None
        self.url = None


#: A pooled connection idle longer than this is pinged before it is handed out.
PING_IDLE_S = 1.0


def make_engine(url: str, **kwargs) -> Engine:
    """An engine with geomap's pool defaults: a connection a restarted server dropped is found by
    a ping and replaced before any request uses it (see :func:`_ping_when_idle`).

    The pool hands out the connection checked in last (LIFO). First come, first served would
    rotate even one visitor's requests through every connection a busy minute opened, and each
    of them pays, once per statement, what a fresh backend pays: its catalogue caches, PostGIS's
    function lookups, the ``PREPARE`` (measured on the 1M-tree bench: a z15 tile's first run on a
    connection costs ~20 ms more than the next). The connections a peak opened beyond the pool's
    size are closed after it either way; LIFO keeps the busy ones warm and lets the rest idle."""
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    kwargs.setdefault("pool_use_lifo", True)
    engine = create_engine(url, **kwargs)
    _ping_when_idle(engine)
    return engine


def _ping_when_idle(engine: Engine) -> None:
    """SQLAlchemy's ``pool_pre_ping``, except for a connection checked in less than
    :data:`PING_IDLE_S` ago: that one was working a moment ago, and a dead server is not back
    within a second (the watch polls every second, then PostgreSQL replays its WAL), so a
    connection from before a crash has always been idle longer than that. Under load this saves
    a round trip per request (each request checks a connection out)."""

    @event.listens_for(engine, "checkin")
    def _checked_in(dbapi_connection, record) -> None:
        if dbapi_connection is not None:
            record.info["geomap_idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection, record, proxy) -> None:
        since = record.info.get("geomap_idle_since")
        if since is not None and time.monotonic() - since < PING_IDLE_S:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError("the database dropped this connection") from exc
        if not alive:
            raise DisconnectionError("the database dropped this connection")


@contextmanager
def open_engine(settings: Settings) -> Iterator[Engine]:
    """Engine for the configured database for the length of a ``with`` block."""
    db = Database(settings)
    engine = make_engine(db.open())
    try:
        yield engine
    finally:
        engine.dispose()
        db.close()
