"""Export: formats, public attributes only, bbox, and load → export → load round trips."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from sqlalchemy import text

from geomap.io.export import export_layer, read_layer
from geomap.io.load import load_file
from geomap.layers.registry import get_layer

FARMS = get_layer("farms")
TREES = get_layer("durian_trees")


def _table(engine, layer):
    with engine.connect() as conn:
        return conn.execute(text(f'SELECT * FROM "{layer}" ORDER BY id')).mappings().all()


@pytest.mark.parametrize("fmt", ["geojson", "gpkg", "csv"])
def test_round_trip_changes_nothing(loaded, tmp_path, fmt):
    for layer in ("farms", "durian_trees", "wifi_points", "border_markers"):
        lyr = get_layer(layer)
        before = _table(loaded, layer)
        out = tmp_path / f"{layer}.{fmt}"
        n = export_layer(loaded, lyr, fmt, out, include_private=True)
        assert n == len(before)
        [result] = load_file(loaded, out)
        assert (result.inserted, result.updated, result.unchanged) == (0, 0, n), (layer, fmt)
        assert _table(loaded, layer) == before


def test_round_trip_into_an_empty_database(loaded, tmp_path):
    exported = {}
    for layer in ("farms", "durian_trees"):
        exported[layer] = tmp_path / f"{layer}.gpkg"
        export_layer(loaded, get_layer(layer), "gpkg", exported[layer], include_private=True)
    before = {layer: _table(loaded, layer) for layer in exported}
    with loaded.begin() as conn:
        conn.execute(text("TRUNCATE durian_trees, farms, asset_history CASCADE"))
    for layer in ("farms", "durian_trees"):
        load_file(loaded, exported[layer])
    after = {layer: _table(loaded, layer) for layer in exported}
    keep = [c for c in before["durian_trees"][0].keys() if c not in ("created_at", "updated_at", "created_by", "updated_by")]
    for layer in exported:
        assert [{k: r[k] for k in keep if k in r} for r in after[layer]] == [
            {k: r[k] for k in keep if k in r} for r in before[layer]
        ]


def test_public_export_has_no_personal_data(loaded, tmp_path):
    for fmt in ("geojson", "gpkg", "csv", "kml"):
        out = tmp_path / f"farms.{fmt}"
        export_layer(loaded, FARMS, fmt, out)
        body = out.read_bytes()
        with loaded.connect() as conn:
            owner, phone = conn.execute(text("SELECT owner_name, owner_phone FROM farms LIMIT 1")).one()
        assert phone.encode() not in body and owner.encode() not in body, fmt
        assert b"owner_phone" not in body and b"owner_name" not in body
        assert b"planting_area_code" in body or fmt == "kml"
    gdf = read_layer(loaded, FARMS)
    assert "owner_phone" not in gdf.columns and "area_ha" in gdf.columns
    private = read_layer(loaded, FARMS, include_private=True)
    assert private["owner_phone"].notna().all()


def test_bbox_export_and_types(loaded, tmp_path):
    bbox = (108.29, 12.70, 108.32, 12.73)
    out = tmp_path / "durian_trees.gpkg"
    n = export_layer(loaded, TREES, "gpkg", out, bbox=bbox)
    with loaded.connect() as conn:
        expected = conn.execute(
            text("SELECT count(*) FROM durian_trees WHERE geom && ST_MakeEnvelope(108.29, 12.70, 108.32, 12.73, 4326)")
        ).scalar_one()
    assert 0 < n == expected < 10_000
    gdf = gpd.read_file(out)
    assert len(gdf) == n
    assert gdf.geometry.x.between(108.29, 108.32).all() and gdf.geometry.y.between(12.70, 12.73).all()
    assert pd.api.types.is_integer_dtype(gdf["planting_year"])
    assert set(gdf["variety"]) <= {"ri6", "monthong", "musang_king", "chuong_bo", "sau_huu", "khac"}
