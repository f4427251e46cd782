"""Field writes take their turn: a first-come, first-served gate per layer and worker.

Under load, 32 volunteers' creates running at once in one worker share its one Python thread and
the database's two cores by time slices: each one's answer waits for everyone's work, so answers
come back in a wide spread (on 2 cores, a p99 twice the median). Admitted a few at a time in
arrival order, each create runs almost alone and the rest wait in line: the same work gives the
same mean wait, a narrower spread, and less CPU per create (fewer threads and database
processes contending). Measured in bench/NOTES.md (session 15).

Only single-asset writes of a layer's features pass the gate (create, edit, delete, restore,
review), one line per layer, so a layer held up (a bulk load holds its lock until it commits)
never stalls another's. Batches, photos, uploads, reports and every read go straight through.
The request body is read before a request joins the line: a phone sending slowly over a bad
link never holds a place while its bytes trickle in. A request that has waited
:data:`WAIT_LIMIT_S` without getting in is answered 503 with ``Retry-After`` (the field app's
outbox sends it again later) rather than run long after its sender gave up.
``GEOMAP_WRITE_CONCURRENCY=0`` turns the gate off.
"""

from __future__ import annotations

import asyncio
import re
import weakref

from geomap.api.bodies import read_body, replay
from geomap.api.security import WRITE_METHODS
from geomap.layers.registry import LAYERS
from geomap.problems import send_problem

LAYER_NAMES = frozenset(layer.name for layer in LAYERS)

#: Single-asset writes of a layer: …/features (create), …/features/{id} (edit, delete),
#: …/features/{id}/restore|review. Not …/features/batch (many assets, long) and not photos.
GATED = re.compile(r"/api/v1/layers/(?P<layer>[^/]+)/features(?:/(?!batch\Z)[^/]+(?:/(?:restore|review))?)?")
#: Longest wait in line before a write is answered 503 (try again later).
WAIT_LIMIT_S = 30.0
RETRY_AFTER_S = 5


def gated_layer(method: str, path: str) -> str | None:
    """The layer whose line a request joins, or None when it goes straight through."""
    if method not in WRITE_METHODS:
        return None
    match = GATED.fullmatch(path)
    # registered layers only: a made-up name is answered 404 by the route, and must not grow the lines
    return match.group("layer") if match and match.group("layer") in LAYER_NAMES else None


class WriteAdmission:
    """ASGI middleware: at most ``concurrency`` single-asset writes per layer inside the app at
    once in this worker; the others wait in arrival order (``asyncio.Semaphore`` wakes its
    waiters first in, first out). Sits inside the body limit and the rate limits, so a body too
    large or a client over its rate never takes a place; sign-in, permissions and validation
    are decided inside, by the route."""

    def __init__(self, app, concurrency: int, wait_limit_s: float = WAIT_LIMIT_S) -> None:
        self.app = app
        self.concurrency = concurrency
        self.wait_limit_s = wait_limit_s
        # one set of lines per event loop (an asyncio semaphore belongs to the loop it first waits in)
        self._lines: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def _line(self, layer: str) -> asyncio.Semaphore:
        lines = self._lines.setdefault(asyncio.get_running_loop(), {})
        if layer not in lines:
            lines[layer] = asyncio.Semaphore(self.concurrency)
        return lines[layer]

    async def __call__(self, scope, receive, send):
        layer = gated_layer(scope["method"], scope["path"]) if scope["type"] == "http" and self.concurrency > 0 else None
        if layer is None:
            return await self.app(scope, receive, send)
        body, whole = await read_body(receive)  # the body limit outside caps it
        if not whole:
            return  # the client went away while sending: nothing to answer
        line = self._line(layer)
        try:
            await asyncio.wait_for(line.acquire(), self.wait_limit_s)
        except TimeoutError:
            return await send_problem(send, 503, "Too many writes waiting",
                                      f"writes to {layer} are queued; send this one again in a few seconds",
                                      [(b"retry-after", str(RETRY_AFTER_S).encode())])
        try:
            await self.app(scope, replay(body, receive), send)
        finally:
            line.release()
