"""Cache lifetimes for static files: a year for versioned URLs (``?v=<content hash>``, written by
the page templates), an hour otherwise. Pages always ask for the current version, so a new
release is picked up at once while repeat visits on a slow link download nothing."""

from __future__ import annotations

VERSIONED = b"public, max-age=31536000, immutable"
UNVERSIONED = b"public, max-age=3600"


class StaticCacheHeaders:
    """ASGI middleware adding ``Cache-Control`` to ``/static/`` responses."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not scope["path"].startswith("/static/"):
            return await self.app(scope, receive, send)
        versioned = any(part.startswith(b"v=") for part in (scope.get("query_string") or b"").split(b"&"))
        value = VERSIONED if versioned else UNVERSIONED

        async def with_cache(message):
            if message["type"] == "http.response.start" and message.get("status") == 200:
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"cache-control"]
                message["headers"] = headers + [(b"cache-control", value)]
            await send(message)

        await self.app(scope, receive, with_cache)
