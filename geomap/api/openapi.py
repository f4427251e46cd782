"""OpenAPI post-processing: every operation documents its ``application/problem+json`` errors."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

PROBLEM_SCHEMA = {
    "type": "object",
    "title": "Problem",
    "description": "RFC 9457 problem details; `errors` names each field at fault.",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"field": {"type": "string"}, "reason": {"type": "string"}, "index": {"type": ["integer", "null"]}},
                "required": ["field", "reason"],
            },
        },
    },
    "required": ["type", "title", "status", "detail"],
}
ERRORS = {
    "400": "Malformed request", "401": "Missing or invalid credentials", "403": "Not allowed for this role",
    "404": "Not found", "409": "Conflict (duplicate, nearby asset, reused id)", "412": "Stale If-Match",
    "413": "Body too large", "415": "Unsupported media type", "422": "Invalid input (fields named)",
    "428": "If-Match required", "429": "Too many writes (see Retry-After)", "500": "Internal error (logged)",
    "503": "Database unreachable for now (see Retry-After)",
}
DOWNLOAD_TYPES = ["application/geo+json", "application/geopackage+sqlite3", "text/csv; charset=utf-8",
                  "application/vnd.google-earth.kml+xml"]


def install_openapi(app: FastAPI) -> None:
    """Replace ``app.openapi`` with a version that documents problem responses on every operation."""

    def openapi() -> dict:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
        ref = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
        for path, item in schema.get("paths", {}).items():
            for method, op in item.items():
                if not isinstance(op, dict) or "responses" not in op:
                    continue
                for code, description in ERRORS.items():
                    op["responses"][code] = {"description": description, "content": ref}
                if path.endswith("/download"):
                    op["responses"]["200"]["content"] = {t: {"schema": {"type": "string", "format": "binary"}} for t in DOWNLOAD_TYPES}
                if path.startswith("/ogc") and any(p.get("name") == "f" for p in op.get("parameters", [])):
                    # tipg answers ?f=html with HTML on these operations but documents only JSON.
                    op["responses"].get("200", {}).setdefault("content", {}).setdefault("text/html", {"schema": {"type": "string"}})
                if path.startswith("/tiles/") or "/tiles/WebMercatorQuad/" in path:
                    op["responses"]["304"] = {"description": "Not modified (If-None-Match)"}
        _add_links(schema)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


ITEM = "/api/v1/layers/{layer}/features/{asset_id}"


def _add_links(schema: dict) -> None:
    """OpenAPI links from a create to what can be done with the created asset (stateful fuzzing)."""
    paths = schema.get("paths", {})
    created = paths.get("/api/v1/layers/{layer}/features", {}).get("post")
    if not created:
        return
    targets = {f"{method}_{suffix or 'feature'}": op["operationId"]
               for suffix, path in (("", ITEM), ("history", ITEM + "/history"), ("photos", ITEM + "/photos"))
               for method, op in paths.get(path, {}).items() if isinstance(op, dict) and "operationId" in op}
    links = {name.title().replace("_", ""): {
        "operationId": op_id,
        "parameters": {"layer": "$request.path.layer", "asset_id": "$response.body#/id"},
    } for name, op_id in targets.items()}
    for code in ("200", "201"):
        created.setdefault("responses", {}).setdefault(code, {"description": "Created"})["links"] = links
