"""The map of the area a volunteer looked at still draws offline: the service worker keeps the
basemap tiles (fetched with CORS from the tile server, another origin here too)."""

from __future__ import annotations

import io
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from PIL import Image
from playwright.sync_api import expect, sync_playwright

from tests.field.conftest import ARTIFACTS, Phone, launch
from tests.field.test_offline_capture import sign_in_with_token
from tests.world import World, serve

pytestmark = pytest.mark.browser


def tile_png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (256, 256), (170, 211, 223)).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def tile_server():
    """A basemap tile server on its own port (a different origin), counting the tiles it serves."""
    body = tile_png()
    served: list[str] = []

    class Tiles(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (the http.server API)
            served.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Access-Control-Allow-Origin", "*")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Tiles)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", served
    server.shutdown()


@pytest.fixture
def map_live(world: World, settings, tile_server):
    yield from serve(settings, basemap_url=tile_server[0] + "/{z}/{x}/{y}.png")


def open_map(page) -> None:
    page.click("button.layer[data-layer=durian_trees]")
    page.click("#place-on-map")
    expect(page.locator("#map img.leaflet-tile-loaded").first).to_be_visible()


def test_tiles_seen_online_draw_offline(map_live, world: World, tile_server):
    base, served = tile_server
    lon, lat = world.tree_in(slot=0)["geometry"]["coordinates"]
    with sync_playwright() as p:
        browser = launch(p)
        phone = Phone(browser, map_live, lon, lat)
        page = phone.page
        sign_in_with_token(page, map_live, world.tokens["volunteer"])
        page.evaluate("navigator.serviceWorker.ready.then(() => true)")
        page.reload()  # the service worker controls the page from here on
        expect(page.locator("#app")).to_be_visible()
        open_map(page)
        page.wait_for_load_state("networkidle")
        seen = len(served)
        assert seen > 0
        page.click("#form-cancel")

        phone.context.set_offline(True)
        page.reload()
        expect(page.locator("#app")).to_be_visible()
        open_map(page)
        drawn = page.locator("#map img.leaflet-tile-loaded").evaluate_all(
            "imgs => imgs.filter(i => i.complete && i.naturalWidth === 256).length")
        assert drawn > 0
        assert len(served) == seen  # nothing reached the tile server: the tiles came from the phone
        page.screenshot(path=str(ARTIFACTS / "field-offline-map.png"))
        assert phone.errors == []
        browser.close()
