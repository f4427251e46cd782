"""``GET /health``."""

from __future__ import annotations

from fastapi import APIRouter, Request

from geomap.api.deps import EngineDep
from geomap.services.health import health as health_report

router = APIRouter(tags=["health"])


@router.get("/health", summary="Database, PostGIS version and per-layer counts")
def health(engine: EngineDep, request: Request) -> dict:
    """Report whether the database answers, its PostGIS version, how many assets each layer holds and,
    with read replicas, whether each answers and how many bytes of WAL it is behind."""
    report = health_report(engine, embedded=request.app.state.db.embedded is not None)
    replicas = request.app.state.reads.status()
    if replicas:
        report["replicas"] = replicas
    return report
