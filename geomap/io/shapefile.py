"""Shapefile specifics: 10-character field names both ways, and a zipped export with .prj and .cpg."""

from __future__ import annotations

import zipfile
from pathlib import Path

import geopandas as gpd
import pyogrio

from geomap.layers.base import Layer

SIDECARS = (".shp", ".shx", ".dbf", ".prj", ".cpg")


def short_names(layer: Layer) -> dict[str, str]:
    """Attribute name → the 10-character dBASE field name it is written under."""
    return {a.name: a.name[:10] for a in layer.all_attributes if len(a.name) > 10}


def restore_names(gdf: gpd.GeoDataFrame, layer: Layer) -> gpd.GeoDataFrame:
    """Rename truncated dBASE field names back to the layer's attribute names."""
    back = {short: full for full, short in short_names(layer).items() if short in gdf.columns and full not in gdf.columns}
    return gdf.rename(columns=back) if back else gdf


def write_zipped(gdf: gpd.GeoDataFrame, layer: Layer, out: Path) -> Path:
    """Write ``gdf`` (already in its target CRS) as a zipped Shapefile: .shp .shx .dbf .prj and a UTF-8 .cpg."""
    folder = out.parent / f"{out.stem}-shp"
    folder.mkdir(exist_ok=True)
    shp = folder / f"{layer.name}.shp"
    frame = gdf.rename(columns=short_names(layer))
    pyogrio.write_dataframe(frame, shp, driver="ESRI Shapefile", encoding="UTF-8", use_arrow=True)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for suffix in SIDECARS:
            part = shp.with_suffix(suffix)
            if part.exists():
                archive.write(part, part.name)
                part.unlink()
    folder.rmdir()
    return out
