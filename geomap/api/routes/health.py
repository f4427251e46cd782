"""``GET /health``."""

from __future__ import annotations

from fastapi import APIRouter, Request

from geomap.api.deps import EngineDep, PrincipalDep
from geomap.services.health import health as health_report
from geomap.services.health import status

router = APIRouter(tags=["health"])


@router.get("/health", summary="Whether the service answers; details for administrators")
def health(engine: EngineDep, principal: PrincipalDep, request: Request) -> dict:
    """``{"status": "ok"}`` when the database answers (503 otherwise), all a load balancer needs.
    Administrators also get the database (embedded or not, host, port, PostgreSQL and PostGIS
    versions, migration), how many assets each layer holds and, with read replicas, whether each
    answers and how many bytes of WAL it is behind."""
    if not principal.is_admin:
        return status(engine)
    report = health_report(engine, embedded=request.app.state.db.is_embedded)
    replicas = request.app.state.reads.status()
    if replicas:
        report["replicas"] = replicas
    return report
