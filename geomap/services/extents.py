"""Where each layer's data lies, so a map asks only for the tiles that can hold something.

Extents are remembered for ``ttl`` seconds (like the aggregated national tiles, a new asset far
from the others shows at low zoom within a minute); each is padded so edge tiles are not lost.
"""

from __future__ import annotations

import threading
import time

from sqlalchemy import Engine, text

from geomap.layers.base import Layer
from geomap.sql import PUBLIC_VISIBLE, q

PAD_DEG = 0.05
Bounds = tuple[tuple[float, float], tuple[float, float]]


def layer_bounds(engine: Engine, layer: Layer) -> Bounds | None:
    """((south, west), (north, east)) of ``layer``'s public assets, padded; None when it has none."""
    with engine.connect() as conn:
        box = conn.execute(text(f"SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
                                f"(SELECT ST_Extent(geom) AS e FROM {q(layer.table)} WHERE {PUBLIC_VISIBLE}) s")).one()
    if box[0] is None:
        return None
    x0, y0, x1, y1 = box
    return (max(-85.0, y0 - PAD_DEG), max(-180.0, x0 - PAD_DEG)), (min(85.0, y1 + PAD_DEG), min(180.0, x1 + PAD_DEG))


class ExtentCache:
    """Layer extents remembered for ``ttl`` seconds."""

    def __init__(self, ttl: float = 60.0) -> None:
        self.ttl = ttl
        self._data: dict[str, tuple[float, Bounds | None]] = {}
        self._lock = threading.Lock()

    def bounds(self, engine: Engine, layer: Layer) -> Bounds | None:
        """The layer's padded extent, from memory when fresh."""
        with self._lock:
            hit = self._data.get(layer.name)
        if hit and time.monotonic() - hit[0] <= self.ttl:
            return hit[1]
        value = layer_bounds(engine, layer)
        with self._lock:
            self._data[layer.name] = (time.monotonic(), value)
        return value
