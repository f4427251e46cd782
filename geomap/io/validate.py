"""Validating a whole frame of features against its layer, before anything is written."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd
from pydantic import ValidationError

from geomap.errors import FieldProblem, InvalidInput
from geomap.geometry import check_geometries
from geomap.io.staging import stage_frame, staging_columns
from geomap.layers.base import Layer
from geomap.layers.common import SERVER_OWNED
from geomap.schemas import properties_model, problems_from

#: Columns an export writes that a load ignores (server-owned, or derived on export).
EXPORT_ONLY = set(SERVER_OWNED)

MAX_PROBLEMS = 1000


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


def validate_frame(layer: Layer, gdf: gpd.GeoDataFrame, source: str, repair: bool = False,
                   max_vertices: int | None = None) -> pd.DataFrame:
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
    geoms, geom_problems = check_geometries(layer, gdf.geometry.to_numpy(dtype=object), repair=repair,
                                            max_vertices=max_vertices)
    problems.extend(geom_problems)
    out = pd.DataFrame(clean, columns=staging_columns(layer))
    problems.extend(_duplicates(out, "code"))
    problems.extend(_duplicates(out, "id"))
    if problems:
        problems.sort(key=lambda p: (p.index if p.index is not None else -1, p.field))
        raise InvalidInput(problems[:MAX_PROBLEMS], source=source)
    return stage_frame(layer, out, geoms)


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
