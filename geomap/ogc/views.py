"""Views in schema ``ogc`` that hold only public columns of live assets, one per layer.

tipg publishes exactly these views, so personal data (farm owners' names and phones) cannot be
reached through ``/ogc`` whatever the query. The views are (re)made from the registry after every
migration (``geomap db upgrade`` and ``geomap serve``), so a new layer gets its view too.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from geomap.layers.base import Layer
from geomap.layers.registry import LAYERS
from geomap.services.features import PUBLIC_VISIBLE

SCHEMA = "ogc"


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def view_sql(layer: Layer) -> list[str]:
    """Statements that (re)create the public view of ``layer`` and describe it in Vietnamese."""
    cols = ", ".join(_q(a.name) for a in layer.public_attributes)
    name = f"{SCHEMA}.{_q(layer.name)}"
    return [
        f"DROP VIEW IF EXISTS {name}",
        f"CREATE VIEW {name} AS SELECT id, {cols}, updated_at, geom FROM public.{_q(layer.table)} "
        f"WHERE {PUBLIC_VISIBLE}",
        f"COMMENT ON VIEW {name} IS {_literal(f'{layer.vi} — {layer.description_vi} ({layer.en})')}",
    ]


def sync_views(conn: Connection) -> None:
    """Create the ``ogc`` schema and one public view per registered layer."""
    conn.execute(text(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}"))
    for layer in LAYERS:
        for stmt in view_sql(layer):
            conn.execute(text(stmt))
