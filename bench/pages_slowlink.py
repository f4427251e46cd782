"""The map pages on a slow link: Chromium with CDP network emulation (400 kbit/s both ways, 400 ms
round trips, an empty cache) against a running geomap, printing a markdown table.

    .venv/bin/geomap serve --sample-data &          # or `make run`
    .venv/bin/python bench/pages_slowlink.py [--base http://127.0.0.1:8000] [--runs 3]

Measured, per page at phone size (390x844): time from navigation start to the first drawn layer
(public map: the first vector-tile feature; orchard: every tree drawn; asset page: its title and
attributes readable), and the bytes transferred on a first load (as compressed on the wire).
Requests that leave the server under test (basemap imagery) are cut off, so only geomap is measured.
"""

from __future__ import annotations

import argparse
import json
import statistics
import urllib.request

from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
KBIT = 400
RTT_MS = 400
PHONE = {"width": 390, "height": 844}
TARGETS = {"/": 4.0, "orchard": 5.0, "asset": 2.0}


def _json(url: str):
    with urllib.request.urlopen(url, timeout=30) as r:
        return json.load(r)


def pick_farm(base: str, wanted: int = 750) -> tuple[str, int]:
    """The farm whose tree count is closest to ``wanted``."""
    farms = _json(f"{base}/api/v1/layers/farms/features?limit=1000")["features"]
    sizes = [(f["properties"]["code"], len(_json(f"{base}/farms/{f['properties']['code']}/trees.json")["trees"])) for f in farms]
    return min(sizes, key=lambda s: abs(s[1] - wanted))


def measure(browser, base: str, path: str, ready: str) -> tuple[float, int]:
    """Seconds from navigation start until ``ready`` matches, and bytes on the wire for the load."""
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="vi-VN")
    context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(base) else route.abort())
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    rate = KBIT * 1000 / 8
    cdp.send("Network.emulateNetworkConditions",
             {"offline": False, "latency": RTT_MS, "downloadThroughput": rate, "uploadThroughput": rate})
    wire = [0]
    cdp.on("Network.loadingFinished", lambda e: wire.__setitem__(0, wire[0] + int(e.get("encodedDataLength", 0))))
    page.goto(base + path, wait_until="commit", timeout=120_000)
    page.wait_for_selector(ready, state="attached", timeout=120_000)
    seconds = page.evaluate("performance.now()") / 1000
    page.wait_for_load_state("networkidle", timeout=120_000)
    context.close()
    return seconds, wire[0]


def measure_pages(base: str, runs: int = 3) -> list[dict]:
    """Each page's median seconds to ready and KB on the wire, with its target."""
    base = base.rstrip("/")
    farm, trees = pick_farm(base)
    asset = _json(f"{base}/api/v1/layers/heritage_sites/features?limit=1")["features"][0]["properties"]["code"]
    pages = [
        ("/", "/", ".leaflet-tile-container svg path", "first layer drawn", TARGETS["/"]),
        (f"/farms/{farm} ({trees} trees)", f"/farms/{farm}", "#orchard-map[data-drawn]", "every tree drawn", TARGETS["orchard"]),
        (f"/a/{asset}", f"/a/{asset}", "table.attrs", "page readable", TARGETS["asset"]),
    ]
    rows = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        for label, path, ready, what, target in pages:
            measured = [measure(browser, base, path, ready) for _ in range(runs)]
            rows.append({"page": label, "measured": what, "seconds": round(statistics.median(r[0] for r in measured), 2),
                         "target_s": target, "kb": round(statistics.median(r[1] for r in measured) / 1024)})
        browser.close()
    return rows


def table(rows: list[dict], runs: int) -> list[str]:
    """The markdown lines of the report."""
    lines = [f"Phone 390×844, {KBIT} kbit/s, {RTT_MS} ms RTT, empty cache, median of {runs} runs.", "",
             "| page | measured | time | target | transferred |", "|---|---|---|---|---|"]
    for r in rows:
        verdict = "✅ met" if r["seconds"] <= r["target_s"] else "❌ missed"
        lines.append(f"| `{r['page']}` | {r['measured']} | {r['seconds']:.1f} s | < {r['target_s']:g} s ({verdict}) | {r['kb']} KB |")
    first = rows[0]["kb"]
    lines += ["", f"First load of `/` on a phone: {first} KB on the wire (target < 150 KB: {'✅ met' if first < 150 else '❌ missed'})."]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="http://127.0.0.1:8000")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print("\n".join(table(measure_pages(args.base, args.runs), args.runs)))


if __name__ == "__main__":
    main()
