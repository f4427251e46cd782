"""Reading asset files: GeoJSON, GeoPackage, Shapefile (plain or zipped) and CSV with coordinates or WKT.

Every reader returns a :class:`Source` per layer: its frames in EPSG:4326, read a slice at a time
(GeoJSON, GeoPackage and Shapefile stream through GDAL's Arrow interface, so a national file is
never held whole and its parsing overlaps validation), and a label that names the file (and the
GeoPackage layer) in error messages. A file in another CRS (its .prj, GeoPackage
or GeoJSON CRS; for a CSV a sidecar ``name.prj``) is reprojected with :mod:`geomap.crs`; a file
without a CRS whose coordinates are not degrees is refused.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import shapely

from geomap import crs
from geomap.errors import FieldProblem, InvalidInput, LoadError, UnknownLayerError
from geomap.io.csvcells import restore_frame
from geomap.io.shapefile import restore_names
from geomap.layers.base import Layer
from geomap.layers.registry import UnknownLayer, get_layer

LON_NAMES = ("lon", "lng", "longitude", "x", "kinh_do")
LAT_NAMES = ("lat", "latitude", "y", "vi_do")
WKT_NAMES = ("wkt", "geometry", "geom")


def _layer(name: str, label: str) -> Layer:
    try:
        return get_layer(name)
    except UnknownLayer as exc:
        raise UnknownLayerError(f"{label}: {exc}") from None


#: Features per frame read from GDAL: the size of a validation slice (geomap.io.validate).
READ_ROWS = 100_000

#: Drivers that know their feature count without reading the file (GeoJSON's is a full pass).
_COUNTED = (".gpkg", ".zip", ".shp")


@dataclass
class Source:
    """One layer of one file: frames in EPSG:4326 (read as they are iterated, once) and, when the
    format knows it without a pass over the data, the number of features."""

    layer: Layer
    frames: Iterator[gpd.GeoDataFrame]
    label: str
    count: int | None = None


def read_source(path: Path, layer_name: str | None = None) -> list[Source]:
    """The layers of one file. The layer comes from ``layer_name`` or the file name.

    Problems found before reading (no such file, an unknown layer, an unreadable GeoPackage) are
    raised here; problems in the data itself (a broken feature, no features, coordinates that
    are not degrees) are raised while the frames are read, inside the load's transaction.
    """
    path = Path(path)
    label = str(path)
    if not path.exists():
        raise LoadError(f"{label}: no such file")
    if path.stat().st_size == 0:
        raise LoadError(f"{label}: the file is empty")
    suffix = path.suffix.lower()
    if suffix in (".gpkg", ".zip"):
        return _read_layers(path, label, layer_name)
    layer = _layer(layer_name or path.name.split(".")[0], label)
    if suffix == ".csv":
        frame = _read_csv(path, label)
        return [Source(layer, iter([frame]), label, len(frame))]
    if suffix in (".geojson", ".json", ".shp"):
        return [Source(layer, _ogr_frames(str(path), label, layer), label, _count(str(path), suffix))]
    raise LoadError(f"{label}: unsupported file type '{suffix}' (use .geojson, .gpkg, .shp, a zipped Shapefile or .csv)")


def _read_layers(path: Path, label: str, layer_name: str | None) -> list[Source]:
    """Each layer of a GeoPackage, or each Shapefile in a .zip."""
    source = f"/vsizip/{path}" if path.suffix.lower() == ".zip" else str(path)
    try:
        names = [row[0] for row in pyogrio.list_layers(source)]
    except Exception as exc:  # pyogrio raises several types for broken files
        raise LoadError(f"{label}: not a readable {path.suffix.lstrip('.')} file", log_detail=str(exc)) from None
    kind = "zip file" if path.suffix.lower() == ".zip" else "GeoPackage"
    if not names:
        raise LoadError(f"{label}: this {kind} holds no layers (a zip needs the .shp, .shx, .dbf and .prj at its top)")
    out = []
    for name in names:
        if layer_name and name != layer_name and len(names) > 1:
            continue
        layer = _layer(layer_name or name, label)
        out.append(Source(layer, _ogr_frames(source, f"{label} (layer {name})", layer, name), f"{label}:{name}",
                          _count(source, path.suffix.lower(), name)))
    if not out:
        raise LoadError(f"{label}: no layer named '{layer_name}' in this {kind} (it has: {', '.join(names)})")
    return out


def _count(source: str, suffix: str, layer: str | None = None) -> int | None:
    """The feature count, when the format stores it; None when only reading the file would tell."""
    if suffix not in _COUNTED:
        return None
    try:
        count = pyogrio.read_info(source, layer=layer)["features"]
    except Exception:  # pyogrio raises several types for broken files; reading will say what is wrong
        return None
    return count if count >= 0 else None


def _ogr_frames(source: str, label: str, layer: Layer, name: str | None = None) -> Iterator[gpd.GeoDataFrame]:
    """The features of ``source`` (its layer ``name``), :data:`READ_ROWS` at a time, in EPSG:4326,
    with dBASE-truncated field names restored. GDAL parses the next batch without holding the GIL."""
    what = Path(source).suffix.lstrip(".")
    n = 0
    try:
        with pyogrio.open_arrow(source, layer=name, batch_size=READ_ROWS, use_pyarrow=True) as (meta, reader):
            json_fields = [f for f, sub in zip(meta["fields"], meta["ogr_subtypes"]) if sub == "OFSTJSON"]
            for batch in reader:
                if batch.num_rows:
                    n += batch.num_rows
                    yield restore_names(_to_wgs84(_frame(batch, json_fields), label), layer)
    except LoadError:
        raise
    except Exception as exc:  # pyogrio raises several types for broken files
        raise LoadError(f"{label}: not a readable {what} file", log_detail=str(exc)) from None
    if n == 0:
        raise LoadError(f"{label}: the file holds no features")


def _frame(batch, json_fields: list[str]) -> gpd.GeoDataFrame:
    """A GeoDataFrame of one Arrow batch, as ``pyogrio.read_dataframe`` would give it: text fields
    GDAL marks as JSON (nested objects in a GeoJSON) are parsed, so validation refuses them as text."""
    frame = gpd.GeoDataFrame.from_arrow(batch)
    for field in json_fields:
        try:
            frame[field] = frame[field].astype(object).map(json.loads, na_action="ignore")
        except ValueError:  # not JSON after all: left as text, as pyogrio does
            pass
    return frame


def _to_wgs84(gdf: gpd.GeoDataFrame, label: str) -> gpd.GeoDataFrame:
    """``gdf`` in EPSG:4326: reprojected from its own CRS, or refused when it has none and is not in degrees."""
    geoms = gdf.geometry.to_numpy()
    if gdf.crs is None:
        if not crs.looks_like_degrees(geoms):
            raise LoadError(
                f"{label}: the file has no coordinate reference system and its coordinates are not degrees; "
                "add the .prj (for a CSV: a .prj with the same name), e.g. VN-2000 / TM-3 from QGIS, and load again"
            )
    elif gdf.crs.to_epsg() != 4326:
        try:
            geoms = crs.reproject(geoms, gdf.crs.to_wkt(), 4326)
        except Exception as exc:  # pyproj raises several types for impossible transformations
            raise LoadError(f"{label}: cannot reproject from {gdf.crs.name} to WGS 84", log_detail=str(exc)) from None
    gdf = gpd.GeoDataFrame(gdf.drop(columns=gdf.geometry.name), geometry=geoms, crs=4326)
    return gdf.reset_index(drop=True)


def _read_csv(path: Path, label: str) -> gpd.GeoDataFrame:
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8-sig")
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise LoadError(f"{label}: not a readable CSV file", log_detail=str(exc)) from None
    if len(df) == 0:
        raise LoadError(f"{label}: the file holds no rows")
    df = restore_frame(df)  # geomap's own CSV exports quote formula-like text cells
    cols = {c.lower(): c for c in df.columns}
    lon = next((cols[n] for n in LON_NAMES if n in cols), None)
    lat = next((cols[n] for n in LAT_NAMES if n in cols), None)
    wkt = next((cols[n] for n in WKT_NAMES if n in cols), None)
    if lon and lat:
        x = pd.to_numeric(df[lon], errors="coerce").to_numpy(dtype=float)
        y = pd.to_numeric(df[lat], errors="coerce").to_numpy(dtype=float)
        problems = [
            FieldProblem(name, f"{df.at[i, col]!r} is not a number", int(i))
            for name, col, values in (("lon", lon, x), ("lat", lat, y))
            for i in np.flatnonzero(np.isnan(values) & df[col].notna().to_numpy() & (df[col].str.lower() != "nan").to_numpy())
        ]
        if problems:
            raise InvalidInput(problems, source=label)
        geoms = shapely.points(x, y)
        df = df.drop(columns=[lon, lat] + ([wkt] if wkt else []))  # geomap's CSVs carry both
    elif wkt:
        try:
            geoms = shapely.from_wkt(df[wkt].to_numpy(dtype=object), on_invalid="raise")
        except shapely.errors.GEOSException as exc:
            raise LoadError(f"{label}: column '{wkt}' holds text that is not WKT", log_detail=str(exc)) from None
        df = df.drop(columns=[wkt])
    else:
        raise LoadError(f"{label}: a CSV needs lon/lat (or longitude/latitude, x/y) columns, or a WKT column")
    prj = path.with_suffix(".prj")
    try:
        frame = gpd.GeoDataFrame(df, geometry=geoms, crs=prj.read_text(encoding="utf-8", errors="replace") if prj.exists() else None)
    except pyproj.exceptions.CRSError as exc:
        raise LoadError(f"{label}: {prj.name} does not describe a coordinate reference system", log_detail=str(exc)) from None
    return _to_wgs84(frame, label)
