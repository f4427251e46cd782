"""Typed dependencies shared by routes: engine, settings, the caller, the layer.

Dependencies that do no I/O are ``async def``: FastAPI runs a plain ``def`` dependency in the
thread pool, and each such hop costs a request two cross-thread hand-offs (measured: 4–11 ms each
under 32 concurrent volunteers). Only the database lookups below go to a thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Path, Request, Response
from sqlalchemy import Connection, Engine
from starlette.concurrency import run_in_threadpool

from geomap.auth import PUBLIC, SESSION_COOKIE, Principal, bearer_secret
from geomap.errors import PreconditionFailed, Unauthorized, UnknownLayerError
from geomap.layers.base import Layer
from geomap.layers.registry import UnknownLayer, get_layer
from geomap.replicas import FENCE_COOKIE, FENCE_COOKIE_MAX_AGE, FENCE_HEADER, ReadRouter, newest_fence, record_fence
from geomap.services.accounts import principal_for_secret
from geomap.settings import Settings


async def get_engine(request: Request) -> Engine:
    """The app's engine (opened in the lifespan)."""
    return request.app.state.engine


def read_engine(request: Request, principal: Principal = PUBLIC) -> Engine:
    """Engine for a read: a replica that has replayed the caller's last write, else the primary."""
    router: ReadRouter = request.app.state.reads
    if not router.enabled:
        return router.primary
    fence = newest_fence(principal.read_after, request.headers.get(FENCE_HEADER), request.cookies.get(FENCE_COOKIE))
    engine, source = router.choose(fence)
    request.state.read_source = source
    return engine


async def get_settings(request: Request) -> Settings:
    """The settings the app was built with."""
    return request.app.state.settings


@dataclass(frozen=True)
class Credentials:
    """The secret a request names its caller by: a Bearer token or a session cookie."""

    secret: str
    kind: str  # "token" | "session" | "public" (none sent)

    def principal(self, conn: Connection) -> Principal:
        """Who holds these credentials (:class:`Unauthorized` when nobody, or no longer)."""
        return PUBLIC if self.kind == "public" else principal_for_secret(conn, self.secret, self.kind)


NO_CREDENTIALS = Credentials("", "public")


def credentials_of(request: Request) -> Credentials | None:
    """A Bearer token, else a session cookie, else None (the public). No database work."""
    auth = request.headers.get("authorization")
    if auth is not None:
        secret = bearer_secret(auth)
        if secret is None:
            raise Unauthorized("use 'Authorization: Bearer <token>'")
        return Credentials(secret, "token")
    cookie = request.cookies.get(SESSION_COOKIE)
    return Credentials(cookie, "session") if cookie else None


def _holder(engine: Engine, credentials: Credentials) -> Principal:
    with engine.connect() as conn:
        return credentials.principal(conn)


def lookup_principal(request: Request) -> Principal:
    """The caller (blocking: one query on a pooled connection when credentials are sent)."""
    credentials = credentials_of(request)
    return PUBLIC if credentials is None else _holder(request.app.state.engine, credentials)


async def get_principal(request: Request) -> Principal:
    """The caller; the public without a database lookup or a thread hop."""
    credentials = credentials_of(request)
    return PUBLIC if credentials is None else await run_in_threadpool(_holder, request.app.state.engine, credentials)


async def get_writer(request: Request) -> Credentials:
    """The credentials of a write's caller, to be looked up on the write's own connection inside
    its transaction: one pooled connection and one thread hop per write instead of two."""
    return credentials_of(request) or NO_CREDENTIALS


async def _read_engine(request: Request, principal: Principal = PUBLIC) -> Engine:
    """:func:`read_engine` in the event loop when there are no replicas (it may poll one otherwise)."""
    router: ReadRouter = request.app.state.reads
    return router.primary if not router.enabled else await run_in_threadpool(read_engine, request, principal)


async def get_read_engine(request: Request, principal: Annotated[Principal, Depends(get_principal)]) -> Engine:
    """Read engine for an API route (the caller's fence comes with its credential)."""
    return await _read_engine(request, principal)


async def get_public_read_engine(request: Request) -> Engine:
    """Read engine for public routes that do not look the caller up (tiles): header/cookie fence only."""
    return await _read_engine(request)


def written(request: Request, principal: Principal, response: Response, layer: Layer | None = None) -> Response:
    """Call after a committed write. Tiles of ``layer`` cached here are forgotten at once; with
    replicas, the writer's fence is recorded and sent back so its next reads see this write."""
    if layer is not None:
        request.app.state.tile_cache.forget_version(layer.name)
    router: ReadRouter = request.app.state.reads
    if router.enabled:
        with router.primary.begin() as conn:
            lsn = record_fence(conn, principal.user_id)
        response.headers[FENCE_HEADER] = lsn
        response.set_cookie(FENCE_COOKIE, lsn, max_age=FENCE_COOKIE_MAX_AGE, httponly=True, samesite="lax")
    return response


async def get_layer_dep(layer: Annotated[str, Path(description="Layer name, e.g. durian_trees", max_length=64)]) -> Layer:
    """The layer named in the path, or 404."""
    try:
        return get_layer(layer)
    except UnknownLayer as exc:
        raise UnknownLayerError(str(exc)) from None


EngineDep = Annotated[Engine, Depends(get_engine)]
ReadEngineDep = Annotated[Engine, Depends(get_read_engine)]
PublicReadEngineDep = Annotated[Engine, Depends(get_public_read_engine)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]
WriterDep = Annotated[Credentials, Depends(get_writer)]
LayerDep = Annotated[Layer, Depends(get_layer_dep)]


async def if_match_version(
    if_match: Annotated[str | None, Header(alias="If-Match", description="ETag of the version you edit")] = None,
) -> int | None:
    """The version an ``If-Match`` header names (None when missing; the service answers 428 then,
    after checking who is calling); a header that is not one of our ETags is 412."""
    if not if_match:
        return None
    tag = if_match.strip().removeprefix("W/").strip('"')
    if not tag.startswith("v") or not tag[1:].isdigit():
        raise PreconditionFailed(f"If-Match {if_match!r} is not an ETag of this asset")
    return int(tag[1:])


IfMatchDep = Annotated[int | None, Depends(if_match_version)]
