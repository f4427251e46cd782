"""The field app in Debian's Chromium (Playwright), phone-sized, against a live server.

Every page fails its test on a page error or a console error from geomap's own origin
(basemap imagery is the only thing allowed to fail: there is no internet here).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from tests.conftest import ROOT

ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic"]
PHONE = {"width": 390, "height": 844}


class Phone:
    """A phone-sized browser context with geolocation, and the errors its pages raised."""

    def __init__(self, browser, live: str, lon: float, lat: float) -> None:
        self.live = live
        self.errors: list[str] = []
        self.expected_statuses: set[int] = set()  # answers a test provokes on purpose (Chromium logs every 4xx)
        self.context = browser.new_context(
            viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale="vi-VN",
            geolocation={"longitude": lon, "latitude": lat, "accuracy": 4}, permissions=["geolocation", "camera"],
        )
        self.page = self.context.new_page()
        self.page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        self.page.on("console", self._console)

    def _console(self, msg) -> None:
        if msg.type != "error":
            return
        url = (msg.location or {}).get("url", "")
        if url and not url.startswith(self.live):
            return  # basemap tiles from the internet
        if any(f"status of {code} " in msg.text for code in self.expected_statuses):
            return
        self.errors.append(f"console: {msg.text} ({url})")

    def move(self, lon: float, lat: float, accuracy: float = 4) -> None:
        self.context.set_geolocation({"longitude": lon, "latitude": lat, "accuracy": accuracy})


def launch(p, extra_args: list[str] | None = None):
    assert Path(CHROMIUM).exists(), "Debian's chromium is required (make test installs it)"
    ARTIFACTS.mkdir(exist_ok=True)
    return p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS + (extra_args or []))


@pytest.fixture
def phone(live, world):
    """A phone at the first free spot of the volunteer team's farm."""
    spot = world.tree_in(slot=0)["geometry"]["coordinates"]
    with sync_playwright() as p:
        browser = launch(p)
        ph = Phone(browser, live, *spot)
        yield ph
        browser.close()
