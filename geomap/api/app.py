"""``create_app(settings)``: the FastAPI application. No work happens at import time."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI

from geomap import __version__
from geomap.api.errors import install_error_handlers
from geomap.api.limits import BodySizeLimit
from geomap.api.routes import auth, features, health, layers, photos, places
from geomap.database import Database, make_engine
from geomap.migrate import upgrade
from geomap.settings import Settings

log = logging.getLogger("geomap")


def create_app(settings: Settings | None = None, migrate: bool = True) -> FastAPI:
    """Build the app. The database (embedded or external) is opened in the lifespan."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        db = Database(settings)
        url = db.open()
        if migrate:
            upgrade(url)
        engine = make_engine(url)
        app.state.db = db
        app.state.engine = engine
        log.info("geomap ready on %s", engine.url.render_as_string(hide_password=True))
        try:
            yield
        finally:
            engine.dispose()
            db.close()

    app = FastAPI(
        title="geomap",
        version=__version__,
        description="Bản đồ tài sản số cộng đồng — community digital asset map (PostGIS layers).",
        lifespan=lifespan,
    )
    app.state.settings = settings
    install_error_handlers(app)
    app.add_middleware(BodySizeLimit)
    for module in (health, layers, features, photos, places, auth):
        app.include_router(module.router)
    return app
