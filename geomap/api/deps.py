"""Typed dependencies shared by routes: engine, settings, the caller, the layer."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request
from sqlalchemy import Engine

from geomap.auth import PUBLIC, Principal
from geomap.errors import Unauthorized, UnknownLayerError
from geomap.layers.base import Layer
from geomap.layers.registry import UnknownLayer, get_layer
from geomap.services.accounts import principal_for_secret
from geomap.settings import Settings

SESSION_COOKIE = "geomap_session"


def get_engine(request: Request) -> Engine:
    """The app's engine (opened in the lifespan)."""
    return request.app.state.engine


def get_settings(request: Request) -> Settings:
    """The settings the app was built with."""
    return request.app.state.settings


def get_principal(request: Request) -> Principal:
    """The caller: a Bearer token, else a session cookie, else the public."""
    engine: Engine = request.app.state.engine
    auth = request.headers.get("authorization")
    if auth is not None:
        scheme, _, secret = auth.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise Unauthorized("use 'Authorization: Bearer <token>'")
        with engine.connect() as conn:
            return principal_for_secret(conn, secret.strip(), "token")
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        with engine.connect() as conn:
            return principal_for_secret(conn, cookie, "session")
    return PUBLIC


def get_layer_dep(layer: Annotated[str, Path(description="Layer name, e.g. durian_trees", max_length=64)]) -> Layer:
    """The layer named in the path, or 404."""
    try:
        return get_layer(layer)
    except UnknownLayer as exc:
        raise UnknownLayerError(str(exc)) from None


EngineDep = Annotated[Engine, Depends(get_engine)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]
LayerDep = Annotated[Layer, Depends(get_layer_dep)]
