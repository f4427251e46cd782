"""Alembic, configured in code: ``upgrade``, ``revision`` and ``current`` for a database URL."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    """An Alembic config pointing at geomap's migrations and ``url``."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Apply pending schema migrations up to ``revision`` (and nothing else).

    Publishing the OGC views is a separate step (:func:`geomap.ogc.views.publish_views`), so
    that ``geomap db revision`` can upgrade a database whose registry names a layer with no table.
    """
    command.upgrade(alembic_config(url), revision)


def revision(url: str, message: str) -> None:
    """Autogenerate a migration from the difference between the registry and the database."""
    command.revision(alembic_config(url), message=message, autogenerate=True)


def current(url: str) -> str | None:
    """The revision the database is at (None for an empty database)."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


@lru_cache(maxsize=1)
def head() -> str | None:
    """The newest revision in the migrations folder (read once: /health asks on every call)."""
    return ScriptDirectory.from_config(alembic_config("postgresql://")).get_current_head()
