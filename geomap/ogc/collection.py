"""A layer's OGC collection: tipg's PostGIS collection with geomap's filter rules.

* ``S_INTERSECTS(geometry, BBOX(…))`` works: the cql2 library writes a ``BBOX`` literal as
  ``ST_MakeEnvelope`` without an SRID (PostGIS then refuses "mixed SRID"), so bounding boxes
  become GeoJSON polygons, which it writes in EPSG:4326 as CQL2 says (Part 3, Req 7).
* The geometry queryable is called ``geometry`` (as OGC API – Features Part 3 and 5 expect);
  the views' column is ``geom``, which a filter may name too.
* ``variety=ri6,monthong`` matches either value, as ``/api/v1`` does, for enum, number and
  reference properties (free text may hold commas, so it is compared whole).
"""

from __future__ import annotations

from typing import Any, Optional

from cql2 import Expr
from tipg.collections import PgCollection

from geomap.layers.base import Layer
from geomap.layers.registry import get_layer
from geomap.ogc.views import GEOMETRY_COLUMN

#: The name OGC API clients use for the primary geometry (queryables, CQL2 filters).
GEOMETRY_QUERYABLE = "geometry"
#: Attribute kinds whose query parameter may list several values separated by commas.
MULTI_VALUE_KINDS = ("enum", "int", "ref")


def _bbox_polygon(box: list[float]) -> dict:
    """A CQL2 ``BBOX`` (2D or 3D) as a GeoJSON polygon."""
    west, south, east, north = (box[0], box[1], box[3], box[4]) if len(box) == 6 else box
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


def rewrite_cql(node: Any) -> Any:
    """A cql2-json tree with BBOX literals as polygons and ``geometry`` as the views' geometry column."""
    if isinstance(node, dict):
        if set(node) == {"bbox"} and isinstance(node["bbox"], list) and len(node["bbox"]) in (4, 6):
            return _bbox_polygon(node["bbox"])
        if set(node) == {"property"} and node["property"] == GEOMETRY_QUERYABLE:
            return {"property": GEOMETRY_COLUMN}
        return {k: rewrite_cql(v) for k, v in node.items()}
    if isinstance(node, list):
        return [rewrite_cql(item) for item in node]
    return node


def split_values(layer: Layer, name: str, raw: str) -> list[str]:
    """The values a query parameter asks for: several, comma-separated, where the attribute allows it."""
    attr = layer.find(name)
    if attr is not None and attr.kind in MULTI_VALUE_KINDS:
        return [v.strip() for v in raw.split(",") if v.strip()]
    return [raw]


class LayerCollection(PgCollection):
    """The public view of one layer, filtered the way geomap filters everywhere else."""

    @property
    def layer(self) -> Layer:
        """The registry's layer of this collection."""
        return get_layer(self.id)

    def cql_where(self, ids=None, datetime=None, bbox=None, properties=None, cql: Optional[Expr] = None,
                  geom=None, dt=None, tile=None, tms=None) -> Optional[Expr]:
        """tipg's WHERE, with geomap's CQL2 rewrites and multi-value property parameters."""
        exprs = [Expr(rewrite_cql(cql.to_json()))] if cql is not None else []
        single = []
        for name, raw in properties or []:
            values = split_values(self.layer, name, raw)
            if len(values) > 1:  # equalities, not IN: a text array would not compare with uuid or integer columns
                exprs.append(Expr({"op": "or", "args": [{"op": "=", "args": [{"property": name}, v]} for v in values]}))
            else:
                single.append((name, values[0] if values else raw))
        if exprs:
            cql = exprs[0]
            for more in exprs[1:]:
                cql = cql + more
        else:
            cql = None
        return super().cql_where(ids=ids, datetime=datetime, bbox=bbox, properties=single or None, cql=cql,
                                 geom=geom, dt=dt, tile=tile, tms=tms)
