"""``create_app(settings)``: the FastAPI application. No work happens at import time."""

from __future__ import annotations

import gc
import logging
import threading
from contextlib import asynccontextmanager
from pathlib import Path

from anyio import to_thread
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.gzip import GZipMiddleware

from geomap import __version__
from geomap.api.admission import WriteAdmission
from geomap.api.cors import ReadOnlyCors
from geomap.api.errors import install_error_handlers
from geomap.api.limits import BodySizeLimit
from geomap.api.openapi import install_openapi
from geomap.api.security import SecurityMiddleware
from geomap.api.routes import auth, downloads, features, field_api, health, layers, photos, places, reports, tiles, uploads
from geomap.database import Database, make_engine
from geomap.field import routes as field_routes
from geomap.layers.registry import LAYERS
from geomap.migrate import upgrade
from geomap.ogc.app import add_ogc, close_ogc, open_ogc
from geomap.open311.app import build_open311
from geomap.ogc.views import publish_views
from geomap.replicas import ReadRouter
from geomap.reports.delivery import DeliveryPolicy, WebhookWorker
from geomap.services.tiles import TileCache, prewarm
from geomap.settings import Settings
from geomap.web import routes as web_routes
from geomap.web.static_cache import StaticCacheHeaders

STATIC = Path(__file__).resolve().parent.parent / "static"

log = logging.getLogger("geomap")
ROUTE_MODULES = (health, layers, features, downloads, photos, places, auth, tiles, web_routes, field_api, field_routes, reports,
                 uploads)


def _prewarm(engine, cache) -> None:
    try:
        log.info("prewarmed %d national-view tiles", prewarm(engine, cache, LAYERS))
    except Exception:  # never let a warm-up problem take the app down
        log.warning("tile prewarm failed", exc_info=True)


def _webhook_worker(engine, settings: Settings) -> WebhookWorker | None:
    """The background sender of team webhooks (geomap/reports/delivery.py), when enabled."""
    if not settings.webhooks_enabled:
        return None
    worker = WebhookWorker(engine, DeliveryPolicy(settings.webhook_poll_s, settings.webhook_backoff_s,
                                                  settings.webhook_max_attempts, settings.webhook_timeout_s))
    worker.start()
    return worker


def app_from_env() -> FastAPI:
    """App factory for ``uvicorn --factory`` and ``geomap serve --workers N``: settings from the environment."""
    return create_app(Settings())


def _add_middleware(app: FastAPI, settings: Settings) -> None:
    """The middleware stack, innermost first: field writes' turns, body limits, security headers and
    rate limits, static caching, read-only CORS, then gzip for everything (pages, tiles, downloads
    on slow links)."""
    app.add_middleware(WriteAdmission, concurrency=settings.write_concurrency)
    app.add_middleware(BodySizeLimit)
    app.add_middleware(
        SecurityMiddleware, basemap_url=settings.basemap_url,
        per_credential_per_min=settings.write_rate_per_token, per_ip_per_min=settings.write_rate_per_ip,
        settings=settings,
    )
    app.add_middleware(StaticCacheHeaders)
    app.add_middleware(ReadOnlyCors, origins=settings.cors_origins)  # open data for web maps on other sites
    app.add_middleware(GZipMiddleware, minimum_size=500, compresslevel=6)


def create_app(settings: Settings | None = None, migrate: bool | None = None) -> FastAPI:
    """Build the app. The database (embedded or external) is opened in the lifespan."""
    settings = settings or Settings()
    migrate = settings.migrate_on_start if migrate is None else migrate

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        # Sync routes and dependencies run in anyio's thread pool; its size is this loop's limiter.
        to_thread.current_default_thread_limiter().total_tokens = settings.worker_threads
        db = Database(settings)
        url = db.open()
        if migrate:
            upgrade(url)
            publish_views(url)
        engine = make_engine(url, pool_size=settings.db_pool_size, max_overflow=settings.db_pool_overflow)
        app.state.db = db
        app.state.engine = engine
        app.state.reads = ReadRouter(engine, settings.read_database_urls, settings.replica_poll_s)
        app.state.reads.start()
        await open_ogc(app, url)
        app.state.webhooks = _webhook_worker(engine, settings)
        if settings.prewarm_tiles:
            threading.Thread(target=_prewarm, args=(engine, app.state.tile_cache), daemon=True, name="tile-prewarm").start()
        log.info("geomap ready on %s", engine.url.render_as_string(hide_password=True))
        # The ~200,000 objects built by now live as long as the worker: frozen, Python's full
        # collections skip them (they took 100-340 ms under field writes). Unfrozen on shutdown.
        gc.collect()  # start-up's own garbage first, or it would be kept for the worker's life
        gc.freeze()
        try:
            yield
        finally:
            gc.unfreeze()
            await close_ogc(app)
            if app.state.webhooks is not None:
                app.state.webhooks.close()
            app.state.reads.close()
            engine.dispose()
            db.close()

    app = FastAPI(
        title="geomap",
        version=__version__,
        description="Bản đồ tài sản số cộng đồng — community digital asset map (PostGIS layers).",
        lifespan=lifespan,
        docs_url=None, redoc_url=None,  # /docs is served by geomap.web with Swagger UI from npm (no CDN)
    )
    app.state.settings = settings
    app.state.tile_cache = TileCache()
    install_error_handlers(app)
    install_openapi(app)
    _add_middleware(app, settings)
    for module in ROUTE_MODULES:
        app.include_router(module.router)
    if not (settings.assets_dir / "leaflet").exists():
        log.warning("%s/leaflet is missing: run `make assets` (npm ci) so map pages can load Leaflet", settings.assets_dir)
    add_ogc(app)
    app.mount("/open311", build_open311(app))
    app.mount("/static/vendor", StaticFiles(directory=settings.assets_dir, check_dir=False), name="vendor")
    app.mount("/static/geomap", StaticFiles(directory=STATIC), name="static")
    return app
