"""The app shell at /field: the page (Vietnamese first, ?lang=en), its manifest, its service
worker and its files (from npm packages, gzip-compressed), and the first-load budget."""

from __future__ import annotations

import io
import json
import re
import subprocess

from PIL import Image

from tests.conftest import ROOT
from tests.world import World

STATIC = ROOT / "geomap" / "field" / "static"
#: What the page loads before it is ready to capture: the page, its CSS, its module graph.
FIRST_LOAD_BUDGET = 200 * 1024


def test_page_is_vietnamese_first_with_no_inline_script(world: World):
    r = world.client.get("/field")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    assert '<html lang="vi">' in html and "<title>Sổ thực địa — geomap</title>" in html
    assert '<link rel="manifest" href="/field/manifest.webmanifest">' in html
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline scripts are forbidden by the CSP"
    assert not re.search(r"\son[a-z]+=", html), "no inline event handlers"
    assert "camera=(self)" in r.headers["permissions-policy"] and "geolocation=(self)" in r.headers["permissions-policy"]
    en = world.client.get("/field?lang=en").text
    assert '<html lang="en">' in en and "<title>Field book — geomap</title>" in en
    assert world.client.get("/field/", follow_redirects=False).headers["location"] == "/field"


def test_manifest_makes_it_installable(world: World):
    r = world.client.get("/field/manifest.webmanifest")
    assert r.headers["content-type"].startswith("application/manifest+json")
    m = r.json()
    assert m["short_name"] == "Sổ thực địa" and m["start_url"] == "/field" and m["scope"] == "/field"
    assert m["display"] == "standalone" and m["icons"]
    for icon in m["icons"]:
        r = world.client.get(icon["src"])
        assert r.status_code == 200 and r.headers["content-type"] == icon["type"]
        if icon["type"] == "image/png":
            assert Image.open(io.BytesIO(r.content)).size == tuple(int(n) for n in icon["sizes"].split("x"))
    assert {"192x192", "512x512"} <= {icon["sizes"] for icon in m["icons"]}
    assert world.client.get("/field/icon-7.png").status_code == 404
    assert world.client.get("/field/manifest.webmanifest?lang=en").json()["start_url"] == "/field?lang=en"


def _service_worker_urls(world: World) -> list[str]:
    r = world.client.get("/field/sw.js")
    assert r.headers["service-worker-allowed"] == "/field" and r.headers["content-type"].startswith("text/javascript")
    return json.loads(re.search(r"const URLS = (\[.*?\]);", r.text, re.S).group(1))


def test_service_worker_caches_every_file_the_app_uses(world: World):
    urls = _service_worker_urls(world)
    for url in urls:
        assert world.client.get(url).status_code == 200, url
    # Every module imported by a module, every script or style the code loads, is cached.
    used = set()
    for path in STATIC.glob("*.js"):
        text = path.read_text()
        used |= {"/field/static/" + m for m in re.findall(r'from "\./([\w.]+)"', text)}
        used |= set(re.findall(r'"(/field/static/[\w./]+)"', text))
    assert used and used <= set(urls), sorted(used - set(urls))
    for vendor in ("idb.js", "leaflet.js", "leaflet.css", "jsQR.js"):
        assert f"/field/static/vendor/{vendor}" in urls


def test_files_come_gzip_compressed_and_revalidate(world: World):
    r = world.client.get("/field/static/vendor/leaflet.js", headers={"Accept-Encoding": "gzip"})
    assert r.headers["content-encoding"] == "gzip" and "Leaflet 1.9.4" in r.text
    again = world.client.get("/field/static/vendor/leaflet.js", headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304
    missing = world.client.get("/field/static/vendor/../../app.py")
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"


def _module_graph(name: str, seen: set[str]) -> set[str]:
    if name in seen:
        return seen
    seen.add(name)
    for dep in re.findall(r'from "\./([\w.]+)"', (STATIC / name).read_text()):
        _module_graph(dep, seen)
    return seen


def test_first_load_is_under_200_kb_compressed(world: World):
    html = world.client.get("/field").text
    first = ["/field", "/field/static/field.css", "/field/static/vendor/idb.js",
             *(f"/field/static/{m}" for m in _module_graph("app.js", set()))]
    assert '<script type="module" src="/field/static/app.js">' in html
    total = 0
    for url in first:
        r = world.client.get(url, headers={"Accept-Encoding": "gzip"})
        assert r.status_code == 200, url
        total += int(r.headers["content-length"])
    assert total < FIRST_LOAD_BUDGET, total


def test_queue_unit_tests_pass_in_node():
    """``node --test tests/field/js/``: retries, ordering, idempotency, 4xx/5xx/offline of the outbox."""
    done = subprocess.run(["node", "--test", str(ROOT / "tests" / "field" / "js")], capture_output=True, text=True,
                          timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    passed = int(re.search(r"^# pass (\d+)", done.stdout, re.M).group(1))
    assert passed >= 8 and re.search(r"^# fail 0", done.stdout, re.M)
