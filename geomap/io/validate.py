"""Validating a file's features against their layer, a slice at a time, before anything is committed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator

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


#: Features validated at a time. The load copies each slice to the database while the next one is
#: validated (:func:`geomap.io.load.load_file`): Python's work on one core, PostgreSQL's on the other.
SLICE_ROWS = 100_000


def validate_slices(layer: Layer, frames: Iterable[gpd.GeoDataFrame], source: str, repair: bool = False,
                    max_vertices: int | None = None, rows: int | None = None) -> Iterator[pd.DataFrame]:
    """Validate every feature of ``frames`` (a file's, as read), ``rows`` (default
    :data:`SLICE_ROWS`) at a time; yield each slice as a frame ready for staging, and raise
    :class:`InvalidInput` after the last one if any feature has a problem.

    A frame has ``idx`` (feature index in the file), the staging columns and ``geom`` as hex EWKB.
    Problems name the feature index, the field and the reason; all are reported at once (up to a
    thousand), and no slice is yielded once one is found. Ids and codes repeated anywhere in the
    file are found after the last slice. Columns are checked as a whole (:mod:`geomap.io.columns`);
    only rows with a value those checks cannot settle go through the layer's pydantic model.
    """
    problems: list[FieldProblem] = []
    keys: dict[str, list[pd.Series]] = {"code": [], "id": []}
    for start, part in _slices(frames, rows or SLICE_ROWS):
        clean, geoms, found = _validate_slice(layer, part, start, repair, max_vertices)
        problems.extend(found)
        for col, parts in keys.items():
            parts.append(clean[col].set_axis(pd.RangeIndex(start, start + len(clean))))
        if len(problems) >= MAX_PROBLEMS:
            break
        if not problems:
            yield stage_frame(layer, clean, geoms, start)
    for col, parts in keys.items():
        if parts:
            problems.extend(_duplicates(pd.concat(parts).to_frame(col), col))
    if problems:
        problems.sort(key=lambda p: (p.index if p.index is not None else -1, p.field))
        raise InvalidInput(problems[:MAX_PROBLEMS], source=source)


def _slices(frames: Iterable[gpd.GeoDataFrame], rows: int) -> Iterator[tuple[int, gpd.GeoDataFrame]]:
    """``(index in the file of the first feature, slice)`` of at most ``rows`` features each."""
    start = 0
    for frame in frames:
        for lo in range(0, len(frame), rows):
            part = frame.iloc[lo:lo + rows]
            yield start, part
            start += len(part)


def _validate_slice(layer: Layer, gdf: gpd.GeoDataFrame, start: int, repair: bool,
                    max_vertices: int | None) -> tuple[pd.DataFrame, np.ndarray, list[FieldProblem]]:
    """Features ``start`` … of the file: their clean columns, geometries and problems."""
    geom_col = gdf.geometry.name
    attrs = pd.DataFrame(gdf.drop(columns=[geom_col])).reset_index(drop=True)
    attrs = attrs.drop(columns=[c for c in attrs.columns if c in EXPORT_ONLY or getattr(layer.find(c), "server", False)])
    clean, unsettled = clean_columns(layer, attrs)
    if set(attrs.columns) - set(model_fields(layer)):  # unknown fields: every row says so
        unsettled[:] = True
    rows, problems = _validate_rows(layer, attrs, np.flatnonzero(unsettled), start)
    put_rows(clean, layer, rows)
    geoms, geom_problems = check_geometries(layer, gdf.geometry.to_numpy(dtype=object),
                                            indexes=np.arange(start, start + len(gdf)), repair=repair,
                                            max_vertices=max_vertices)
    return clean, geoms, problems + geom_problems


def _validate_rows(layer: Layer, attrs: pd.DataFrame, positions: np.ndarray,
                   start: int = 0) -> tuple[dict[int, dict], list[FieldProblem]]:
    """The given rows through the pydantic model: their clean values (by position), and every
    problem found (by feature index, ``start`` + position)."""
    model = properties_model(layer)
    rows: dict[int, dict] = {}
    problems: list[FieldProblem] = []
    for i, rec in zip(positions, _records(attrs.iloc[positions])):
        try:
            rows[int(i)] = model.model_validate(rec).model_dump()
        except ValidationError as exc:
            problems.extend(problems_from(exc, index=start + int(i), layer=layer))
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
