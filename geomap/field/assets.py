"""The files of the field app: its own JS/CSS and the npm packages it uses, read once,
gzip-compressed once, and versioned by their content so the service worker knows when to update."""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from pathlib import Path

from geomap.errors import NotFound

STATIC = Path(__file__).resolve().parent / "static"

#: npm packages served under /field/static/vendor/<name> (installed by `make assets` from package-lock.json).
VENDOR = {
    "idb.js": "idb/build/index.js",
    "leaflet.js": "leaflet/dist/leaflet.js",
    "leaflet.css": "leaflet/dist/leaflet.css",
    "jsQR.js": "jsqr/dist/jsQR.js",
}
TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml",
         ".png": "image/png"}


@dataclass(frozen=True)
class Asset:
    """One file as served: its bytes, their gzip form, its type and a content hash."""

    body: bytes
    gzipped: bytes
    media_type: str
    digest: str


def _load(path: Path) -> Asset:
    body = path.read_bytes()
    return Asset(body, gzip.compress(body, 9, mtime=0), TYPES.get(path.suffix, "application/octet-stream"),
                 hashlib.sha256(body).hexdigest()[:16])


class FieldAssets:
    """The app's files (``static/``) and its vendor files (``node_modules``), keyed by URL name."""

    def __init__(self, assets_dir: Path) -> None:
        self.files: dict[str, Asset] = {}
        for path in sorted(STATIC.iterdir()):
            if path.is_file() and path.suffix in TYPES:
                self.files[path.name] = _load(path)
        for name, rel in VENDOR.items():
            path = Path(assets_dir) / rel
            if path.exists():
                self.files["vendor/" + name] = _load(path)
        self.version = hashlib.sha256("".join(a.digest for a in self.files.values()).encode()).hexdigest()[:12]

    def get(self, name: str) -> Asset:
        """The file served as ``/field/static/<name>``, or :class:`NotFound`."""
        asset = self.files.get(name)
        if asset is None:
            raise NotFound("no such file of the field app")
        return asset

    def modules(self) -> list[str]:
        """URLs of the ES modules the page imports at start (preloaded together, not one level at a time)."""
        own = [f"/field/static/{name}" for name in self.files if name.endswith(".js") and "/" not in name]
        return own + ["/field/static/vendor/idb.js"]

    def urls(self) -> list[str]:
        """Every file's URL (what the service worker caches)."""
        return [f"/field/static/{name}" for name in self.files]
