"""``GET /health`` against the real database through the real app."""

from __future__ import annotations

from fastapi.testclient import TestClient

from geomap.api.app import create_app
from geomap.layers.registry import layer_names


def test_health_reports_postgis_and_counts(loaded, settings):
    with TestClient(create_app(settings)) as client:
        r = client.get("/health")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok"
    assert body["database"]["postgis"].startswith("3.")
    assert body["database"]["embedded"] is False
    assert body["database"]["migration"] == body["database"]["migration_head"]
    assert list(body["layers"]) == layer_names()
    assert body["layers"]["durian_trees"] == 10_000
    assert all(n > 0 for n in body["layers"].values())


def test_unknown_path_is_problem_json(settings, engine):
    with TestClient(create_app(settings)) as client:
        r = client.get("/no/such/page")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["status"] == 404
