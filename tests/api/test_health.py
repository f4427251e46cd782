"""``GET /health`` against the real database through the real app: status for everyone, details
(where the database is, versions, counts) for administrators only."""

from __future__ import annotations

import os

from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from geomap.api.app import create_app
from geomap.layers.registry import layer_names
from tests.conftest import TEST_HOME
from tests.world import World


def test_anonymous_and_non_admin_callers_get_the_status_only(world: World, db_url):
    url = make_url(db_url)
    for who in (None, "volunteer", "farmer"):
        r = world.client.get("/health", headers=world.auth(who))
        assert r.status_code == 200, who
        assert r.json() == {"status": "ok"}, who  # no host, port, versions or counts
        assert str(url.port) not in r.text and "postgis" not in r.text.lower()


def test_admin_gets_the_details(world: World, db_url):
    r = world.client.get("/health", headers=world.auth("admin"))
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok"
    database = body["database"]
    assert database["postgis"].startswith("3.") and database["postgresql"]
    assert (database["host"], database["port"], database["name"]) == (make_url(db_url).host, make_url(db_url).port,
                                                                       make_url(db_url).database)
    # The test server is not the embedded server of this app's GEOMAP_HOME (a fresh folder).
    assert database["embedded"] is False
    assert database["migration"] == database["migration_head"]
    assert list(body["layers"]) == layer_names()
    assert body["layers"]["durian_trees"] == 10_000
    assert all(n > 0 for n in body["layers"].values())


def test_admin_sees_embedded_true_when_served_on_the_embedded_server(world: World, settings, db_url):
    """`geomap serve --sample-data` (make run) opens the embedded server and hands the app its URL:
    the app must still say it runs on the embedded server of its GEOMAP_HOME."""
    on_embedded = "GEOMAP_TEST_DATABASE_URL" not in os.environ  # else the suite's server is external
    handed_over = settings.model_copy(update={"home": TEST_HOME, "database_url": db_url})
    with TestClient(create_app(handed_over, migrate=False)) as client:
        body = client.get("/health", headers=world.auth("admin")).json()
    assert body["database"]["embedded"] is on_embedded
    assert body["database"]["port"] == make_url(db_url).port


def test_unknown_path_is_problem_json(settings, engine):
    with TestClient(create_app(settings)) as client:
        r = client.get("/no/such/page")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["status"] == 404


def test_the_server_runs_as_many_requests_at_once_as_its_worker_threads_setting(settings, engine, monkeypatch):
    """GEOMAP_WORKER_THREADS sizes the thread pool the routes run in, on the loop that serves them
    (the rest wait their turn: bench/NOTES.md, session 12)."""
    from anyio import to_thread

    monkeypatch.setenv("GEOMAP_WORKER_THREADS", "3")
    from_env = type(settings)(database_url=settings.database_url, home=settings.home, prewarm_tiles=False)
    assert from_env.worker_threads == 3
    with TestClient(create_app(from_env, migrate=False)) as client:
        assert client.portal.call(lambda: to_thread.current_default_thread_limiter().total_tokens) == 3
        assert client.get("/health").status_code == 200
    nine = settings.model_copy(update={"worker_threads": 9})
    with TestClient(create_app(nine, migrate=False)) as client:
        assert client.portal.call(lambda: to_thread.current_default_thread_limiter().total_tokens) == 9
