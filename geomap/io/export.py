"""``geomap export``: one layer to GeoJSON, GeoPackage, CSV, KML or a zipped Shapefile, public attributes
by default, in any CRS of :mod:`geomap.crs` (KML is always WGS 84), optionally with Vietnamese labels."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely
from sqlalchemy import Engine, text

from geomap import crs
from geomap.crs import CrsEntry
from geomap.io.csvcells import neutralise_frame
from geomap.io.kml import add_styles
from geomap.io.shapefile import write_zipped
from geomap.layers.base import Layer
from geomap.sql import in_box_sql, q

Format = Literal["geojson", "gpkg", "csv", "kml", "shp"]
DRIVERS = {"geojson": "GeoJSON", "gpkg": "GPKG", "csv": "CSV", "kml": "KML", "shp": "ESRI Shapefile"}
SUFFIXES = {"shp": "zip"}
# GeoPackage 1.2: what GDAL 3.6 (Debian 12's QGIS and ogrinfo) opens without a warning.
DATASET_OPTIONS = {"gpkg": {"VERSION": "1.2"}, "kml": {"NameField": "name", "DescriptionField": "code"}}
MEDIA_TYPES = {
    "shp": "application/zip",
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


def write_frame(
    gdf: gpd.GeoDataFrame, layer: Layer, fmt: Format, out: Path, target: CrsEntry | None = None, labels: str | None = None
) -> Path:
    """Write ``gdf`` (EPSG:4326) to ``out`` in ``fmt``, reprojected to ``target`` (x = longitude/easting).

    CSV is UTF-8 with a BOM, has lon/lat (x/y when projected) for points and a WKT column GDAL reads;
    text cells a spreadsheet would run as a formula are neutralised (:mod:`geomap.io.csvcells`).
    ``labels="vi"``/``"en"`` writes enum values as their labels. A Shapefile goes out zipped.
    """
    out = Path(out)
    if out.exists():
        out.unlink()
    target = crs.STORAGE if target is None or fmt == "kml" else target
    gdf = with_labels(gdf, layer, labels) if labels else gdf
    geoms = crs.reproject(gdf.geometry.to_numpy(), 4326, target.epsg)
    gdf = gpd.GeoDataFrame(gdf.drop(columns="geometry"), geometry=geoms, crs=target.epsg)
    if fmt == "csv":
        _write_csv(gdf, layer, target, out)
    elif fmt == "shp":
        write_zipped(gdf, layer, out)
    else:
        layer_options = {"WRITE_NAME": "NO"} if fmt == "geojson" else None
        dataset_options = DATASET_OPTIONS.get(fmt)
        pyogrio.write_dataframe(  # through Arrow, so date columns stay Date fields
            gdf, out, layer=layer.name, driver=DRIVERS[fmt], layer_options=layer_options, dataset_options=dataset_options,
            use_arrow=fmt == "gpkg",
        )
        if fmt == "kml":
            add_styles(out, layer)
    return out


def _write_csv(gdf: gpd.GeoDataFrame, layer: Layer, target: CrsEntry, out: Path) -> None:
    frame = pd.DataFrame(gdf.drop(columns="geometry"))
    if layer.geometry == "Point":
        x, y = ("lon", "lat") if target.geographic else ("x", "y")
        frame[x] = gdf.geometry.x
        frame[y] = gdf.geometry.y
    frame["WKT"] = shapely.to_wkt(gdf.geometry.to_numpy(), rounding_precision=-1)
    neutralise_frame(frame).to_csv(out, index=False, encoding="utf-8-sig")


def with_labels(gdf: gpd.GeoDataFrame, layer: Layer, lang: str) -> gpd.GeoDataFrame:
    """A copy of ``gdf`` whose enum columns hold their ``lang`` labels instead of stored values."""
    gdf = gdf.copy()
    for attr in layer.all_attributes:
        if attr.kind == "enum" and attr.name in gdf.columns:
            gdf[attr.name] = gdf[attr.name].map(lambda v, a=attr: a.choice_label(v, lang) if isinstance(v, str) else v)
    return gdf


def export_layer(
    engine: Engine,
    layer: Layer,
    fmt: Format,
    out: Path,
    bbox: tuple[float, float, float, float] | None = None,
    include_private: bool = False,
    target: CrsEntry | None = None,
    labels: str | None = None,
) -> int:
    """Export ``layer`` to ``out``; return the number of features written."""
    gdf = read_layer(engine, layer, bbox=bbox, include_private=include_private)
    write_frame(gdf, layer, fmt, out, target=target, labels=labels)
    return len(gdf)
