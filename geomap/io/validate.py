"""Validating a whole frame of features against its layer, before anything is written."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd
from pydantic import ValidationError

from geomap.errors import FieldProblem, InvalidInput
from geomap.geometry import check_geometries
from geomap.io.columns import clean_columns, model_fields, put_rows
from geomap.io.staging import stage_frame
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
    (up to a thousand). Columns are checked as a whole (:mod:`geomap.io.columns`); only rows with a
    value those checks cannot settle go through the layer's pydantic model, one by one.
    """
    geom_col = gdf.geometry.name
    attrs = pd.DataFrame(gdf.drop(columns=[geom_col])).reset_index(drop=True)
    attrs = attrs.drop(columns=[c for c in attrs.columns if c in EXPORT_ONLY or getattr(layer.find(c), "server", False)])
    clean, unsettled = clean_columns(layer, attrs)
    if set(attrs.columns) - set(model_fields(layer)):  # unknown fields: every row says so
        unsettled[:] = True
    rows, problems = _validate_rows(layer, attrs, np.flatnonzero(unsettled))
    put_rows(clean, layer, rows)
    geoms, geom_problems = check_geometries(layer, gdf.geometry.to_numpy(dtype=object), repair=repair,
                                            max_vertices=max_vertices)
    problems.extend(geom_problems)
    problems.extend(_duplicates(clean, "code"))
    problems.extend(_duplicates(clean, "id"))
    if problems:
        problems.sort(key=lambda p: (p.index if p.index is not None else -1, p.field))
        raise InvalidInput(problems[:MAX_PROBLEMS], source=source)
    return stage_frame(layer, clean, geoms)


def _validate_rows(layer: Layer, attrs: pd.DataFrame, positions: np.ndarray) -> tuple[dict[int, dict], list[FieldProblem]]:
    """The given rows through the pydantic model: their clean values, and every problem found."""
    model = properties_model(layer)
    rows: dict[int, dict] = {}
    problems: list[FieldProblem] = []
    for i, rec in zip(positions, _records(attrs.iloc[positions])):
        try:
            rows[int(i)] = model.model_validate(rec).model_dump()
        except ValidationError as exc:
            problems.extend(problems_from(exc, index=int(i), layer=layer))
        if len(problems) >= MAX_PROBLEMS:
            break
    return rows, problems


def _duplicates(frame: pd.DataFrame, col: str) -> list[FieldProblem]:
    """Values of ``col`` repeated in the file, each named with the feature that has it first."""
    values = frame[col]
    dup = (values.notna() & values.duplicated(keep="first")).to_numpy()
    if not dup.any():
        return []
    repeated = set(values[dup])
    first: dict = {}
    for i, v in values[values.isin(repeated)].items():
        first.setdefault(v, i)
    return [
        FieldProblem(col, f"{values[i]!s} appears again in this file (first at feature {first[values[i]]})", int(i))
        for i in np.flatnonzero(dup)
    ]
