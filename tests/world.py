"""API fixtures: the real app on the test database, with teams, users and tokens."""

from __future__ import annotations

import math
import socket
import threading
import time
from dataclasses import dataclass

import numpy as np

import pytest
import shapely
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import text

from geomap.api.app import create_app
from geomap.api.proxies import SERVER_OPTIONS
from geomap.services.accounts import add_team, add_user, issue_credential
from tests.conftest import sample_features

PASSWORD = "mật-khẩu-vườn-1"


def box(x0: float, y0: float, x1: float, y1: float) -> dict:
    """A rectangle as a GeoJSON Polygon (a team's working area in tests)."""
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}


#: Working areas of the test teams (geomap checks a team's area by its polygon; see permissions.py).
EAKLY_AREA = box(108.28, 12.69, 108.33, 12.73)  # the sample farms of xã Ea Kly, not those of Ea Knuếc
NINH_BINH_AREA = box(105.55, 19.85, 106.25, 20.65)


@dataclass
class World:
    """Who is who in the API tests."""

    client: TestClient
    tokens: dict[str, str]
    farm: dict  # the farmer's farm (sample feature)
    other_farm: dict
    engine: object

    def auth(self, who: str | None) -> dict:
        """Headers for ``who`` (admin, volunteer, other_volunteer, farmer, other_farmer; None = public)."""
        return {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}

    def tree_in(self, farm: dict | None = None, slot: int = 0, dx: float = 0.0, dy: float = 0.0, **props) -> dict:
        """A new tree Feature at free spot ``slot`` of ``farm`` (default: the farmer's), offset by dx/dy degrees.

        Free spots lie inside the farm, at least 3.5 m from every sample tree and 6 m from each other.
        """
        farm = farm or self.farm
        p = free_spots(farm)[slot]
        base = {"code": "T-API-1", "name": "Cây mới", "province": farm["properties"]["province"],
                "commune": farm["properties"]["commune"], "variety": "ri6", "health": "khoe",
                "planting_year": 2020, "gps_accuracy_m": 6.0}
        base.update(props)
        return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [p.x + dx, p.y + dy]}, "properties": base}

    def count(self, sql: str) -> int:
        with self.engine.connect() as conn:
            return conn.execute(text(sql)).scalar_one()


_SPOTS: dict[str, list] = {}


def free_spots(farm: dict) -> list:
    """Points inside ``farm`` that no sample tree is near (cached per farm)."""
    if farm["id"] not in _SPOTS:
        poly = shapely.geometry.shape(farm["geometry"])
        x0, y0, x1, y1 = poly.bounds
        mx = 1 / (111_320 * math.cos(math.radians((y0 + y1) / 2)))
        my = 1 / 110_574
        trees = np.array([t["geometry"]["coordinates"] for t in sample_features("durian_trees")
                          if t["properties"]["farm_id"] == farm["id"]])
        xs, ys = np.meshgrid(np.arange(x0, x1, 1.5 * mx), np.arange(y0, y1, 1.5 * my))
        cand = np.column_stack([xs.ravel(), ys.ravel()])
        inner = poly.buffer(-3 * my)
        cand = cand[shapely.contains_xy(inner, cand[:, 0], cand[:, 1])]
        d = np.min(np.hypot((cand[:, None, 0] - trees[None, :, 0]) / mx, (cand[:, None, 1] - trees[None, :, 1]) / my), axis=1)
        cand = cand[d >= 3.5]
        spots: list = []
        for x, y in cand:
            if all(math.hypot((x - sx) / mx, (y - sy) / my) >= 6 for sx, sy in spots):
                spots.append((x, y))
            if len(spots) >= 20:
                break
        _SPOTS[farm["id"]] = [shapely.Point(x, y) for x, y in spots]
    return _SPOTS[farm["id"]]


@pytest.fixture
def world(loaded, settings):
    farms = sample_features("farms")
    farm = next(f for f in farms if f["properties"]["commune"] == "xã Ea Kly")
    other = next(f for f in farms if f["properties"]["commune"] == "xã Quảng Phú")
    with loaded.begin() as conn:
        add_team(conn, "DL-EAKLY-01", "Tổ công nghệ số xã Ea Kly", ["Đắk Lắk"], ["xã Ea Kly"], ["durian_trees", "farms"],
                 area_geojson=EAKLY_AREA)
        add_team(conn, "NB-DOANTN-01", "Tổ công nghệ số Ninh Bình", ["Ninh Bình"], [], ["wifi_points", "digital_libraries"],
                 area_geojson=NINH_BINH_AREA)
        add_user(conn, "admin", "admin", password=PASSWORD)
        add_user(conn, "vol", "volunteer", team_code="DL-EAKLY-01")
        add_user(conn, "vol_nb", "volunteer", team_code="NB-DOANTN-01")
        add_user(conn, "farmer", "farmer", farm_codes=[farm["properties"]["code"]], password=PASSWORD)
        add_user(conn, "farmer2", "farmer", farm_codes=[other["properties"]["code"]])
        tokens = {
            "admin": issue_credential(conn, "admin"),
            "volunteer": issue_credential(conn, "vol"),
            "other_volunteer": issue_credential(conn, "vol_nb"),
            "farmer": issue_credential(conn, "farmer"),
            "other_farmer": issue_credential(conn, "farmer2"),
        }
    with TestClient(create_app(settings)) as client:
        yield World(client, tokens, farm, other, loaded)


@pytest.fixture
def live(world: World, settings):
    """The app served by uvicorn on a free loopback port for the length of a test."""
    yield from serve(settings)


def serve(settings, **overrides):
    """Serve the app on a free loopback port; yields its base URL, stops it afterwards."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = settings.model_copy(update={"public_url": f"http://127.0.0.1:{port}", **overrides})
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning",
                                           **SERVER_OPTIONS))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    assert server.started, "server did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


