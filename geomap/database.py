"""Database connection: an external URL from settings, or the embedded PostGIS."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import Engine, create_engine

from geomap.embedded import EmbeddedPostgres
from geomap.settings import Settings


class Database:
    """Resolves where the database is and owns the embedded server's registration, if any."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.embedded: EmbeddedPostgres | None = None
        self.url: str | None = None

    def open(self) -> str:
        """Return the database URL, starting (or reusing) the embedded server when needed."""
        if self.url:
            return self.url
        if self.settings.database_url:
            self.url = self.settings.database_url
        else:
            self.embedded = EmbeddedPostgres(self.settings.home_dir, run_as=self.settings.pg_user)
            self.url = self.embedded.acquire()
        return self.url

    def close(self) -> None:
        """Release the embedded server (the last client out stops it)."""
        if self.embedded is not None:
            self.embedded.release()
            self.embedded = None
        self.url = None


def make_engine(url: str, **kwargs) -> Engine:
    """An engine with geomap's pool defaults."""
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    return create_engine(url, **kwargs)


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
