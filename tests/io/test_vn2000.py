"""VN-2000: the Ministry transformation, a provincial TM-3 Shapefile in and out, and exports read by GDAL."""

from __future__ import annotations

import json
import subprocess
import zipfile

import numpy as np
import pyogrio
import pyproj
import pytest
import shapely
from sqlalchemy import text

from geomap import crs
from geomap.errors import InvalidInput, LoadError
from geomap.io.export import export_layer
from geomap.io.load import load_file
from geomap.layers.registry import get_layer

GEOD = pyproj.Geod(ellps="WGS84")
WIFI = get_layer("wifi_points")
TREES = get_layer("durian_trees")
DAK_LAK = 9218  # VN-2000 / TM-3 108°30′


def helmert_wgs84_to_vn2000(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The Ministry's 7 parameters (05/2007/QĐ-BTNMT), applied by hand: independent of PROJ's pipeline."""
    a, f = 6378137.0, 1 / 298.257223563
    e2 = f * (2 - f)
    lam, phi = np.radians(lon), np.radians(lat)
    n = a / np.sqrt(1 - e2 * np.sin(phi) ** 2)
    xyz = np.array([n * np.cos(phi) * np.cos(lam), n * np.cos(phi) * np.sin(lam), n * (1 - e2) * np.sin(phi)])
    tx, ty, tz, rx, ry, rz, ds = crs.MINISTRY_TOWGS84
    rx, ry, rz = (np.radians(v / 3600) for v in (rx, ry, rz))
    rot = np.array([[1, -rz, ry], [rz, 1, -rx], [-ry, rx, 1]])  # position vector: VN-2000 → WGS 84
    vn = np.linalg.solve((1 + ds * 1e-6) * rot, xyz - np.array([[tx], [ty], [tz]]))
    p = np.hypot(vn[0], vn[1])
    phi = np.arctan2(vn[2], p * (1 - e2))
    for _ in range(10):
        n = a / np.sqrt(1 - e2 * np.sin(phi) ** 2)
        phi = np.arctan2(vn[2] + e2 * n * np.sin(phi), p)
    return np.degrees(np.arctan2(vn[1], vn[0])), np.degrees(phi)


def test_vn2000_uses_the_ministry_parameters_everywhere_in_vietnam():
    # Hà Giang, Hà Nội, Đà Nẵng, Buôn Ma Thuột, and Cần Thơ, where PROJ left to itself (and geopandas'
    # to_crs) takes a Mekong-delta-only shift 0.8 m away from the Ministry's.
    lon = np.array([104.98, 105.85, 108.22, 108.05, 105.78])
    lat = np.array([22.82, 21.03, 16.05, 12.68, 10.03])
    want_lon, want_lat = helmert_wgs84_to_vn2000(lon, lat)
    got = shapely.get_coordinates(crs.reproject(shapely.points(lon, lat), 4326, 4756))
    _, _, dist = GEOD.inv(got[:, 0], got[:, 1], want_lon, want_lat)
    assert np.max(dist) < 0.02
    # and the shift is real (VN-2000 and WGS 84 differ by tens of metres)
    _, _, shift = GEOD.inv(lon, lat, want_lon, want_lat)
    assert np.min(shift) > 100


def test_crs_names_and_refusals():
    assert crs.resolve("http://www.opengis.net/def/crs/EPSG/0/4756").lat_first
    assert not crs.resolve("EPSG:4756").lat_first
    assert crs.resolve(f"{crs.OGC_EPSG}{DAK_LAK}").name == "VN-2000 / TM-3 108°30′ (Đắk Lắk)"
    with pytest.raises(InvalidInput) as err:
        crs.resolve("EPSG:32648")
    assert err.value.problems[0].field == "crs" and "EPSG:9218" in err.value.problems[0].reason


def _wifi_truth(engine) -> dict[str, tuple[float, float]]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT code, ST_X(geom), ST_Y(geom) FROM wifi_points")).all()
    return {code: (x, y) for code, x, y in rows}


def _provincial_shapefile(engine, tmp_path) -> tuple:
    """The layer's rows as a VN-2000 / TM-3 Đắk Lắk Shapefile built by ogr2ogr from hand-computed coordinates."""
    export_layer(engine, WIFI, "geojson", tmp_path / "truth.geojson", include_private=True)
    features = json.loads((tmp_path / "truth.geojson").read_text(encoding="utf-8"))["features"]
    lon = np.array([f["geometry"]["coordinates"][0] for f in features])
    lat = np.array([f["geometry"]["coordinates"][1] for f in features])
    vlon, vlat = helmert_wgs84_to_vn2000(lon, lat)
    east, north = pyproj.Transformer.from_crs(4756, DAK_LAK, always_xy=True).transform(vlon, vlat)  # no datum change
    rows = ["x,y," + ",".join(features[0]["properties"])]
    for f, e, n in zip(features, east, north):
        rows.append(f"{e:.4f},{n:.4f}," + ",".join(json.dumps(v, ensure_ascii=False) if isinstance(v, str) else
                                                 ("" if v is None else str(v)) for v in f["properties"].values()))
    (tmp_path / "tm3.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    shp = tmp_path / "diem_wifi.shp"
    subprocess.run(["ogr2ogr", "-f", "ESRI Shapefile", str(shp), str(tmp_path / "tm3.csv"), "-a_srs", f"EPSG:{DAK_LAK}",
                    "-oo", "X_POSSIBLE_NAMES=x", "-oo", "Y_POSSIBLE_NAMES=y", "-oo", "AUTODETECT_TYPE=YES",
                    "-oo", "KEEP_GEOM_COLUMNS=NO", "-lco", "ENCODING=UTF-8", "-nln", "diem_wifi"],
                   check=True, capture_output=True)
    codes = [f["properties"]["code"] for f in features]
    return shp, dict(zip(codes, zip(east, north)))


def test_provincial_shapefile_loads_to_true_positions_and_exports_back(loaded, tmp_path):
    truth = _wifi_truth(loaded)
    shp, tm3 = _provincial_shapefile(loaded, tmp_path)
    with loaded.begin() as conn:
        conn.execute(text("TRUNCATE wifi_points, asset_history CASCADE"))
    [result] = load_file(loaded, shp, layer_name="wifi_points")
    assert result.inserted == len(truth) > 5
    got = _wifi_truth(loaded)
    codes = sorted(truth)
    _, _, dist = GEOD.inv(*np.array([truth[c] for c in codes]).T, *np.array([got[c] for c in codes]).T)
    assert np.max(dist) < 0.03
    with loaded.connect() as conn:  # long dBASE names came back to their attributes
        assert conn.execute(text("SELECT count(*) FROM wifi_points WHERE gps_accuracy_m IS NOT NULL")).scalar_one() > 0

    out = tmp_path / "wifi_points.zip"
    export_layer(loaded, WIFI, "shp", out, include_private=True, target=crs.resolve(f"EPSG:{DAK_LAK}"))
    assert {n.rsplit(".", 1)[1] for n in zipfile.ZipFile(out).namelist()} == {"shp", "shx", "dbf", "prj", "cpg"}
    assert zipfile.ZipFile(out).read("wifi_points.cpg").decode().strip().upper().replace("-", "") == "UTF8"
    info = subprocess.run(["ogrinfo", "-al", "-so", f"/vsizip/{out}"], capture_output=True, text=True, check=True)
    assert "TM-3 108-30" in info.stdout and "installed_: Date" in info.stdout
    back = pyogrio.read_dataframe(f"/vsizip/{out}")
    assert back.crs.to_epsg() == DAK_LAK
    xy = {c: (g.x, g.y) for c, g in zip(back["code"], back.geometry)}
    assert max(np.hypot(xy[c][0] - tm3[c][0], xy[c][1] - tm3[c][1]) for c in codes) < 0.03
    # and the zip loads back onto the same assets, still within a few centimetres
    [again] = load_file(loaded, out)
    assert again.inserted == 0
    final = _wifi_truth(loaded)
    _, _, dist = GEOD.inv(*np.array([truth[c] for c in codes]).T, *np.array([final[c] for c in codes]).T)
    assert np.max(dist) < 0.03


def test_a_file_in_metres_without_a_crs_is_refused(loaded, tmp_path):
    shp, _ = _provincial_shapefile(loaded, tmp_path)
    shp.with_suffix(".prj").unlink()
    with pytest.raises(LoadError) as err:
        load_file(loaded, shp, layer_name="wifi_points")
    assert "no coordinate reference system" in err.value.message and "not degrees" in err.value.message


def test_csv_with_a_sidecar_prj_is_reprojected(loaded, tmp_path):
    truth = _wifi_truth(loaded)
    _, tm3 = _provincial_shapefile(loaded, tmp_path)
    csv = tmp_path / "wifi_points.csv"
    csv.write_text((tmp_path / "tm3.csv").read_text(encoding="utf-8"), encoding="utf-8")
    csv.with_suffix(".prj").write_text(pyproj.CRS.from_epsg(DAK_LAK).to_wkt("WKT1_ESRI"), encoding="utf-8")
    with loaded.begin() as conn:
        conn.execute(text("TRUNCATE wifi_points, asset_history CASCADE"))
    load_file(loaded, csv)
    got = _wifi_truth(loaded)
    _, _, dist = GEOD.inv(*np.array([truth[c] for c in tm3]).T, *np.array([got[c] for c in tm3]).T)
    assert np.max(dist) < 0.03


def test_exports_open_cleanly_in_gdal(loaded, tmp_path):
    gpkg = tmp_path / "wifi_points.gpkg"
    export_layer(loaded, WIFI, "gpkg", gpkg)
    info = subprocess.run(["ogrinfo", "-al", "-so", str(gpkg)], capture_output=True, text=True, check=True)
    assert info.stderr.strip() == "" and "installed_on: Date" in info.stdout

    csv = tmp_path / "wifi_points.csv"
    export_layer(loaded, WIFI, "csv", csv, labels="vi")
    assert csv.read_bytes().startswith(b"\xef\xbb\xbfid,")
    info = subprocess.run(["ogrinfo", "-al", str(csv)], capture_output=True, text=True, check=True)
    assert info.stdout.count("\n  POINT (") == len(_wifi_truth(loaded)) and info.stderr.strip() == ""
    assert "status (String) = Đang hoạt động" in info.stdout or "status (String) = Hoạt động" in info.stdout

    kml = tmp_path / "durian_trees.kml"
    export_layer(loaded, TREES, "kml", kml)
    body = kml.read_text(encoding="utf-8")
    with loaded.connect() as conn:
        sick = conn.execute(text("SELECT count(*) FROM durian_trees WHERE health = 'sau_benh'")).scalar_one()
    assert body.count("<styleUrl>#health-sau_benh</styleUrl>") == sick > 0
    assert '<Style id="health-sau_benh"><IconStyle><color>ff25a8f9</color>' in body  # #f9a825 as aabbggrr
    info = subprocess.run(["ogrinfo", "-al", "-so", str(kml)], capture_output=True, text=True, check=True)
    assert info.stderr.strip() == "" and "Feature Count: " in info.stdout


def test_geopackage_in_vn2000_utm_round_trips(loaded, tmp_path):
    truth = _wifi_truth(loaded)
    gpkg = tmp_path / "wifi_points.gpkg"
    export_layer(loaded, WIFI, "gpkg", gpkg, include_private=True, target=crs.resolve("EPSG:3405"))
    assert pyogrio.read_info(gpkg)["crs"] == "EPSG:3405"
    with loaded.begin() as conn:
        conn.execute(text("TRUNCATE wifi_points, asset_history CASCADE"))
    [result] = load_file(loaded, gpkg)
    assert result.inserted == len(truth)
    got = _wifi_truth(loaded)
    codes = sorted(truth)
    _, _, dist = GEOD.inv(*np.array([truth[c] for c in codes]).T, *np.array([got[c] for c in codes]).T)
    assert np.max(dist) < 0.01
