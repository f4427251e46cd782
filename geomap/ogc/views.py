"""Views in schema ``ogc`` that hold only public columns of live assets, one per layer.

tipg publishes exactly these views, so personal data (farm owners' names and phones) cannot be
reached through ``/ogc`` whatever the query. Publishing is a step of its own, after the schema
migrations (``geomap db upgrade`` and ``geomap serve`` run both; ``geomap db revision`` only the
migrations, so a layer whose table does not exist yet can be added): see :func:`publish_views`.
"""

from __future__ import annotations

import logging

from sqlalchemy import Connection, create_engine, text

from geomap.layers.base import Layer
from geomap.layers.registry import LAYERS
from geomap.sql import PUBLIC_VISIBLE, literal, q

SCHEMA = "ogc"
#: The geometry column of every view (OGC API clients call it ``geometry``: see geomap/ogc/collection.py).
GEOMETRY_COLUMN = "geom"
log = logging.getLogger(__name__)


def view_sql(layer: Layer) -> list[str]:
    """Statements that (re)create the public view of ``layer`` and describe it in Vietnamese."""
    cols = ", ".join(q(a.name) for a in layer.public_attributes)
    name = f"{SCHEMA}.{q(layer.name)}"
    return [
        f"DROP VIEW IF EXISTS {name}",
        f"CREATE VIEW {name} AS SELECT id, {cols}, updated_at, {GEOMETRY_COLUMN} FROM public.{q(layer.table)} "
        f"WHERE {PUBLIC_VISIBLE}",
        f"COMMENT ON VIEW {name} IS {literal(f'{layer.vi} — {layer.description_vi} ({layer.en})')}",
    ]


def sync_views(conn: Connection, layers: tuple[Layer, ...] = LAYERS) -> list[str]:
    """Create the ``ogc`` schema and one public view per layer whose table exists.

    Returns the names of the layers left out because their table is missing (a layer declared
    but not migrated yet); they are logged, not fatal.
    """
    conn.execute(text(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}"))
    missing = []
    for layer in layers:
        if conn.execute(text("SELECT to_regclass(:t)"), {"t": f"public.{q(layer.table)}"}).scalar() is None:
            missing.append(layer.name)
            log.warning("layer %s has no table yet: run `geomap db revision` and `geomap db upgrade`", layer.name)
            continue
        for stmt in view_sql(layer):
            conn.execute(text(stmt))
    return missing


def publish_views(url: str, layers: tuple[Layer, ...] = LAYERS) -> list[str]:
    """:func:`sync_views` in its own transaction on the database at ``url``."""
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            return sync_views(conn, layers)
    finally:
        engine.dispose()
