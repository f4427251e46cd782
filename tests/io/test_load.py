"""The loader: sample data, idempotency, containment, area, and every bad input refused whole."""

from __future__ import annotations

import copy
import json
import math

import pyproj
import pytest
import shapely
from sqlalchemy import text

from geomap import history
from geomap.errors import InvalidInput, LoadError, UnknownLayerError
from geomap.io.load import load_file, load_paths
from geomap.layers.registry import LAYERS, get_layer
from tests.conftest import SAMPLE, new_id, sample_features, write_geojson

LAYER_FILES = sorted(SAMPLE.glob("*.geojson"))


def counts(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            name: conn.execute(text(f'SELECT count(*) FROM "{name}"')).scalar_one()
            for name in [*(layer.table for layer in LAYERS), "asset_history"]
        }


def snapshot(engine) -> list:
    with engine.connect() as conn:
        return conn.execute(
            text("SELECT id, code, version, updated_at, health, height_m, ST_AsText(geom) FROM durian_trees ORDER BY id")
        ).all()


def test_sample_data_loads_every_layer(loaded):
    c = counts(loaded)
    assert c["durian_trees"] == 10_000
    assert c["farms"] >= 20
    assert c["wifi_points"] >= 9 and c["digital_libraries"] >= 3
    assert c["border_markers"] >= 30 and c["heritage_sites"] >= 5
    with loaded.connect() as conn:
        outside = conn.execute(
            text("SELECT count(*) FROM durian_trees t JOIN farms f ON f.id = t.farm_id WHERE NOT ST_Covers(f.geom, t.geom)")
        ).scalar_one()
        dong_huong = conn.execute(
            text("SELECT count(*) FROM wifi_points WHERE commune = 'xã Đồng Hướng' AND village = 'xóm 4'")
        ).scalar_one()
        sick = conn.execute(text("SELECT count(*) FROM durian_trees WHERE health IN ('sau_benh', 'chet')")).scalar_one()
    assert outside == 0
    assert dong_huong == 1
    assert 0 < sick < 1000


@pytest.mark.parametrize("remembered", [True, False], ids=["same-file", "compared"])
def test_reloading_the_same_files_changes_nothing(loaded, remembered: bool):
    """Answered at once when the loader remembers the files; row by row when it does not, and
    then the rows that stay as they are are not touched at all: not even locked (a lock would
    set their ``xmax``, a write to every page of the layer)."""
    if not remembered:
        with loaded.begin() as conn:
            conn.execute(text("DELETE FROM loaded_files"))
    before_counts, before, before_xmax = counts(loaded), snapshot(loaded), row_xmax(loaded)
    results = load_paths(loaded, LAYER_FILES, actor="test")
    assert all(r.inserted == 0 and r.updated == 0 for r in results)
    assert all(r.same_file is remembered for r in results)
    assert sum(r.features for r in results if r.layer == "durian_trees") == 10_000
    assert counts(loaded) == before_counts
    assert snapshot(loaded) == before
    assert row_xmax(loaded) == before_xmax


def row_xmax(engine) -> dict[str, str]:
    with engine.connect() as conn:
        return dict(conn.execute(text("SELECT id::text, xmax::text FROM durian_trees")).all())


def test_any_write_since_the_last_load_makes_the_reload_run_in_full(loaded, tmp_path):
    """An edit is reverted, a hard-deleted tree comes back, an edited farm makes the file compare
    again (a tree that names no farm takes it by containment), and a file differing by one byte is
    read again."""
    trees = SAMPLE / "durian_trees.geojson"
    assert load_file(loaded, trees)[0].same_file
    with loaded.begin() as conn:
        edited = conn.execute(text("UPDATE durian_trees SET health = 'chet', version = version + 1, updated_at = now() "
                                   "WHERE code = (SELECT min(code) FROM durian_trees) RETURNING code")).scalar_one()
    [again] = load_file(loaded, trees)
    assert (again.same_file, again.updated, again.inserted) == (False, 1, 0)
    assert load_file(loaded, trees)[0].same_file  # and now it is remembered again
    with loaded.begin() as conn:
        conn.execute(text("DELETE FROM asset_history WHERE asset_id = (SELECT id FROM durian_trees WHERE code = :c)"), {"c": edited})
        conn.execute(text("DELETE FROM durian_trees WHERE code = :c"), {"c": edited})
    [back] = load_file(loaded, trees)
    assert (back.same_file, back.inserted) == (False, 1)
    with loaded.begin() as conn:
        conn.execute(text("UPDATE farms SET version = version + 1 WHERE code = (SELECT min(code) FROM farms)"))
    assert not load_file(loaded, trees)[0].same_file
    copy = tmp_path / "durian_trees.geojson"
    copy.write_bytes(trees.read_bytes() + b"\n")
    [other] = load_file(loaded, copy)
    assert (other.same_file, other.inserted, other.updated) == (False, 0, 0)


def test_a_loaded_asset_has_its_creation_in_the_history(loaded):
    """The bulk snapshot, expanded on read, gives every field the file set, the geometry included,
    and nothing the file did not set (no null fields, no staging-only columns)."""
    feature = sample_features("durian_trees")[5]
    with loaded.connect() as conn:
        [created, *_] = history.entries(conn, get_layer("durian_trees"), feature["id"])
    assert created["action"] == "create" and created["version"] == 1
    changes = created["changes"]
    set_in_file = {k: v for k, v in feature["properties"].items() if v is not None and k not in ("id", "farm_code")}
    for key, value in set_in_file.items():
        assert changes[key] == [None, value], key
    assert changes["id"] == [None, feature["id"]]
    assert changes["geom"][1]["type"] == "Point"
    assert changes["geom"][1]["coordinates"] == pytest.approx(feature["geometry"]["coordinates"])
    assert set(changes) - {"id", "geom"} <= set(set_in_file) | {"farm_id"}
    assert "idx" not in changes and "farm_code" not in changes


def test_a_feature_with_an_existing_code_updates_that_asset(loaded, tmp_path):
    tree = copy.deepcopy(sample_features("durian_trees")[0])
    tree.pop("id")  # matched by code alone
    old = dict(tree["properties"])
    new_health = "chet" if old["health"] != "chet" else "khoe"
    tree["properties"]["health"] = new_health
    tree["properties"]["height_m"] = 7.5
    [result] = load_file(loaded, write_geojson(tmp_path / "durian_trees.geojson", [tree]))
    assert (result.inserted, result.updated) == (0, 1)
    with loaded.connect() as conn:
        row = conn.execute(
            text("SELECT id, version, health, height_m FROM durian_trees WHERE code = :c"), {"c": tree["properties"]["code"]}
        ).one()
        change = conn.execute(
            text("SELECT action, changes FROM asset_history WHERE asset_id = :id AND version = 2"), {"id": row.id}
        ).one()
    assert str(row.id) == sample_features("durian_trees")[0]["id"]
    assert (row.version, row.health, row.height_m) == (2, new_health, 7.5)
    assert change.action == "update"
    assert change.changes["health"] == [old["health"], new_health]
    assert change.changes["height_m"] == [old["height_m"], 7.5]
    assert set(change.changes) == {"health", "height_m"}


def test_tree_without_farm_is_assigned_by_containment(loaded, tmp_path):
    farm = sample_features("farms")[3]
    inside = shapely.geometry.shape(farm["geometry"]).representative_point()
    tree = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [inside.x, inside.y]},
        "properties": {"code": "NEW-TREE-1", "name": "Cây mới", "province": "Đắk Lắk", "commune": "xã Ea Kly",
                       "variety": "Musang King", "health": "Khỏe"},
    }
    load_file(loaded, write_geojson(tmp_path / "durian_trees.geojson", [tree]))
    with loaded.connect() as conn:
        row = conn.execute(text("SELECT farm_id, variety, health FROM durian_trees WHERE code = 'NEW-TREE-1'")).one()
    assert (str(row.farm_id), row.variety, row.health) == (farm["id"], "musang_king", "khoe")


def test_the_first_failing_reference_check_is_the_one_reported(loaded, tmp_path):
    """A file with a tree naming an unknown farm code, one outside the farm it names and one outside
    every farm is refused for the first kind only, as when the checks ran one after another."""
    farm, other = sample_features("farms")[:2]
    far = shapely.geometry.shape(other["geometry"]).representative_point()
    trees = [dict(_tree(code="T-NOWHERE"), geometry={"type": "Point", "coordinates": [106.0, 20.0]}),
             dict(_tree(code="T-ELSEWHERE", farm_id=farm["id"]), geometry={"type": "Point", "coordinates": [far.x, far.y]}),
             _tree(code="T-UNKNOWN", farm_code="NO-SUCH-FARM")]
    for expected, index in (("no durian farm has code NO-SUCH-FARM", 2), ("outside durian farm", 1), ("outside every", 0)):
        with pytest.raises(InvalidInput) as err:
            load_file(loaded, write_geojson(tmp_path / "durian_trees.geojson", trees))
        assert [(p.index, expected in p.reason) for p in err.value.problems] == [(index, True)]
        trees = trees[:index]


def test_a_reload_checks_what_it_writes_not_the_rows_it_leaves_as_they_are(loaded, tmp_path):
    """A farm redrawn after its trees were loaded leaves a tree outside it. Reloading the unchanged
    file writes nothing and is not refused for that tree (the load compares before it checks, so a
    million unchanged rows cost no containment join); the same file with that tree changed is
    refused, naming it, and nothing is written."""
    trees = sample_features("durian_trees")
    tree = trees[0]
    with loaded.begin() as conn:
        conn.execute(text("DELETE FROM loaded_files"))
        conn.execute(text("UPDATE farms SET geom = ST_Multi(ST_Buffer(CAST(ST_Centroid(geom) AS geography), 1)::geometry), "
                          "version = version + 1, updated_at = now() WHERE id = :f"), {"f": tree["properties"]["farm_id"]})
    [again] = load_file(loaded, write_geojson(tmp_path / "durian_trees.geojson", trees))
    assert (again.same_file, again.inserted, again.updated, again.features) == (False, 0, 0, len(trees))
    before = snapshot(loaded)
    changed = copy.deepcopy(trees)
    changed[0]["properties"]["height_m"] = 9.5
    with pytest.raises(InvalidInput) as err:
        load_file(loaded, write_geojson(tmp_path / "durian_trees.geojson", changed))
    assert [(p.index, p.field) for p in err.value.problems] == [(0, "geometry")]
    farm = next(f for f in sample_features("farms") if f["id"] == tree["properties"]["farm_id"])
    assert err.value.problems[0].reason.endswith(f"outside durian farm {farm['properties']['code']}")
    assert snapshot(loaded) == before


def test_farm_area_is_computed_on_the_ellipsoid(loaded):
    geod = pyproj.Geod(ellps="WGS84")
    with loaded.connect() as conn:
        rows = {r.code: r.area_ha for r in conn.execute(text("SELECT code, area_ha FROM farms"))}
    for farm in sample_features("farms"):
        expected = abs(geod.geometry_area_perimeter(shapely.geometry.shape(farm["geometry"]))[0]) / 10_000
        assert math.isclose(rows[farm["properties"]["code"]], expected, rel_tol=1e-6)
        assert 0.5 <= expected <= 5.5


def _tree(**props) -> dict:
    farm = sample_features("farms")[0]
    p = shapely.geometry.shape(farm["geometry"]).representative_point()
    base = {"code": "T-NEW", "name": "Cây thử", "province": "Đắk Lắk", "commune": "xã Ea Kly", "variety": "ri6"}
    base.update(props)
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [p.x, p.y]}, "properties": base}


def _bad_cases():
    farm = sample_features("farms")[0]
    other = sample_features("farms")[1]
    bow_tie = {"type": "MultiPolygon", "coordinates": [[[[108.30, 12.70], [108.31, 12.71], [108.31, 12.70], [108.30, 12.71], [108.30, 12.70]]]]}
    far = shapely.geometry.shape(other["geometry"]).representative_point()
    return {
        "polygon in a point layer": ("durian_trees", [dict(_tree(), geometry=farm["geometry"])], "geometry", "expected a Point"),
        "point outside Vietnam, swapped": ("durian_trees", [dict(_tree(), geometry={"type": "Point", "coordinates": [12.71, 108.30]})], "geometry", "swapped"),
        "point outside Vietnam": ("wifi_points", [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [2.35, 48.85]}, "properties": {"code": "W1", "name": "Paris", "province": "x", "commune": "y", "venue": "z"}}], "geometry", "outside Vietnam"),
        "self-intersecting farm": ("farms", [{"type": "Feature", "geometry": bow_tie, "properties": {"code": "F-BAD", "name": "Vườn lỗi", "province": "Đắk Lắk", "commune": "xã Ea Kly", "owner_name": "A"}}], "geometry", "Self-intersection"),
        "missing required attribute": ("durian_trees", [_tree(variety=None)], "variety", "required"),
        "unknown variety": ("durian_trees", [_tree(variety="Durio Magicus")], "variety", "unknown value"),
        "negative height": ("durian_trees", [_tree(height_m=-3)], "height_m", "greater than 0"),
        "unknown field": ("durian_trees", [_tree(colour="green")], "colour", "not a field"),
        "tree outside every farm": ("durian_trees", [dict(_tree(), geometry={"type": "Point", "coordinates": [106.0, 20.0]})], "geometry", "outside every"),
        "tree outside the farm it names": ("durian_trees", [dict(_tree(farm_id=farm["id"]), geometry={"type": "Point", "coordinates": [far.x, far.y]})], "geometry", "outside"),
        "unknown farm code": ("durian_trees", [_tree(farm_code="NO-SUCH-FARM")], "farm_code", "no durian farm"),
        "duplicate code in one file": ("durian_trees", [_tree(), _tree()], "code", "appears again"),
        "code owned by another asset": ("durian_trees", [dict(_tree(code=sample_features("durian_trees")[0]["properties"]["code"]),
                                                              id="6f1c2d3e-4a5b-4c6d-8e7f-901a2b3c4d5e")], "code", "already belongs to another asset"),
        "planting year out of range": ("durian_trees", [_tree(planting_year=1800)], "planting_year", "greater than or equal"),
    }


@pytest.mark.parametrize("case", list(_bad_cases()))
def test_bad_input_is_refused_and_nothing_is_written(loaded, tmp_path, case):
    layer, features, field, reason = _bad_cases()[case]
    good = _tree(code="T-GOOD")
    if layer == "durian_trees":
        features = [good] + features  # a good feature first: it must not be written either
    before = counts(loaded)
    path = write_geojson(tmp_path / f"{layer}.geojson", features)
    with pytest.raises(InvalidInput) as info:
        load_file(loaded, path)
    problems = info.value.problems
    assert any(p.field == field and reason.lower() in p.reason.lower() for p in problems), problems
    assert str(path) in str(info.value)
    bad_index = len(features) - 1
    assert any(p.index == bad_index for p in problems)
    assert counts(loaded) == before


def test_a_file_is_validated_and_copied_in_slices(loaded, tmp_path, monkeypatch):
    """A file is read in batches and goes to the database a slice at a time while the next slice is
    validated (batches of 3 features, slices of 4, so slices span batches). Problems in any slice,
    codes repeated across slices and the database's own checks all name the feature's index in the
    file, and nothing is written unless every slice is good."""
    from geomap.io import read, validate

    monkeypatch.setattr(validate, "SLICE_ROWS", 4)
    monkeypatch.setattr(read, "READ_ROWS", 3)
    trees = [_tree(code=f"T-SLICE-{i}") for i in range(11)]
    path, before = tmp_path / "durian_trees.geojson", counts(loaded)
    bad = copy.deepcopy(trees)
    bad[9]["properties"]["health"] = "xanh lè"  # the third slice
    bad[6]["properties"]["code"] = "T-SLICE-1"  # the second slice repeats the first's
    with pytest.raises(InvalidInput) as info:
        load_file(loaded, write_geojson(path, bad))
    problems = {(p.index, p.field): p.reason for p in info.value.problems}
    assert set(problems) == {(6, "code"), (9, "health")}, problems
    assert "first at feature 1" in problems[6, "code"]
    assert counts(loaded) == before
    outside = copy.deepcopy(trees)
    outside[10]["geometry"] = {"type": "Point", "coordinates": [106.0, 20.0]}  # the last slice, outside every farm
    with pytest.raises(InvalidInput) as info:
        load_file(loaded, write_geojson(path, outside))
    assert [(p.index, p.field) for p in info.value.problems] == [(10, "geometry")]
    assert counts(loaded) == before
    [result] = load_file(loaded, write_geojson(path, trees))
    assert result.inserted == 11
    with loaded.connect() as conn:
        codes = conn.execute(text("SELECT code FROM durian_trees WHERE code LIKE 'T-SLICE-%'")).scalars().all()
    assert sorted(codes) == sorted(f"T-SLICE-{i}" for i in range(11))


def test_nan_and_infinite_coordinates_are_refused(loaded, tmp_path):
    before = counts(loaded)
    for token in ("NaN", "Infinity", "-Infinity"):
        path = tmp_path / "durian_trees.geojson"
        feature = json.dumps(_tree())
        feature = feature.replace(json.dumps(_tree()["geometry"]), '{"type": "Point", "coordinates": [%s, 12.7]}' % token)
        path.write_text('{"type": "FeatureCollection", "features": [%s]}' % feature)
        with pytest.raises((InvalidInput, LoadError)) as info:
            load_file(loaded, path)
        assert "finite" in str(info.value) or "not a readable" in str(info.value)
    csv = tmp_path / "wifi_points.csv"
    csv.write_text("code,name,province,commune,venue,lon,lat\nW9,Wifi,Ninh Bình,xã Đồng Hướng,NVH,nan,20.06\n", encoding="utf-8")
    with pytest.raises(InvalidInput) as info:
        load_file(loaded, csv)
    assert "finite" in str(info.value)
    assert counts(loaded) == before


def test_malformed_empty_and_unknown_files_are_refused(loaded, tmp_path):
    before = counts(loaded)
    broken = tmp_path / "durian_trees.geojson"
    broken.write_text('{"type": "FeatureCollection", "features": [{"type": ')
    with pytest.raises(LoadError, match="not a readable"):
        load_file(loaded, broken)
    empty = tmp_path / "farms.geojson"
    empty.write_text("")
    with pytest.raises(LoadError, match="empty"):
        load_file(loaded, empty)
    no_features = tmp_path / "wifi_points.geojson"
    no_features.write_text('{"type": "FeatureCollection", "features": []}')
    with pytest.raises(LoadError, match="no features"):
        load_file(loaded, no_features)
    unknown = write_geojson(tmp_path / "bridges.geojson", [_tree()])
    with pytest.raises(UnknownLayerError, match="unknown layer 'bridges'"):
        load_file(loaded, unknown)
    with pytest.raises(UnknownLayerError):
        load_file(loaded, write_geojson(tmp_path / "x.geojson", [_tree()]), layer_name="trees")
    assert counts(loaded) == before


def test_invalid_farm_is_repaired_only_when_asked(engine, tmp_path):
    bow_tie = {"type": "Polygon", "coordinates": [[[108.30, 12.70], [108.31, 12.71], [108.31, 12.70], [108.30, 12.71], [108.30, 12.70]]]}
    farm = {"type": "Feature", "geometry": bow_tie,
            "properties": {"code": "F-FIX", "name": "Vườn", "province": "Đắk Lắk", "commune": "xã Ea Kly", "owner_name": "A"}}
    path = write_geojson(tmp_path / "farms.geojson", [farm])
    with pytest.raises(InvalidInput):
        load_file(engine, path)
    [result] = load_file(engine, path, repair=True)
    assert result.inserted == 1
    with engine.connect() as conn:
        valid, kind, area = conn.execute(text("SELECT ST_IsValid(geom), GeometryType(geom), area_ha FROM farms")).one()
    assert valid and kind == "MULTIPOLYGON" and area > 0


def test_csv_and_geopackage_inputs(engine, tmp_path):
    csv = tmp_path / "wifi_points.csv"
    csv.write_text(
        "code,name,province,commune,village,venue,provider,installed_on,lon,lat\n"
        "NB-W-1,Wifi xóm 4,Ninh Bình,xã Đồng Hướng,xóm 4,Nhà văn hóa xóm 4,Viettel,2025-03-12,106.05,20.06\n",
        encoding="utf-8",
    )
    [result] = load_file(engine, csv)
    assert result.inserted == 1
    import geopandas as gpd

    gdf = gpd.read_file(SAMPLE / "heritage_sites.geojson")
    gpkg = tmp_path / "sites.gpkg"
    gdf.to_file(gpkg, layer="heritage_sites", driver="GPKG")
    [result] = load_file(engine, gpkg)
    assert result.inserted == len(gdf)
    with engine.connect() as conn:
        wifi = conn.execute(text("SELECT provider, installed_on::text, ST_X(geom) FROM wifi_points")).one()
    assert tuple(wifi) == ("viettel", "2025-03-12", 106.05)


def test_a_large_load_shows_its_progress_and_steps(loaded, capsys):
    """The bar names what the database is doing while it works (most of a large load's time). A
    GeoJSON's feature count is known only once it has been read; the bar then gets its total."""
    with loaded.begin() as conn:
        conn.execute(text("DELETE FROM loaded_files"))
    load_file(loaded, SAMPLE / "durian_trees.geojson", progress=True)
    err = capsys.readouterr().err
    assert "load durian_trees.geojson" in err
    assert "durian_trees: reading" in err and "durian_trees: checking" in err and "durian_trees: writing" in err
    assert "durian_trees: writing: 100%" in err and "20000/20000" in err  # every feature copied, then written


def _schema_of(engine, table: str) -> dict[str, tuple[int, str]]:
    """Index and foreign-key names of ``table`` → (oid, definition)."""
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT i.relname, i.oid, pg_get_indexdef(i.oid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
            "WHERE x.indrelid = CAST(:t AS regclass) UNION ALL "
            "SELECT conname, oid, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = CAST(:t AS regclass) AND contype = 'f'"
        ), {"t": table}).all()
    return {name: (oid, definition) for name, oid, definition in rows}


def test_a_first_large_load_builds_its_indexes_after_the_insert_and_a_failed_one_keeps_them(engine, monkeypatch, tmp_path):
    """10,000 trees into the empty layer: the spatial index, the B-trees, the search index and the
    farm foreign key are built again afterwards, exactly as the migrations declare them, and the
    key still holds and the search finds a loaded tree through its index.
    A load that fails after the insert leaves the layer as it was, indexes included; a load into a
    layer that has rows keeps its indexes as they are."""
    from geomap.io import write

    migrated = _schema_of(engine, "durian_trees")
    assert {"ix_durian_trees_geom", "ix_durian_trees_farm_id", "fk_durian_trees_farm_id_farms"} <= set(migrated)
    load_file(engine, SAMPLE / "farms.geojson")
    real = write._upsert

    def then_fail(*args, **kwargs):
        real(*args, **kwargs)
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(write, "_upsert", then_fail)
    with pytest.raises(RuntimeError):
        load_file(engine, SAMPLE / "durian_trees.geojson")
    assert _schema_of(engine, "durian_trees") == migrated
    monkeypatch.setattr(write, "_upsert", real)
    [result] = load_file(engine, SAMPLE / "durian_trees.geojson")
    assert result.inserted == 10_000
    built = _schema_of(engine, "durian_trees")
    assert {name: d for name, (_, d) in built.items()} == {name: d for name, (_, d) in migrated.items()}
    rebuilt = {name for name in built if built[name][0] != migrated[name][0]}
    assert rebuilt == {"ix_durian_trees_geom", "ix_durian_trees_farm_id", "ix_durian_trees_updated_at",
                       "ix_durian_trees_search", "fk_durian_trees_farm_id_farms"}
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL enable_seqscan = off"))
        search = "SELECT code FROM durian_trees WHERE geomap_fold(code || ' ' || name) LIKE '%' || geomap_fold(:c) || '%'"
        code = sample_features("durian_trees")[42]["properties"]["code"]
        plan = " ".join(r[0] for r in conn.execute(text("EXPLAIN " + search), {"c": code.lower()}))
        assert "ix_durian_trees_search" in plan, plan
        assert conn.execute(text(search), {"c": code.lower()}).scalars().all() == [code]
    with engine.connect() as conn:
        uses_index = conn.execute(text(
            "EXPLAIN SELECT id FROM durian_trees WHERE geom && ST_MakeEnvelope(108.3, 12.7, 108.301, 12.701, 4326)")).all()
        assert "ix_durian_trees_geom" in " ".join(r[0] for r in uses_index)
        with pytest.raises(Exception, match="fk_durian_trees_farm_id_farms"):
            conn.execute(text("UPDATE durian_trees SET farm_id = gen_random_uuid() WHERE code = (SELECT min(code) FROM durian_trees)"))
    trees = copy.deepcopy(sample_features("durian_trees"))
    trees[0]["properties"]["height_m"] = 7.25
    [again] = load_file(engine, write_geojson(tmp_path / "durian_trees.geojson", trees))
    assert (again.updated, again.inserted) == (1, 0)
    assert _schema_of(engine, "durian_trees") == built
