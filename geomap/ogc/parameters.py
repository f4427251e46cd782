"""The query parameters /ogc takes, checked before tipg sees them.

OGC API – Features Part 1 (7.15.2-7.15.8) lets a server refuse parameters it does not know; geomap
does, so a misspelt filter (``healht=chet``) is a 400 naming it instead of every feature. Values
tipg would choke on (a CQL2 text it cannot parse, a zoom beyond 64 bits,
a ``sortby`` with control characters) and enum or number values a property cannot hold are 400s
naming the parameter. Each check returns ``(parameter, reason)`` or None.

To accept a new parameter (``crs``, ``bbox-crs`` once implemented), add its name to
:data:`ITEMS_PARAMETERS` / :data:`ITEM_PARAMETERS`.
"""

from __future__ import annotations

import json
import logging
import re
import uuid

import cql2
from fastapi import Request

from geomap.layers.base import Layer
from geomap.layers.registry import get_layer
from geomap.ogc.collection import split_values

log = logging.getLogger(__name__)

PREFIX = "/ogc"
#: Parameters of ``/collections/{id}/items`` besides the collection's property names.
ITEMS_PARAMETERS = frozenset({
    "f", "lang", "limit", "offset", "bbox", "datetime", "ids", "properties", "sortby", "filter", "filter-lang",
    "filter-crs", "geom-column", "datetime-column", "bbox-only", "simplify",
    "crs", "bbox-crs",  # OGC API – Features Part 2 (CRS by reference)
})
#: Parameters of ``/collections/{id}/items/{itemId}``.
ITEM_PARAMETERS = frozenset({"f", "lang", "properties", "geom-column", "datetime-column", "bbox-only", "simplify", "crs"})
#: The only CRS filter geometries are read in (Part 3, Req 7): CQL2 literals are CRS84.
FILTER_CRS = {"http://www.opengis.net/def/crs/OGC/1.3/CRS84", "http://www.opengis.net/def/crs/EPSG/0/4326"}
ITEMS_PATH = re.compile(r"^/ogc/collections/(?P<collection>[^/]+)/items(?:/(?P<item>[^/]+))?/?$")
#: One ``sortby`` term: an optional direction and a column name (tipg's own parser breaks on control characters).
SORT_TERM = re.compile(r"^[+-]?[A-Za-z_][A-Za-z0-9_]*$")
MAX_ZOOM = 30


def unknown_parameter(request: Request, properties: set[str]) -> tuple[str, str] | None:
    """The first parameter of an items or item request that /ogc does not take."""
    match = ITEMS_PATH.match(request.url.path)
    if match is None:
        return None
    known = ITEM_PARAMETERS if match["item"] else ITEMS_PARAMETERS | properties
    for name in request.query_params:
        if name not in known:
            hint = "" if match["item"] else f"; properties: {', '.join(sorted(properties))}"
            return name, f"is not a parameter of this request (parameters: {', '.join(sorted(known - properties))}{hint})"
    return None


def property_value_problem(request: Request, layer: Layer) -> tuple[str, str] | None:
    """An enum or number property parameter with a value the property cannot hold."""
    for name, raw in request.query_params.multi_items():
        attr = layer.find(name)
        if attr is None or not attr.public:
            continue
        for value in split_values(layer, name, raw):
            if attr.kind == "enum" and value not in attr.values:
                return name, f"unknown value {value[:64]!r}; allowed: {', '.join(attr.values)}"
            if attr.kind == "int" and not re.fullmatch(r"-?\d{1,9}", value):
                return name, f"{value[:64]!r} is not a whole number"
            if attr.kind == "ref" and not _is_uuid(value):
                return name, f"{value[:64]!r} is not an id (UUID)"
    return None


def filter_crs_problem(request: Request) -> tuple[str, str] | None:
    value = request.query_params.get("filter-crs")
    if value is not None and value not in FILTER_CRS:
        return "filter-crs", f"filter geometries are read in CRS84 only ({', '.join(sorted(FILTER_CRS))})"
    return None


def item_id_missing(request: Request) -> bool:
    """True for ``…/items/{itemId}`` whose id cannot be an asset's (ids are UUIDs): that is a 404."""
    match = ITEMS_PATH.match(request.url.path)
    return bool(match and match["item"] and not _is_uuid(match["item"]))


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def filter_problem(request: Request) -> tuple[str, str] | None:
    """A ``filter`` the cql2 library cannot parse (tipg would answer a 500)."""
    if "filter" not in request.query_params:
        return None
    text = request.query_params["filter"]
    try:
        if request.query_params.get("filter-lang") == "cql2-json":
            cql2.Expr(json.loads(text))
        else:
            cql2.Expr(text)
    except Exception as exc:  # cql2 raises plain Exception for parse errors
        log.info("CQL2 filter refused: %s", " ".join(str(exc).split())[:500])
        return "filter", ("is not valid CQL2 text (for CQL2 JSON add filter-lang=cql2-json); "
                          "property names are listed at /ogc/collections/{collectionId}/queryables")
    return None


def zoom_problem(request: Request) -> tuple[str, str] | None:
    for name in ("minzoom", "maxzoom"):
        value = request.query_params.get(name)
        if value is not None and not (value.strip().isdigit() and int(value) <= MAX_ZOOM):
            return name, f"must be a whole number from 0 to {MAX_ZOOM}"
    return None


def sort_problem(request: Request) -> tuple[str, str] | None:
    value = request.query_params.get("sortby")
    if value is None:
        return None
    for term in value.split(","):
        if not SORT_TERM.fullmatch(term.strip(" ")):
            return "sortby", f"{term.strip(' ')[:64]!r} is not a property name with an optional + or - in front"
    return None


def parameter_problem(request: Request) -> tuple[str, str] | None:
    """The first problem with an /ogc request's parameters, or None."""
    found = filter_problem(request) or zoom_problem(request) or sort_problem(request)
    match = ITEMS_PATH.match(request.url.path)
    catalog = getattr(request.app.state, "collection_catalog", None) or {"collections": {}}
    collection = catalog["collections"].get(match["collection"]) if match else None
    if found or collection is None:
        return found
    properties = {c.name for c in collection.properties if not c.geometry_type}
    return (unknown_parameter(request, properties) or filter_crs_problem(request)
            or property_value_problem(request, get_layer(collection.id)))
