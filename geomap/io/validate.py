"""Validating a whole frame of features against its layer, before anything is written."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pydantic import ValidationError

from geomap.errors import FieldProblem, InvalidInput
from geomap.geometry import check_geometries
from geomap.layers.base import Layer
from geomap.layers.common import SERVER_OWNED
from geomap.schemas import properties_model, problems_from, ref_code_field

#: Columns an export writes that a load ignores (server-owned, or derived on export).
EXPORT_ONLY = set(SERVER_OWNED)

MAX_PROBLEMS = 1000


def staging_columns(layer: Layer) -> list[str]:
    """Columns of the staging table, in order (without ``idx`` and ``geom``)."""
    cols = ["id"]
    for attr in layer.writable_attributes:
        cols.append(attr.name)
        if attr.kind == "ref":
            cols.append(ref_code_field(attr))
    return cols


def _records(frame: pd.DataFrame) -> list[dict]:
    frame = frame.astype(object).where(frame.notna(), None)
    records = frame.to_dict("records")
    for rec in records:
        for key, value in rec.items():
            if isinstance(value, pd.Timestamp):
                rec[key] = value.date() if value == value.normalize() else value.to_pydatetime()
            elif isinstance(value, dt.datetime) and value.time() == dt.time(0):
                rec[key] = value.date()
            elif isinstance(value, float) and np.isnan(value):
                rec[key] = None
    return records


def validate_frame(layer: Layer, gdf: gpd.GeoDataFrame, source: str, repair: bool = False) -> pd.DataFrame:
    """Validate every feature; return a frame ready for staging or raise :class:`InvalidInput`.

    The frame has ``idx`` (feature index in the file), the staging columns and ``geom`` as
    hex EWKB. Problems name the feature index, the field and the reason; all are reported at once
    (up to a thousand).
    """
    problems: list[FieldProblem] = []
    geom_col = gdf.geometry.name
    attrs = pd.DataFrame(gdf.drop(columns=[geom_col]))
    attrs = attrs.drop(columns=[c for c in attrs.columns if c in EXPORT_ONLY or getattr(layer.find(c), "server", False)])
    model = properties_model(layer)
    clean: list[dict] = []
    for i, rec in enumerate(_records(attrs)):
        try:
            clean.append(model.model_validate(rec).model_dump())
        except ValidationError as exc:
            problems.extend(problems_from(exc, index=i, layer=layer))
            clean.append({})
        if len(problems) >= MAX_PROBLEMS:
            break
    geoms, geom_problems = check_geometries(layer, gdf.geometry.to_numpy(dtype=object), repair=repair)
    problems.extend(geom_problems)
    out = pd.DataFrame(clean, columns=staging_columns(layer))
    problems.extend(_duplicates(out, "code"))
    problems.extend(_duplicates(out, "id"))
    if problems:
        problems.sort(key=lambda p: (p.index if p.index is not None else -1, p.field))
        raise InvalidInput(problems[:MAX_PROBLEMS], source=source)
    return stage_frame(layer, out, geoms)


def stage_frame(layer: Layer, records: pd.DataFrame | list[dict], geoms) -> pd.DataFrame:
    """Validated records + geometries → the frame :func:`geomap.io.write.copy_to_stage` takes."""
    out = pd.DataFrame(records, columns=staging_columns(layer))
    for col in out.columns:
        if col == "id" or col.endswith("_id"):
            out[col] = out[col].map(lambda v: None if v is None or v != v else str(v))
    out.insert(0, "idx", np.arange(len(out)))
    out["geom"] = shapely.to_wkb(shapely.set_srid(np.asarray(geoms, dtype=object), 4326), hex=True, include_srid=True)
    return out


def stage_rows(layer: Layer, records: list[dict], geoms, indexes: list[int]) -> list[list]:
    """Validated records → rows for :func:`geomap.io.write.copy_rows_to_stage` (few features)."""
    cols = staging_columns(layer)
    ewkb = shapely.to_wkb(shapely.set_srid(np.asarray(geoms, dtype=object), 4326), hex=True, include_srid=True)
    return [
        [idx, *(None if rec.get(c) is None else (str(rec[c]) if c == "id" or c.endswith("_id") else rec[c]) for c in cols), g]
        for idx, rec, g in zip(indexes, records, ewkb)
    ]


def _duplicates(frame: pd.DataFrame, col: str) -> list[FieldProblem]:
    values = frame[col]
    dup = values.notna() & values.duplicated(keep="first")
    first = {}
    for i, v in values[values.notna()].items():
        first.setdefault(v, i)
    return [
        FieldProblem(col, f"{values[i]!s} appears again in this file (first at feature {first[values[i]]})", int(i))
        for i in np.flatnonzero(dup.to_numpy())
    ]
