"""Seeing pages the way a person does: Debian's Chromium through Playwright, offline, at phone and
desktop sizes, in Vietnamese and English; every page error or console error fails the test.

Only requests to the app under test are let through; everything else (basemap imagery) is aborted,
and the console errors Chromium logs for those aborted requests are the only ones tolerated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from tests.conftest import ROOT

ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic"]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
SIZES = {"phone": PHONE, "desktop": DESKTOP}
LOCALES = {"vi": "vi-VN", "en": "en-US"}


@dataclass
class Seen:
    """What went wrong on a page, as a person's browser would show or log it."""

    live: str
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    allowed: list[str] = field(default_factory=list)  # e.g. "412" while a test provokes a conflict on purpose

    def add(self, error: str) -> None:
        """Record an error unless the test provoked it on purpose."""
        if not any(a in error for a in self.allowed):
            self.errors.append(error)

    def check(self) -> None:
        """Fail on any page error, console error or failed request of the app itself."""
        assert self.errors == [], "\n".join(self.errors)


def open_context(browser, live: str, size: str, lang: str):
    """A browser context of ``size`` (phone/desktop) preferring ``lang``, cut off from the internet."""
    phone = size == "phone"
    context = browser.new_context(viewport=SIZES[size], locale=LOCALES[lang], is_mobile=phone, has_touch=phone,
                                  device_scale_factor=1)
    context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(live) else route.abort())
    return context


def watch(page, live: str) -> Seen:
    """Record page errors, console errors (except for aborted outside requests) and failed app requests."""
    seen = Seen(live)

    def console(msg) -> None:
        if msg.type != "error":
            return
        where = (msg.location or {}).get("url", "")
        if "Failed to load resource" in msg.text and where and not where.startswith(live):
            return  # the basemap imagery we cut off on purpose
        seen.add(f"console: {msg.text} ({where})")

    page.on("pageerror", lambda exc: seen.errors.append(f"page error: {exc}"))
    page.on("console", console)
    page.on("request", lambda r: seen.requests.append(r.url))
    page.on("requestfailed", lambda r: seen.add(f"failed: {r.url}") if r.url.startswith(live) else None)
    page.on("response", lambda r: seen.add(f"status of {r.status}: {r.url}") if r.status >= 400 and r.url.startswith(live) else None)
    return seen


def shot(page_or_locator, name: str) -> Path:
    """Save a screenshot under test-artifacts/ and return its path."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page_or_locator.screenshot(path=str(path))
    return path


def hex_rgb(color: str) -> tuple[int, int, int]:
    """``#2e7d32`` → (46, 125, 50)."""
    color = color.lstrip("#")
    return int(color[0:2], 16), int(color[2:4], 16), int(color[4:6], 16)


def pixels_of(path: Path, colors: list[str], tolerance: int = 8) -> dict[str, int]:
    """How many pixels of the image are each of ``colors`` (within ``tolerance`` per channel)."""
    image = Image.open(path).convert("RGB")
    wanted = {c: hex_rgb(c) for c in colors}
    counts = dict.fromkeys(colors, 0)
    for (r, g, b) in image.get_flattened_data():
        for name, (wr, wg, wb) in wanted.items():
            if abs(r - wr) <= tolerance and abs(g - wg) <= tolerance and abs(b - wb) <= tolerance:
                counts[name] += 1
    return counts


def small_tap_targets(page) -> list[str]:
    """Visible links, buttons and form fields shorter or narrower than 44 px (text links inside prose excepted)."""
    return page.evaluate("""() => [...document.querySelectorAll('a[href], button, select, input:not([type=hidden]), summary')]
      .filter(e => { const r = e.getBoundingClientRect(); const s = getComputedStyle(e);
        return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && !e.closest('.label, p.small'); })
      .filter(e => { const r = e.getBoundingClientRect();
        const box = e.type === 'checkbox' ? e.closest('label').getBoundingClientRect() : r;
        return box.height < 43.5 || box.width < 43.5; })
      .map(e => `${e.tagName} ${e.className} '${(e.textContent || e.name || '').trim().slice(0, 30)}' ${Math.round(e.getBoundingClientRect().width)}x${Math.round(e.getBoundingClientRect().height)}`)""")


def small_text(page) -> list[str]:
    """Visible text elements set below 16 px (the map's scale bar and cluster numbers excepted)."""
    return page.evaluate("""() => [...document.querySelectorAll('p, li, td, th, label, a, button, summary, select, input, h1, h2, h3, span, div.legend-row')]
      .filter(e => e.getBoundingClientRect().height > 0 && (e.textContent || '').trim() && !e.closest('.leaflet-control-scale, .sheet-print, .label'))
      .filter(e => parseFloat(getComputedStyle(e).fontSize) < 15.5)
      .map(e => `${e.tagName}.${e.className} ${getComputedStyle(e).fontSize} '${e.textContent.trim().slice(0, 30)}'`)""")


def zoom_allowed(page) -> bool:
    """Whether the viewport meta lets a person pinch-zoom."""
    content = page.evaluate("(document.querySelector('meta[name=viewport]') || {}).content || ''")
    return "width=device-width" in content and "user-scalable=no" not in content and "maximum-scale=1" not in content
