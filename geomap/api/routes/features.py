"""Feature routes under ``/api/v1/layers/{layer}/features``: thin wrappers over the services."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import JSONResponse

from geomap.api.deps import EngineDep, IfMatchDep, LayerDep, PrincipalDep, ReadEngineDep, SettingsDep, WriterDep, written
from geomap.conditional import etag_matches
from geomap.api.schemas import Feature, FeatureCollection, FeatureCollectionIn, FeatureIn, FeaturePatch, HistoryEntry, ReviewIn
from geomap.services import features as reads
from geomap.services import creates, edits
from geomap.services.feature_input import WriteOptions

router = APIRouter(prefix="/api/v1/layers/{layer}/features", tags=["features"])

IdemKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200, description="Makes a retried POST safe")]


def _options(settings, force: bool, confirm_nearby: bool) -> WriteOptions:
    return WriteOptions(force=force, confirm_nearby=confirm_nearby, gps_accuracy_max_m=settings.gps_accuracy_max_m,
                        max_vertices=settings.geometry_max_vertices)


@router.get("", response_model=FeatureCollection, summary="Features with filters, search and paging")
def list_features(layer: LayerDep, request: Request, engine: ReadEngineDep, principal: PrincipalDep) -> dict:
    """Filter with ``bbox``, attribute equality (``variety=ri6,monthong``), ranges (``planting_year_min``),
    ``province``/``commune``, ``q`` (code or name, diacritics-insensitive), ``review_state``;
    page with ``limit`` (≤ 1000) and the ``next`` link's cursor. ``sort=relevance`` (with ``q``)
    answers one page of the search, best match first: the code or name typed whole, then the
    words typed standing as words, then the rest."""
    params = dict(request.query_params)
    with engine.connect() as conn:
        page = reads.list_features(conn, layer, params, principal)
    links = [{"rel": "self", "href": str(request.url)}]
    if page.next_cursor:
        links.append({"rel": "next", "href": str(request.url.include_query_params(cursor=page.next_cursor))})
    return {"type": "FeatureCollection", "features": page.features, "numberReturned": len(page.features), "links": links}


@router.post("", response_model=Feature, status_code=201, summary="Create (tag) an asset",
             responses={200: {"description": "A retry of a create that already happened"}})
def create_feature(
    layer: LayerDep, body: FeatureIn, engine: EngineDep, writer: WriterDep, settings: SettingsDep, request: Request,
    force: bool = Query(False, description="Admins: accept GPS accuracy above the limit"),
    confirm_nearby: bool = Query(False, description="Tag a new asset even though one is within the layer's spacing"),
    idempotency_key: IdemKey = None,
) -> Response:
    """Create one asset. A retry with the same id (or ``Idempotency-Key``) and content returns it with 200."""
    with engine.begin() as conn:
        principal = writer.principal(conn)
        [result] = creates.create_features(
            conn, layer, principal, [body.model_dump()],
            _options(settings, force, confirm_nearby), single=True, idempotency_key=idempotency_key,
        )
    status = 201 if result.created else 200
    # The collection's URL and the new id (what url_for("get_feature") gives, without searching the routes).
    location = str(request.url.replace(path=f"{request.url.path.rstrip('/')}/{result.feature['id']}", query=""))
    return written(request, principal, JSONResponse(
        result.feature, status_code=status,
        headers={"ETag": reads.etag(result.feature["properties"]["version"]), "Location": location}), layer)


@router.post("/batch", summary="Create up to 5,000 assets, all or nothing")
def create_batch(
    layer: LayerDep, body: FeatureCollectionIn, engine: EngineDep, writer: WriterDep, settings: SettingsDep,
    request: Request,
    force: bool = Query(False), confirm_nearby: bool = Query(False), idempotency_key: IdemKey = None,
) -> Response:
    """Every feature keeps its own idempotency (its id); any problem means nothing is written."""
    with engine.begin() as conn:
        principal = writer.principal(conn)
        results = creates.create_features(
            conn, layer, principal, body.features, _options(settings, force, confirm_nearby), idempotency_key=idempotency_key,
        )
    created = sum(r.created for r in results)
    return written(request, principal, JSONResponse(
        {"type": "FeatureCollection", "features": [r.feature for r in results], "created": created,
         "existing": len(results) - created},
        status_code=201 if created else 200,
    ), layer)


@router.get("/{asset_id}", response_model=Feature, summary="One asset, with its ETag",
            responses={304: {"description": "Not modified: If-None-Match names the current version"}})
def get_feature(layer: LayerDep, asset_id: str, engine: ReadEngineDep, principal: PrincipalDep,
                request: Request) -> Response:
    """One asset; the ``ETag`` header is what ``If-Match`` takes when editing it, and an
    ``If-None-Match`` naming it gets 304 Not Modified."""
    with engine.connect() as conn:
        feature, tag = reads.get_feature(conn, layer, asset_id, principal)
    # The body depends on who asks (a farmer sees their farm's private attributes).
    headers = {"ETag": tag, "Vary": "Authorization, Cookie, Accept-Encoding"}
    if etag_matches(request.headers.get("if-none-match"), tag):
        return Response(status_code=304, headers=headers)
    return JSONResponse(feature, headers=headers)


@router.patch("/{asset_id}", response_model=Feature, summary="Edit an asset (JSON Merge Patch, needs If-Match)")
def patch_feature(
    layer: LayerDep, asset_id: str, body: FeaturePatch, engine: EngineDep, writer: WriterDep,
    settings: SettingsDep, request: Request, version: IfMatchDep,
) -> Response:
    """Change properties (``null`` clears one) and/or the geometry. A stale ETag is 412, a missing one 428."""
    patch = body.model_dump(exclude_unset=True)
    with engine.begin() as conn:
        principal = writer.principal(conn)
        feature, tag = edits.patch_feature(conn, layer, principal, asset_id, version=version, body=patch,
                                           options=_options(settings, False, True))
    return written(request, principal, JSONResponse(feature, headers={"ETag": tag}), layer)


@router.delete("/{asset_id}", status_code=204, summary="Soft-delete an asset (needs If-Match)")
def delete_feature(layer: LayerDep, asset_id: str, engine: EngineDep, writer: WriterDep, request: Request,
                   version: IfMatchDep) -> Response:
    """The asset disappears from maps and lists; an administrator can restore it."""
    with engine.begin() as conn:
        principal = writer.principal(conn)
        edits.delete_feature(conn, layer, principal, asset_id, version=version)
    return written(request, principal, Response(status_code=204), layer)


@router.post("/{asset_id}/restore", response_model=Feature, summary="Restore a deleted asset (admin)")
def restore_feature(layer: LayerDep, asset_id: str, engine: EngineDep, writer: WriterDep, request: Request) -> Response:
    """Undo a soft delete."""
    with engine.begin() as conn:
        principal = writer.principal(conn)
        feature, tag = edits.restore_feature(conn, layer, principal, asset_id)
    return written(request, principal, JSONResponse(feature, headers={"ETag": tag}), layer)


@router.post("/{asset_id}/review", response_model=Feature, summary="Review an asset (admin)")
def review_feature(layer: LayerDep, asset_id: str, body: ReviewIn, engine: EngineDep, writer: WriterDep,
                   request: Request) -> Response:
    """Set received / has_issues (with a comment) / approved / rejected."""
    with engine.begin() as conn:
        principal = writer.principal(conn)
        feature, tag = edits.review_feature(conn, layer, principal, asset_id, body.model_dump())
    return written(request, principal, JSONResponse(feature, headers={"ETag": tag}), layer)


@router.get("/{asset_id}/history", response_model=list[HistoryEntry], summary="Per-field audit of an asset")
def feature_history(layer: LayerDep, asset_id: str, engine: ReadEngineDep, principal: PrincipalDep) -> list[dict]:
    """Who changed what and when, old → new, from creation to deletion."""
    with engine.connect() as conn:
        return reads.history(conn, layer, asset_id, principal)
