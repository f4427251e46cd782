"""The loader's column-wise checks agree with the layer's pydantic model on every value they settle.

Each row of a frame is a valid feature with one field replaced by an awkward value. For every row
the vectorised rules settle, the value must be exactly what the model makes of it; every row the
model refuses must be left unsettled (so it reaches the model and its message). And the common
values must be settled, or the fast path would silently be the slow one.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
import uuid

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from pydantic import ValidationError

from geomap.io.columns import clean_columns, model_fields
from geomap.io.validate import _records
from geomap.layers.registry import get_layer
from geomap.schemas import properties_model

UID = "0bb90982-9e80-4156-be8e-47167b8c22d7"
NFD = unicodedata.normalize("NFD", "Chuồng Bò")

TREE = {"code": "DL-1", "name": "Cây 1", "province": "Đắk Lắk", "commune": "xã Ea Kiết", "variety": "ri6"}
TREE_VALUES = {
    "variety": ["ri6", "RI6", " Ri6 ", "Chuồng Bò", NFD, "chuong bo", "", None, 5, "unknown", "Musang King"],
    "health": ["khoe", "Khỏe", "KHỎE", "healthy", "", None, "sick", 3.0],
    "status": ["hoat_dong", "Hỏng", "Retired", "", None, "x"],
    "planting_year": [2015, 2015.0, 2015.5, "2015", " 2015", "02015", "abc", 1949, 2101, None, True, np.nan, "1e3", "-5"],
    "height_m": [13.7, "13.7", 0, -1, 50, 50.1, "inf", float("inf"), "nan", ".5", "5.", "1e1", " 5", None, "", "1,5"],
    "gps_accuracy_m": [0, 0.0, 10_000, 10_001, "3", -0.0, 1e-9],
    "code": ["DL-1", " DL-1 ", "DL 1", "", None, "a" * 65, "x\x00y", 123, "Đ-1", "A.b_c-9"],
    "name": ["Cây", "  ", None, "Ca\u0300y", 5, "Tên\n", "\tx\t"],
    "notes": ["x" * 2000, "x" * 2001, "", None, "ghi chú", 1.5],
    "id": [UID, UID.upper(), UID.replace("-", ""), "{" + UID + "}", "nope", None, "", uuid.UUID(UID)],
    "farm_id": [UID, "x", None, UID.upper()],
    "farm_code": [" DL-EAKIET-0004 ", "", None, 7],
}
WIFI = {"code": "W-1", "name": "Wifi", "province": "Ninh Bình", "commune": "xã Đồng Hướng", "venue": "Nhà văn hóa"}
WIFI_VALUES = {
    "installed_on": ["2024-01-05", "2024-02-30", "05/01/2024", dt.date(2024, 1, 5), dt.datetime(2024, 1, 5),
                     dt.datetime(2024, 1, 5, 13, 30), pd.Timestamp("2024-01-05"), None, "", "2024-1-5", 20240105],
}


def _cases(base: dict, values: dict) -> pd.DataFrame:
    rows = [dict(base)]
    for field, options in values.items():
        rows.extend({**base, field: v} for v in options)
    return pd.DataFrame(rows, dtype=object)


def _plain(value):
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    return value


def _check(layer_name: str, frame: pd.DataFrame) -> int:
    layer = get_layer(layer_name)
    model = properties_model(layer)
    clean, unsettled = clean_columns(layer, frame)
    settled = 0
    for i, rec in enumerate(_records(frame)):
        try:
            expected = model.model_validate(rec).model_dump()
        except ValidationError:
            assert unsettled[i], f"row {i} {rec} is refused by the model but was settled column-wise"
            continue
        if unsettled[i]:
            continue
        settled += 1
        for field in model_fields(layer):
            got, want = _plain(clean.at[i, field]), _plain(expected[field])
            assert got == want and type(got) is type(want), (i, field, rec.get(field), got, want)
    return settled


def test_settled_tree_values_are_what_the_model_makes_of_them():
    frame = _cases(TREE, TREE_VALUES)
    assert _check("durian_trees", frame) > 0


def test_common_values_are_settled_without_the_model():
    """Labels in any case or normal form, numbers written as text, upper-case UUIDs, padded text:
    the fast path takes them all (otherwise it would silently be the slow one)."""
    common = {"variety": ["RI6", " Chuồng Bò ", NFD, "Musang King"], "health": ["Khỏe", "sau_benh", None, "Healthy"],
              "planting_year": ["2015", 2015, 2015.0, None], "height_m": ["13.7", ".5", 50, None],
              "id": [UID.upper(), UID, None, None], "code": [" DL-1 ", "DL-2", "DL-3", "A.b_c-9"],
              "notes": ["Ca\u0300y", None, "ghi chú", "x" * 2000]}
    frame = pd.DataFrame({**{k: [v] * 4 for k, v in TREE.items()}, **common}, dtype=object)
    _, unsettled = clean_columns(get_layer("durian_trees"), frame)
    assert not unsettled.any()
    assert _check("durian_trees", frame) == 4


def test_typed_columns_too():
    """Columns as pyogrio gives them: numbers as int64/float64 (NaN for missing), dates as datetime64."""
    frame = pd.DataFrame({**{k: [v] * 6 for k, v in TREE.items()},
                          "planting_year": [2015, 1949, 2100, np.nan, 2015.5, 1950],
                          "height_m": [13.7, 0.0, np.nan, np.inf, 50.0, 1e-3]})
    assert _check("durian_trees", frame) == 3
    dates = pd.DataFrame({**{k: [v] * 3 for k, v in WIFI.items()},
                          "installed_on": pd.to_datetime(["2024-01-05", None, "2024-01-05 10:00"], format="ISO8601")})
    assert _check("wifi_points", dates) == 2


def test_settled_dates_are_what_the_model_makes_of_them():
    frame = _cases(WIFI, WIFI_VALUES)
    assert _check("wifi_points", frame) >= 4


@pytest.mark.parametrize("unknown", ["colour", "Vĩ độ"])
def test_an_unknown_column_leaves_no_row_settled_by_the_loader(tmp_path, unknown):
    """Validation sends every row to the model when a column is not a field (each row says so)."""
    from geomap.errors import InvalidInput
    from geomap.io.validate import validate_slices
    import geopandas as gpd
    import shapely

    layer = get_layer("wifi_points")
    gdf = gpd.GeoDataFrame({**{k: [v] * 3 for k, v in WIFI.items()}, unknown: ["x", None, "y"]},
                           geometry=[shapely.Point(106.04, 20.07)] * 3, crs=4326)
    gdf["code"] = ["W-1", "W-2", "W-3"]
    with pytest.raises(InvalidInput) as err:
        list(validate_slices(layer, [gdf], "t.geojson"))
    assert sorted(p.index for p in err.value.problems) == [0, 1, 2]
    assert {p.field for p in err.value.problems} == {unknown}


def test_arrow_string_columns_agree_too():
    """pyogrio gives text as Arrow-backed strings, which take Arrow's kernels: the same answers."""
    settled = 0
    for base, values, layer in ((TREE, TREE_VALUES, "durian_trees"), (WIFI, WIFI_VALUES, "wifi_points")):
        for field, options in values.items():
            texts = [v for v in options if v is None or isinstance(v, str)]
            frame = pd.DataFrame([{**base, field: v} for v in texts]).astype("string[pyarrow]")
            assert isinstance(frame[field].dtype, pd.StringDtype)
            settled += _check(layer, frame)
    assert settled > 30


def test_columns_of_few_distinct_values_are_cleaned_once_per_value_with_the_same_answers():
    """A million trees hold a handful of provinces, varieties and health values: an Arrow column of
    few distinct values is cleaned once per value and spread back. Row by row it must give exactly
    what cleaning every row gives (values, types and which rows go to the model)."""
    settled = 0
    for base, values, layer_name in ((TREE, TREE_VALUES, "durian_trees"), (WIFI, WIFI_VALUES, "wifi_points")):
        layer = get_layer(layer_name)
        rows = [{**base, field: v} for field, options in values.items() for v in options if v is None or isinstance(v, str)]
        many = pd.DataFrame(rows * 30).astype("string[pyarrow]")  # ≥ 64 rows, ≤ 1 distinct value in 4
        each, each_unsettled = clean_columns(layer, many.iloc[:2])  # too short to be grouped
        whole, unsettled = clean_columns(layer, many)
        alone = [clean_columns(layer, many.iloc[[i]]) for i in range(len(rows))]
        for i in range(len(rows)):
            row, row_unsettled = alone[i]
            assert unsettled[i] == row_unsettled[0], (i, rows[i])
            if unsettled[i]:
                continue  # the model decides this row; its clean values are not used
            settled += 1
            for field in model_fields(layer):
                got, want = _plain(whole.at[i, field]), _plain(row.at[0, field])
                assert got == want and type(got) is type(want), (i, field, got, want)
        assert (unsettled[:len(rows)] == unsettled[len(rows):2 * len(rows)]).all()
        joined = pd.concat([many.iloc[:7 * len(rows)], many.iloc[7 * len(rows):]], ignore_index=True)
        assert pa.array(joined["province"].array).num_chunks == 2  # a column of two Arrow chunks
        again, again_unsettled = clean_columns(layer, joined)
        assert (again_unsettled == unsettled).all() and again.astype(object).equals(whole.astype(object))
        assert len(each) == 2 and not each_unsettled.all()
    assert settled > 30


def test_points_are_staged_as_the_bytes_shapely_writes():
    """A file of points is staged through one NumPy buffer instead of shapely's ``to_wkb``: the
    same EWKB (SRID 4326) for every point; polygons and anything else still go through shapely."""
    import shapely

    from geomap.io.staging import _ewkb, _ewkb_column

    rng = np.random.default_rng(7)
    points = shapely.points(rng.uniform(-180, 180, 500), rng.uniform(-90, 90, 500))
    points[:3] = [shapely.Point(108.123456789012, 12.7), shapely.Point(-0.0, 0.0), shapely.Point(1e-300, -1e300)]
    fast = _ewkb_column(points)
    assert isinstance(fast.dtype, pd.StringDtype)
    assert list(fast) == [h.lower() for h in _ewkb(points)]
    assert shapely.equals(shapely.from_wkb(list(fast)), points).all()
    assert shapely.get_srid(shapely.from_wkb(fast[0])) == 4326
    farms = np.array([shapely.box(108, 12, 108.01, 12.01), shapely.Point(1, 2)], dtype=object)
    measured = np.array([shapely.from_wkt("POINT M (108 12 3)"), shapely.Point(108, 12)], dtype=object)
    assert list(_ewkb_column(measured)) == list(_ewkb(measured))  # an M value is not dropped
    assert list(_ewkb_column(farms)) == list(_ewkb(farms))
