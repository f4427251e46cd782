"""The ``geomap`` command as a user runs it: load, export, serve."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.conftest import ROOT, SAMPLE

GEOMAP = [sys.executable, "-m", "geomap.cli"]


def run(args, db_url, cwd, check=True):
    env = {**os.environ, "GEOMAP_DATABASE_URL": db_url}
    return subprocess.run(GEOMAP + args, capture_output=True, text=True, env=env, cwd=cwd, check=check, timeout=300)


def test_load_reports_bad_feature_and_writes_nothing(engine, db_url, tmp_path):
    bad = tmp_path / "wifi_points.geojson"
    bad.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [106.05, 20.06]},
         "properties": {"code": "W-1", "name": "Wifi", "province": "Ninh Bình", "commune": "xã Đồng Hướng", "venue": "NVH"}},
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [20.06, 106.05]},
         "properties": {"code": "W-2", "name": "Wifi 2", "province": "Ninh Bình", "commune": "xã Đồng Hướng", "venue": "NVH", "provider": "Vinaphone"}},
    ]}), encoding="utf-8")
    proc = run(["load", str(bad)], db_url, tmp_path, check=False)
    assert proc.returncode == 1
    assert "nothing written" in proc.stderr
    assert "feature 1: geometry:" in proc.stderr and "swapped" in proc.stderr
    assert "feature 1: provider: unknown value 'Vinaphone'" in proc.stderr
    from sqlalchemy import text

    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM wifi_points")).scalar_one() == 0


def test_load_then_export_from_the_command_line(engine, db_url, tmp_path):
    proc = run(["load", str(SAMPLE / "heritage_sites.geojson"), str(SAMPLE / "farms.geojson")], db_url, tmp_path)
    assert "farms: 29 new" in proc.stdout or "farms:" in proc.stdout
    out = tmp_path / "farms.csv"
    proc = run(["export", "farms", "--format", "csv", "-o", str(out)], db_url, tmp_path)
    text = out.read_text(encoding="utf-8")
    assert "planting_area_code" in text and "owner_phone" not in text
    assert "Đắk Lắk" in text
    proc = run(["export", "bridges"], db_url, tmp_path, check=False)
    assert proc.returncode != 0 and "unknown layer 'bridges'" in proc.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_answers_health(engine, db_url, tmp_path):
    port = _free_port()
    env = {**os.environ, "GEOMAP_DATABASE_URL": db_url, "GEOMAP_HOME": str(tmp_path / "home")}
    proc = subprocess.Popen(GEOMAP + ["serve", "--port", str(port)], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        body = None
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                    body = json.load(r)
                break
            except OSError:
                time.sleep(0.2)
        assert body is not None, "server did not answer"
        assert body == {"status": "ok"}  # anonymous: the status only (details are for administrators)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)


def test_cli_volunteer_token_tags_over_http(loaded, db_url, tmp_path):
    """The issue's walk-through: a CLI-made volunteer token tags, retries and edits over real HTTP."""
    import httpx

    run(["teams", "add", "DL-EAKLY-01", "--name", "Tổ công nghệ số xã Ea Kly", "--province", "Đắk Lắk",
         "--commune", "xã Ea Kly", "--area", str(ROOT / "data/areas/xa-ea-kly.geojson"), "--layer", "durian_trees"],
        db_url, tmp_path)
    run(["users", "add", "minh", "--role", "volunteer", "--team", "DL-EAKLY-01"], db_url, tmp_path)
    token = run(["users", "token", "minh", "--label", "điện thoại của Minh"], db_url, tmp_path).stdout.strip()
    assert token.startswith("gm_")
    bad = run(["users", "add", "x", "--role", "volunteer"], db_url, tmp_path, check=False)
    assert bad.returncode == 1 and "belongs to a team" in bad.stderr

    from tests.world import free_spots
    from tests.conftest import sample_features

    farm = next(f for f in sample_features("farms") if f["properties"]["commune"] == "xã Ea Kly")
    spot = free_spots(farm)[0]
    port = _free_port()
    env = {**os.environ, "GEOMAP_DATABASE_URL": db_url, "GEOMAP_HOME": str(tmp_path / "home")}
    proc = subprocess.Popen(GEOMAP + ["serve", "--port", str(port)], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}/api/v1/layers/durian_trees/features"
    try:
        client = httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=10)
        for _ in range(100):
            try:
                client.get(f"http://127.0.0.1:{port}/health")
                break
            except httpx.TransportError:
                time.sleep(0.2)
        tree = {"type": "Feature", "id": "6c1f0a52-8a64-4c38-9d55-0f4f3c2b7a11",
                "geometry": {"type": "Point", "coordinates": [spot.x, spot.y]},
                "properties": {"code": "EAKLY-NEW-1", "name": "Cây mới", "province": "Đắk Lắk", "commune": "xã Ea Kly",
                               "variety": "Ri6", "planting_year": 2021, "gps_accuracy_m": 8}}
        first = client.post(base, json=tree)
        retry = client.post(base, json=tree)
        assert (first.status_code, retry.status_code) == (201, 200)
        edit = client.patch(first.headers["location"], json={"properties": {"health": "Sâu bệnh"}},
                            headers={"If-Match": first.headers["etag"]})
        assert edit.status_code == 200 and edit.json()["properties"]["health"] == "sau_benh"
        assert client.post(base, json={**tree, "id": None, "properties": {**tree["properties"], "code": "X", "commune": "xã Quảng Phú"}}).status_code == 403
        run(["users", "revoke", "minh"], db_url, tmp_path)
        assert client.get(first.headers["location"]).status_code == 401
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
