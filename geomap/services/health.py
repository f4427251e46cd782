"""What ``GET /health`` reports: for anyone, whether the service can answer; for administrators,
the database's whereabouts, versions, migration and per-layer counts."""

from __future__ import annotations

from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, text

from geomap.layers.registry import LAYERS
from geomap.migrate import head


def layer_counts(engine: Engine) -> dict[str, int]:
    """Live (not deleted) assets per layer, in registry order."""
    parts = " UNION ALL ".join(
        f"SELECT '{layer.name}' AS layer, count(*) AS n FROM \"{layer.table}\" WHERE deleted_at IS NULL"
        for layer in LAYERS
    )
    with engine.connect() as conn:
        rows = {r.layer: int(r.n) for r in conn.execute(text(parts))}
    return {layer.name: rows[layer.name] for layer in LAYERS}


def status(engine: Engine) -> dict:
    """The public report, all a load balancer needs: ``{"status": "ok"}``; raises if the database cannot be reached."""
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    return {"status": "ok"}


def health(engine: Engine, embedded: bool) -> dict:
    """The administrators' report; raises if the database cannot be reached."""
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT postgis_lib_version() AS postgis, current_setting('server_version') AS pg")
        ).one()
        revision = MigrationContext.configure(conn).get_current_revision()
    url = engine.url
    return {
        "status": "ok",
        "database": {
            "reachable": True,
            "embedded": embedded,
            "host": url.host,
            "port": url.port,
            "name": url.database,
            "postgresql": row.pg,
            "postgis": row.postgis,
            "migration": revision,
            "migration_head": head(),
        },
        "layers": layer_counts(engine),
    }
