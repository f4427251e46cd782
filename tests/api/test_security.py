"""Abuse limits and headers: write rate limits (429 + Retry-After), security headers."""

from __future__ import annotations

from fastapi.testclient import TestClient

from geomap.api.app import create_app
from tests.world import World

BASE = "/api/v1/layers/durian_trees/features"


def test_write_rate_limit_per_token(world: World, settings):
    strict = settings.model_copy(update={"write_rate_per_token": 30, "write_rate_per_ip": 10_000})
    with TestClient(create_app(strict)) as client:
        statuses = []
        for i in range(14):
            r = client.post(BASE, json=world.tree_in(code=f"T-RATE-{i}", slot=i % 10, variety="nope"), headers=world.auth("volunteer"))
            statuses.append(r.status_code)
            if r.status_code == 429:
                assert r.headers["content-type"].startswith("application/problem+json")
                assert int(r.headers["retry-after"]) >= 1
                break
        assert statuses[:10] == [422] * 10 and statuses[-1] == 429
        # Another token is not limited by the first one's use, and reads are never limited.
        assert client.post(BASE, json=world.tree_in(code="T-OTHER", variety="nope"), headers=world.auth("admin")).status_code == 422
        assert client.get(BASE + "?limit=1", headers=world.auth("volunteer")).status_code == 200


def test_security_headers_on_pages_and_api(world: World):
    for url in ("/", "/api/v1/layers", f"/a/{world.farm['properties']['code']}"):
        r = world.client.get(url)
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["x-frame-options"] == "SAMEORIGIN"
        csp = r.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'self'" in csp and "tile.openstreetmap.org" in csp


def test_downloads_are_bounded(world: World, monkeypatch):
    from geomap.api.routes import downloads

    monkeypatch.setattr(downloads, "MAX_DOWNLOAD", 5_000)
    r = world.client.get("/api/v1/layers/durian_trees/download?format=csv")
    assert r.status_code == 422 and "10,000 features match" in r.json()["detail"]
    ok = world.client.get("/api/v1/layers/durian_trees/download", params={"format": "csv", "farm_code": world.farm["properties"]["code"]})
    assert ok.status_code == 200 and ok.text.count("\n") > 10
