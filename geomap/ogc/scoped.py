"""An ``http`` middleware function for some requests only.

Starlette runs an ``http`` middleware function (``BaseHTTPMiddleware``) with its own task and
memory streams on every request; /ogc's checks and the CRS rewriting concern few of them. Here the
function runs for the requests ``applies(scope)`` selects, and every other request goes straight
to the app (:meth:`ScopedHttpMiddleware.passed`).
"""

from __future__ import annotations

from typing import Callable

from starlette.middleware.base import BaseHTTPMiddleware


class ScopedHttpMiddleware:
    """``dispatch`` for the requests ``applies`` selects; the others pass straight through."""

    def __init__(self, app, dispatch, applies: Callable[[dict], bool]) -> None:
        self.app = app
        self.applies = applies
        self.scoped = BaseHTTPMiddleware(app, dispatch=dispatch)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and self.applies(scope):
            return await self.scoped(scope, receive, send)
        await self.passed(scope, receive, send)

    async def passed(self, scope, receive, send) -> None:
        """A request the function does not concern."""
        await self.app(scope, receive, send)
