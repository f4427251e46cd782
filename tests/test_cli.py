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
        assert body["status"] == "ok" and set(body["layers"]) >= {"farms", "durian_trees"}
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
