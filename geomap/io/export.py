"""``geomap export``: one layer to GeoJSON, GeoPackage, CSV or KML, public attributes by default."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely
from sqlalchemy import Engine, text

from geomap.io.csvcells import neutralise_frame
from geomap.layers.base import Layer
from geomap.sql import in_box_sql, q

Format = Literal["geojson", "gpkg", "csv", "kml"]
DRIVERS = {"geojson": "GeoJSON", "gpkg": "GPKG", "csv": "CSV", "kml": "KML"}
MEDIA_TYPES = {
    "geojson": "application/geo+json",
    "gpkg": "application/geopackage+sqlite3",
    "csv": "text/csv; charset=utf-8",
    "kml": "application/vnd.google-earth.kml+xml",
}


def export_columns(layer: Layer, include_private: bool = False) -> list[str]:
    """Columns an export carries: id, then attributes (public only unless asked)."""
    attrs = layer.all_attributes if include_private else layer.public_attributes
    return ["id"] + [a.name for a in attrs]


def read_layer(
    engine: Engine,
    layer: Layer,
    bbox: tuple[float, float, float, float] | None = None,
    include_private: bool = False,
    where_sql: list[str] | None = None,
    where_values: dict | None = None,
) -> gpd.GeoDataFrame:
    """Live assets of ``layer`` as a GeoDataFrame, within ``bbox`` and/or extra bound conditions."""
    cols = ", ".join(q(c) for c in export_columns(layer, include_private))
    where = " AND ".join(["deleted_at IS NULL", *(where_sql or [])])
    params: dict = dict(where_values or {})
    if bbox is not None:
        where += " AND " + in_box_sql(":x0", ":y0", ":x1", ":y1")
        params.update(zip(("x0", "y0", "x1", "y1"), bbox))
    sql = f"SELECT {cols}, geom FROM {q(layer.table)} WHERE {where} ORDER BY code"
    with engine.connect() as conn:
        gdf = gpd.read_postgis(text(sql), conn, geom_col="geom", params=params, crs=4326)
    for attr in layer.all_attributes:
        if attr.name in gdf.columns and attr.kind == "date":
            gdf[attr.name] = pd.to_datetime(gdf[attr.name]).dt.date
    return gdf.rename_geometry("geometry")


def write_frame(gdf: gpd.GeoDataFrame, layer: Layer, fmt: Format, out: Path) -> Path:
    """Write ``gdf`` to ``out`` in ``fmt``; CSV gets lon/lat for points and WKT for polygons, and
    text cells that a spreadsheet would run as a formula are neutralised (:mod:`geomap.io.csvcells`)."""
    out = Path(out)
    if out.exists():
        out.unlink()
    if fmt == "csv":
        frame = pd.DataFrame(gdf.drop(columns="geometry"))
        if layer.geometry == "Point":
            frame["lon"] = gdf.geometry.x
            frame["lat"] = gdf.geometry.y
        else:
            frame["wkt"] = shapely.to_wkt(gdf.geometry.to_numpy(), rounding_precision=-1)
        neutralise_frame(frame).to_csv(out, index=False, encoding="utf-8")
        return out
    layer_options = {"WRITE_NAME": "NO"} if fmt == "geojson" else None
    dataset_options = {"NameField": "name", "DescriptionField": "code"} if fmt == "kml" else None
    pyogrio.write_dataframe(
        gdf, out, layer=layer.name, driver=DRIVERS[fmt], layer_options=layer_options, dataset_options=dataset_options
    )
    return out


def export_layer(
    engine: Engine,
    layer: Layer,
    fmt: Format,
    out: Path,
    bbox: tuple[float, float, float, float] | None = None,
    include_private: bool = False,
) -> int:
    """Export ``layer`` to ``out``; return the number of features written."""
    gdf = read_layer(engine, layer, bbox=bbox, include_private=include_private)
    write_frame(gdf, layer, fmt, out)
    return len(gdf)
