"""Request body size limits, enforced while the body streams in (413 problem+json)."""

from __future__ import annotations

import re

from geomap.problems import send_problem

MiB = 1024 * 1024

#: (path pattern, limit in bytes); the first match wins, the last entry is the default. Photos are
#: POSTed to …/photos or PUT to …/photos/{client-chosen id} (the field app's exactly-once upload).
BODY_LIMITS: list[tuple[re.Pattern, int]] = [
    (re.compile(r"/photos(/[^/]+)?$"), 11 * MiB),
    (re.compile(r"^/open311/v2/requests\.(json|xml)$"), 11 * MiB),  # an Open311 POST may carry its photo
    (re.compile(r"/features/batch$"), 24 * MiB),
    (re.compile(r"^/a/[^/]+/report$"), 32 * MiB),  # the report form page: up to three photos
    (re.compile(r"/admin/uploads$"), 64 * MiB),  # an administrator's asset file (geomap/api/routes/uploads.py)
    (re.compile(r""), 1 * MiB),
]


def limit_for(path: str) -> int:
    """Largest body accepted for ``path``."""
    for pattern, limit in BODY_LIMITS:
        if pattern.search(path):
            return limit
    return BODY_LIMITS[-1][1]


class _TooLarge(Exception):
    pass


class BodySizeLimit:
    """ASGI middleware: refuse bodies over the limit, whether announced or streamed."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            return await self.app(scope, receive, send)
        limit = limit_for(scope["path"])
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            return await _refuse(send, limit)
        seen = 0
        started = False

        async def counting_receive():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _TooLarge()
            return message

        async def tracking_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _TooLarge:
            if not started:
                await _refuse(send, limit)


async def _refuse(send, limit: int) -> None:
    await send_problem(send, 413, "Payload too large", f"the request body is larger than {limit // MiB} MiB allowed here")
