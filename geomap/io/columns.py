"""Column-wise validation of a file's attributes: the loader's fast path.

Checking a million features one pydantic call at a time costs about a minute. Here each column is
checked and normalised as a whole (NumPy/pandas string operations) for the values a vectorised
rule can settle with certainty: stored enum values and their labels, plain numbers in range, plain
ISO dates, canonical UUIDs, text without NUL within its length and pattern. Every other value —
anything unusual, wrong or ambiguous — marks its row, and the loader validates exactly those rows
with the layer's pydantic model (:func:`geomap.schemas.properties_model`), which stays the one
definition of what is valid and the one source of error messages.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from geomap.layers.base import Attr, Layer
from geomap.schemas import ref_code_field

_UUID = r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$"
_INT = r"^[0-9]{1,9}$"
_FLOAT = r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$"
_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


def _nfc(text: pd.Series) -> pd.Series:
    """NFC-normalised ``text``; Arrow's kernel for Arrow-backed strings (pandas would loop in Python)."""
    if isinstance(text.dtype, pd.StringDtype) and text.dtype.storage == "pyarrow":
        return pd.Series(pd.array(pc.utf8_normalize(pa.array(text.array), form="NFC"), dtype=text.dtype), index=text.index)
    return text.str.normalize("NFC")


class Column:
    """Cleaned values of one column and which rows the vectorised rules could not settle."""

    def __init__(self, values: pd.Series, unsettled: np.ndarray) -> None:
        self.values = values
        self.unsettled = unsettled


def _strings(raw: pd.Series) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """``raw`` as strings where it holds strings; (strings, null mask, non-string mask)."""
    null = raw.isna().to_numpy()
    if isinstance(raw.dtype, pd.StringDtype):  # pyogrio's Arrow strings: string kernels, no Python per value
        return raw, null, np.zeros(len(raw), dtype=bool)
    if raw.dtype != object:
        return pd.Series([None] * len(raw), index=raw.index, dtype=object), null, ~null
    is_str = raw.map(type).to_numpy() == str
    strings = raw.where(is_str, None).astype(object)
    return strings, null, ~null & ~is_str


def _text(attr: Attr | None, raw: pd.Series, required: bool) -> Column:
    strings, null, odd = _strings(raw)
    text = strings.str.strip()
    odd |= text.str.contains("\x00", regex=False).fillna(False).to_numpy(dtype=bool)
    text = _nfc(text)
    empty = (text == "").fillna(False).to_numpy(dtype=bool)
    odd |= empty  # the model refuses a blank string, even in an optional field
    if attr is not None and attr.max_length:
        odd |= (text.str.len() > attr.max_length).fillna(False).to_numpy(dtype=bool)
    if attr is not None and attr.pattern:
        odd |= ~null & ~text.str.match(attr.pattern).fillna(False).to_numpy(dtype=bool)
    if required:
        odd |= null
    return Column(text.where(~odd, None), odd)


def _enum(attr: Attr, raw: pd.Series) -> Column:
    lookup = {unicodedata.normalize("NFC", key).casefold(): c.value for c in attr.choices for key in (c.value, c.vi, c.en)}
    strings, null, odd = _strings(raw)
    text = _nfc(strings.str.strip())
    blank = (text == "").fillna(False).to_numpy(dtype=bool)
    values = text.str.casefold().map(lookup)
    odd |= blank | (~null & values.isna().to_numpy())  # the model refuses a blank enum, even an optional one
    if attr.required:
        odd |= null
    return Column(values.where(~odd, None).astype(object), odd)


def _numbers(raw: pd.Series, pattern: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(float values, null mask, unsettled mask) of a numeric or string column."""
    null = raw.isna().to_numpy()
    if raw.dtype.kind in "iuf":
        return raw.to_numpy(dtype=float, na_value=np.nan), null, np.zeros(len(raw), dtype=bool)
    strings, null, odd = _strings(raw)
    types = raw.map(type)
    numeric = (types == int) | (types == float)  # Python numbers in a mixed column (bool is not one)
    plain = strings.str.match(pattern).fillna(False).to_numpy(dtype=bool)
    odd &= ~numeric.to_numpy()
    odd |= ~null & ~plain & ~numeric.to_numpy()
    text = pd.to_numeric(strings.where(plain, None), errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    values = np.where(numeric, pd.to_numeric(raw.where(numeric, None), errors="coerce"), text)
    return values.astype(float), null, odd


def _in_range(attr: Attr, values: np.ndarray) -> np.ndarray:
    ok = np.isfinite(values)
    with np.errstate(invalid="ignore"):
        if attr.ge is not None:
            ok &= values >= attr.ge
        if attr.gt is not None:
            ok &= values > attr.gt
        if attr.le is not None:
            ok &= values <= attr.le
    return ok


def _number(attr: Attr, raw: pd.Series) -> Column:
    values, null, odd = _numbers(raw, _INT if attr.kind == "int" else _FLOAT)
    odd |= ~null & ~_in_range(attr, values)
    if attr.kind == "int":
        odd |= ~null & (np.mod(values, 1) != 0)
    if attr.required:
        odd |= null
    settled = ~odd & ~null
    if attr.kind == "int":
        return Column(pd.Series(pd.array(np.where(settled, values, 0), dtype="Int64")).where(settled, pd.NA), odd)
    return Column(pd.Series(np.where(settled, values, np.nan)), odd)


def _date(attr: Attr, raw: pd.Series) -> Column:
    null = raw.isna().to_numpy()
    if raw.dtype.kind == "M":
        odd = ~null & (raw != raw.dt.normalize()).to_numpy()
        dates = raw.dt.date.astype(object)
    else:
        is_date = raw.map(lambda v: type(v) is dt.date).to_numpy()
        strings, null, odd = _strings(raw)
        parsed = pd.to_datetime(strings.where(strings.str.match(_DATE).fillna(False), None), format="%Y-%m-%d", errors="coerce")
        odd = (odd & ~is_date) | (~null & ~is_date & parsed.isna().to_numpy())
        dates = pd.Series(np.where(is_date, raw.astype(object), parsed.dt.date.astype(object)), index=raw.index)
    if attr.required:
        odd |= null
    return Column(dates.where(~odd & ~null, None).astype(object), odd)


def _uuid(raw: pd.Series) -> Column:
    strings, null, odd = _strings(raw)
    odd |= ~null & ~strings.str.match(_UUID).fillna(False).to_numpy(dtype=bool)
    return Column(strings.str.lower().where(~odd & ~null, None).astype(object), odd)


def _by_distinct(raw: pd.Series, clean: Callable[[pd.Series], Column]) -> Column:
    """``clean(raw)``, computed once per distinct value of an Arrow string column and spread back by
    position. A province, commune, team or enum column holds a handful of values in a million rows
    (each rule here looks at one value at a time, so the answer is the same); a column of mostly
    distinct values (codes, names) is cleaned as it is."""
    if not (isinstance(raw.dtype, pd.StringDtype) and raw.dtype.storage == "pyarrow") or len(raw) < 64:
        return clean(raw)
    values = pa.array(raw.array)
    if isinstance(values, pa.ChunkedArray):  # a column concatenated from several frames
        values = values.combine_chunks()
    first = values.slice(0, 1024)  # a first look, before hashing the whole column
    if _mostly_distinct(pc.count_distinct(first).as_py(), len(first)):
        return clean(raw)
    encoded = pc.dictionary_encode(values)
    if _mostly_distinct(len(encoded.dictionary), len(values)):
        return clean(raw)
    # Null rows point at a null appended to the distinct values (a required field refuses it).
    distinct = pa.concat_arrays([encoded.dictionary, pa.nulls(1, encoded.dictionary.type)])
    position = pc.fill_null(encoded.indices, len(encoded.dictionary)).to_numpy()
    column = clean(pd.Series(pd.array(distinct, dtype=raw.dtype)))
    return Column(column.values.take(position).set_axis(raw.index), column.unsettled[position])


def _mostly_distinct(distinct: int, rows: int) -> bool:
    """More than one distinct value in four rows: grouping by value would not pay."""
    return distinct * 4 > rows


def _column(field: str, attr: Attr | None, raw: pd.Series) -> Column:
    return _by_distinct(raw, lambda values: _clean(field, attr, values))


def _clean(field: str, attr: Attr | None, raw: pd.Series) -> Column:
    if attr is None:  # ``id`` or a reference's companion ``*_code`` field
        return _uuid(raw) if field == "id" else _text(None, raw, required=False)
    if attr.kind == "enum":
        return _enum(attr, raw)
    if attr.kind in ("int", "float"):
        return _number(attr, raw)
    if attr.kind == "date":
        return _date(attr, raw)
    if attr.kind == "ref":
        return _uuid(raw)
    return _text(attr, raw, attr.required)


def model_fields(layer: Layer) -> dict[str, Attr | None]:
    """The fields of the layer's properties model, each with its attribute (None: ``id``, ``*_code``)."""
    fields: dict[str, Attr | None] = {"id": None}
    for attr in layer.writable_attributes:
        fields[attr.name] = attr
        if attr.kind == "ref":
            fields[ref_code_field(attr)] = None
    return fields


def clean_columns(layer: Layer, attrs: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """Clean every field of ``attrs`` column by column.

    Returns the cleaned frame (one column per model field, in order; absent columns are null) and
    a boolean mask of the rows some value of which the vectorised rules could not settle.
    """
    attrs = attrs.reset_index(drop=True)
    out: dict[str, pd.Series] = {}
    unsettled = np.zeros(len(attrs), dtype=bool)
    for field, attr in model_fields(layer).items():
        raw = attrs[field] if field in attrs.columns else pd.Series([None] * len(attrs), dtype=object)
        column = _column(field, attr, raw)
        out[field] = column.values.reset_index(drop=True)
        unsettled |= column.unsettled
    return pd.DataFrame(out), unsettled


def put_rows(frame: pd.DataFrame, layer: Layer, rows: dict[int, dict]) -> None:
    """Write rows validated by the pydantic model into ``frame`` (from :func:`clean_columns`)."""
    if not rows:
        return
    positions = np.fromiter(rows, dtype=int, count=len(rows))
    for field, attr in model_fields(layer).items():
        values = [rows[int(i)].get(field) for i in positions]
        if attr is None or attr.kind == "ref":
            values = [None if v is None else str(v) for v in values]
        if attr is not None and attr.kind == "int":
            frame.loc[positions, field] = pd.array(values, dtype="Int64")
        elif attr is not None and attr.kind == "float":
            frame.loc[positions, field] = np.array([np.nan if v is None else v for v in values], dtype=float)
        else:
            column = frame[field].astype(object)
            column.iloc[positions] = values
            frame[field] = column


