"""A MapLibre GL JS map on ANOTHER site (a second local port) draws geomap's open data: geomap's
style.json as it is, and a style of its own over geomap's TileJSON. The browser enforces CORS, so
without geomap's CORS headers nothing loads; every page error, console error or map error fails."""

from __future__ import annotations

import functools
import http.server
import threading
import urllib.parse
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright
from sqlalchemy import text

from geomap.layers.registry import get_layer
from tests.conftest import ROOT
from tests.web.browser import CHROMIUM, CHROMIUM_ARGS, PHONE, pixels_of, shot
from tests.world import World, serve

PAGE = Path(__file__).resolve().parent / "maplibre"
MAPLIBRE = ROOT / "node_modules" / "maplibre-gl" / "dist"
#: WebGL without a GPU: Chromium's software rasteriser.
WEBGL_ARGS = [a for a in CHROMIUM_ARGS if a != "--disable-gpu"] + ["--use-angle=swiftshader", "--enable-unsafe-swiftshader"]


class StaticFiles(http.server.SimpleHTTPRequestHandler):
    """The other site: its page and script, and MapLibre from node_modules under /maplibre/."""

    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, ".mjs": "text/javascript",
                      ".js": "text/javascript"}

    def translate_path(self, path: str) -> str:
        path = urllib.parse.urlsplit(path).path
        if path.startswith("/maplibre/"):
            return str(MAPLIBRE / path.removeprefix("/maplibre/"))
        return str(PAGE / (path.lstrip("/") or "index.html"))

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def other_site():
    assert (MAPLIBRE / "maplibre-gl.mjs").exists(), "run `make assets` (npm ci) to install maplibre-gl"
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(StaticFiles))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def webgl_chromium():
    assert Path(CHROMIUM).exists(), "Debian's chromium is required (make test installs it)"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=WEBGL_ARGS)
        yield browser
        browser.close()


def draw(browser, site: str, live: str, query: dict, name: str, expect_errors: bool = False) -> tuple[int, Path, list[str]]:
    """Open the other site's map with ``query``; return what MapLibre rendered, a screenshot, and
    the requests made to geomap (all cross-origin). Any error fails, unless ``expect_errors``."""
    context = browser.new_context(viewport=PHONE, device_scale_factor=1)
    allowed = (site, live)
    context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(allowed) else route.abort())
    page = context.new_page()
    errors: list[str] = []
    to_geomap: list[str] = []
    page.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
    page.on("console", lambda msg: errors.append(f"console: {msg.text}") if msg.type == "error" else None)
    page.on("requestfailed", lambda r: errors.append(f"failed: {r.url} {r.failure}"))
    page.on("request", lambda r: to_geomap.append(r.url) if r.url.startswith(live) else None)
    page.goto(f"{site}/?{urllib.parse.urlencode(query)}")
    try:
        page.wait_for_function("window.rendered !== null || window.mapErrors.length > 0", timeout=60_000)
        rendered = page.evaluate("window.rendered") or 0
        picture = shot(page, name)
    finally:
        context.close()
    assert (errors != []) if expect_errors else (errors == []), errors
    return rendered, picture, to_geomap


@pytest.mark.parametrize("layer", ["durian_trees", "farms"])
def test_maplibre_on_another_site_draws_geomaps_style(live, world: World, other_site, webgl_chromium, layer: str):
    style = f"{live}/ogc/collections/{layer}/tiles/WebMercatorQuad/style.json"
    rendered, picture, requests = draw(webgl_chromium, other_site, live, {"style": style}, f"maplibre-other-site-{layer}")
    assert rendered > 0
    assert any("/tiles/WebMercatorQuad/" in u and u.rsplit("/", 1)[-1].isdigit() for u in requests), requests
    # Aggregated cells (the style's opening view is zoom 8) in the layer's own colour.
    color = get_layer(layer).style.color
    assert pixels_of(picture, [color], tolerance=12)[color] > 50


def test_maplibre_on_another_site_draws_trees_from_the_tilejson(live, world: World, other_site, webgl_chromium):
    with world.engine.connect() as conn:  # a sick tree to centre the map on
        lon, lat = conn.execute(text("SELECT ST_X(geom), ST_Y(geom) FROM durian_trees WHERE health = 'sau_benh' "
                                     "AND deleted_at IS NULL ORDER BY code LIMIT 1")).one()
    query = {"tilejson": f"{live}/tiles/durian_trees.json?health=sau_benh", "layer": "durian_trees",
             "center": f"{lon},{lat}", "zoom": "17"}
    rendered, picture, requests = draw(webgl_chromium, other_site, live, query, "maplibre-other-site-tilejson")
    assert rendered > 0
    assert any(u.endswith(".mvt?health=sau_benh") for u in requests), requests
    assert pixels_of(picture, ["#d81b60"], tolerance=12)["#d81b60"] > 50


def test_without_cors_for_its_origin_the_other_site_gets_nothing(world: World, settings, other_site, webgl_chromium):
    """The same page, geomap allowing another origin only: the browser refuses the style (so CORS is what works above)."""
    for live in serve(settings, cors_origins=["https://ban-do.example.vn"]):
        style = f"{live}/ogc/collections/durian_trees/tiles/WebMercatorQuad/style.json"
        rendered, _, _ = draw(webgl_chromium, other_site, live, {"style": style}, "maplibre-other-site-refused",
                              expect_errors=True)
        assert rendered == 0
