"""The staging table: every write (a file, a batch, one field create or patch) is first copied
into a per-connection temporary table, checked there in SQL, then applied in one statement.

This module owns the table's name and columns, how validated records become its rows, and how
they get there: files by ``COPY`` (text as quoted CSV, NULL an unquoted empty field, so any text —
including a literal ``\\N`` or an empty string — round-trips byte for byte), the few rows of a
field write as one ``INSERT`` of a JSON array (strings are JSON strings, so the same holds).
"""

from __future__ import annotations

import binascii
import hashlib
import io
import json
from collections.abc import Iterable
from functools import lru_cache

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import shapely
from sqlalchemy import Connection, text

from geomap import prepared
from geomap.layers.base import Layer
from geomap.schemas import ref_code_field
from geomap.sql import q

COPY_CHUNK = 100_000


def staging_columns(layer: Layer) -> list[str]:
    """Columns of the staging table, in order (without ``idx`` and ``geom``)."""
    cols = ["id"]
    for attr in layer.writable_attributes:
        cols.append(attr.name)
        if attr.kind == "ref":
            cols.append(ref_code_field(attr))
    return cols


@lru_cache(maxsize=None)
def stage_table(layer: Layer) -> str:
    """Name of the staging table for ``layer``: temporary, one per connection, emptied at every
    commit. The name carries a digest of the columns, so a migration gets a fresh table."""
    digest = hashlib.sha1(",".join(staging_columns(layer)).encode()).hexdigest()[:8]
    return f"geomap_stage_{layer.name}_{digest}"


def _table_columns(layer: Layer) -> set[str]:
    return {"id"} | {a.name for a in layer.writable_attributes}


@lru_cache(maxsize=None)
def _empty_stage_sql(layer: Layer) -> str:
    """The statements that make sure this connection's staging table for ``layer`` exists and is empty.

    The table lives as long as the pooled connection (``ON COMMIT DELETE ROWS``), so a field write
    does not pay for creating and dropping a table and its catalogue entries every time.
    """
    cols = staging_columns(layer)
    stage, table = stage_table(layer), q(layer.table)
    select = ", ".join(("NULL::text AS " + q(c)) if c not in _table_columns(layer) else q(c) for c in cols)
    return ("SET LOCAL client_min_messages = warning; "
            f"CREATE TEMP TABLE IF NOT EXISTS {stage} ON COMMIT DELETE ROWS AS "
            f"SELECT 0::int AS idx, {select}, geom FROM {table} WITH NO DATA; "
            f"DELETE FROM {stage}")  # empty already, unless staged before in this same transaction


def _prepare(conn: Connection, layer: Layer) -> str:
    """Make sure the staging table exists and is empty (one round trip); return its COPY statement."""
    conn.exec_driver_sql(_empty_stage_sql(layer))
    # CSV with the default NULL (an unquoted empty field): quoted values are never NULL.
    return f"COPY {stage_table(layer)} ({', '.join(q(c) for c in _row_columns(layer))}) FROM STDIN WITH (FORMAT csv)"


def copy_to_stage(conn: Connection, layer: Layer, frames: Iterable[pd.DataFrame], progress=None) -> int:
    """Prepare the staging table and COPY ``frames`` (from :func:`stage_frame`) into it, each as
    it comes (the load validates the next slice meanwhile); return the number of rows copied.

    The CSV is written by Arrow's C++ writer, column by column: every value quoted, NULL an
    unquoted empty field.
    """
    copy_sql = _prepare(conn, layer)
    options = pa_csv.WriteOptions(include_header=False, quoting_style="all_valid")
    raw = conn.connection.dbapi_connection
    copied = 0
    with raw.cursor() as cur:
        for frame in frames:
            table = pa.Table.from_pandas(frame, preserve_index=False)
            for start in range(0, table.num_rows, COPY_CHUNK):
                chunk = table.slice(start, COPY_CHUNK)
                buf = io.BytesIO()
                pa_csv.write_csv(chunk, buf, options)
                buf.seek(0)
                cur.copy_expert(copy_sql, buf)
                copied += chunk.num_rows
                if progress is not None:
                    progress.update(chunk.num_rows)
    conn.execute(text(f"ANALYZE {stage_table(layer)}"))
    return copied


def rows_step(layer: Layer, rows: list[list]) -> prepared.Step:
    """The statement that stages a few rows (a field write), to run first in the round trip of the
    checks that read them (:func:`geomap.io.write.resolve_references`): the table made ready as
    for a file, the rows as one JSON array (``COPY`` is two more exchanges with the server, and
    held the backend waiting on the client for 4.4 ms per create under load).

    The staging table needs statistics even for one row: without them the planner guesses it
    large and joins it to a million-row layer by scanning the layer (seconds instead of ms). It is
    analysed when its statistics describe a different number of rows than this write stages
    (``geomap_analyze_stale``, migration 0010), so a stream of single creates on one connection
    analyses it once.

    Each row is ``[idx, *staging_columns(layer), geom_hex_ewkb]``; None becomes NULL.
    """
    names = _row_columns(layer)
    payload = json.dumps([dict(zip(names, row)) for row in rows], default=str, ensure_ascii=False)
    return prepared.Step(_stage_rows_sql(layer), {"rows": payload, "n": len(rows)}, prepare=False)


def _row_columns(layer: Layer) -> list[str]:
    """The staging table's columns in row order: ``idx``, :func:`staging_columns`, ``geom``."""
    return ["idx", *staging_columns(layer), "geom"]


@lru_cache(maxsize=None)
def _stage_rows_sql(layer: Layer) -> str:
    stage = stage_table(layer)
    cols = ", ".join(q(c) for c in _row_columns(layer))
    return (f"{_empty_stage_sql(layer)}; INSERT INTO {stage} ({cols}) SELECT {cols} "
            f"FROM json_populate_recordset(NULL::{stage}, CAST(:rows AS json)); "
            f"SELECT geomap_analyze_stale('pg_temp.{stage}'::regclass, CAST(:n AS bigint))")


def _ewkb(geoms) -> np.ndarray:
    return shapely.to_wkb(shapely.set_srid(np.asarray(geoms, dtype=object), 4326), hex=True, include_srid=True)


#: EWKB of a 2D point in WGS 84: a 9-byte head — byte order (1 = little-endian), geometry type 1
#: with the SRID flag (0x20000000), SRID 4326 — then x and y as little-endian doubles.
_POINT_EWKB = np.dtype([("head", "S9"), ("x", "<f8"), ("y", "<f8")])
_POINT_HEAD = bytes.fromhex("0101000020e6100000")


def _ewkb_column(geoms) -> pd.Series:
    """Hex EWKB of ``geoms`` (SRID 4326) as a column for :func:`copy_to_stage`.

    A file of points (a million trees) is laid out in one NumPy record array and hex-encoded as one
    buffer, straight into an Arrow string column: 0.1 s per million against 3.3 s for shapely's
    ``set_srid`` and ``to_wkb`` (a new geometry and a Python string per point). Anything else (a
    polygon, an empty point, one with Z or M) goes through shapely; a test holds the two to the same bytes.
    """
    geoms = np.asarray(geoms, dtype=object)
    points = (len(geoms) > 0 and bool((shapely.get_type_id(geoms) == 0).all())
              and not (shapely.has_z(geoms) | shapely.has_m(geoms) | shapely.is_empty(geoms)).any())
    if not points:
        return pd.Series(_ewkb(geoms), dtype=object)
    xy = shapely.get_coordinates(geoms)
    rows = np.empty(len(geoms), dtype=_POINT_EWKB)
    rows["head"], rows["x"], rows["y"] = _POINT_HEAD, xy[:, 0], xy[:, 1]
    width = 2 * _POINT_EWKB.itemsize  # hex: two characters a byte
    offsets = np.arange(0, width * (len(geoms) + 1), width, dtype=np.int64)
    text = pa.LargeStringArray.from_buffers(len(geoms), pa.py_buffer(offsets), pa.py_buffer(binascii.hexlify(rows.tobytes())))
    return pd.Series(pd.arrays.ArrowStringArray(text))


def _is_id(col: str) -> bool:
    return col == "id" or col.endswith("_id")


def stage_frame(layer: Layer, records: pd.DataFrame, geoms, start: int = 0) -> pd.DataFrame:
    """Validated columns (:func:`geomap.io.columns.clean_columns`, ids already text) + geometries →
    a frame :func:`copy_to_stage` takes; ``start``: the file's index of the first feature."""
    out = records[staging_columns(layer)].copy()
    out.insert(0, "idx", np.arange(start, start + len(out)))
    out["geom"] = _ewkb_column(geoms).set_axis(out.index)
    return out


def stage_rows(layer: Layer, records: list[dict], geoms, indexes: list[int]) -> list[list]:
    """Validated records → rows for :func:`rows_step` (few features)."""
    cols = staging_columns(layer)
    return [
        [idx, *(None if rec.get(c) is None else (str(rec[c]) if _is_id(c) else rec[c]) for c in cols), g]
        for idx, rec, g in zip(indexes, records, _ewkb(geoms))
    ]
