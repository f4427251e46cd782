"""What the OGC API says about a layer, from the registry: its queryables (JSON Schema, with
titles in the reader's language and ``enum`` values), its collection title, and a MapLibre style
for geomap's own vector tiles."""

from __future__ import annotations

from tipg.collections import Collection

from geomap.layers.attributes import Attr
from geomap.layers.base import Layer
from geomap.layers.registry import get_layer
from geomap.ogc.collection import GEOMETRY_QUERYABLE

JSON_SCHEMA = "https://json-schema.org/draft/2020-12/schema"
GEOJSON_SCHEMAS = {"Point": "https://geojson.org/schema/Point.json",
                   "MultiPolygon": "https://geojson.org/schema/MultiPolygon.json"}
JSON_TYPES = {"int": "integer", "float": "number"}
BOOKKEEPING = {
    "id": {"vi": "Mã định danh (UUID)", "en": "Identifier (UUID)", "type": "string", "format": "uuid", "x-ogc-role": "id"},
    "updated_at": {"vi": "Cập nhật lúc", "en": "Updated at", "type": "string", "format": "date-time"},
}


def collection_title(name: str, lang: str) -> str:
    """A collection's title: the layer's Vietnamese name, or its English one for ``lang='en'``."""
    return get_layer(name).label(lang)


def _attribute_schema(attr: Attr, lang: str) -> dict:
    schema: dict = {"title": attr.label(lang), "type": JSON_TYPES.get(attr.kind, "string")}
    if attr.kind == "enum":
        schema["enum"] = list(attr.values)
    elif attr.kind == "ref":
        schema["format"] = "uuid"
    elif attr.kind == "date":
        schema["format"] = "date"
    return schema


def geometry_schema(layer: Layer, lang: str) -> dict:
    """The primary geometry as OGC API – Features Part 3/5 describe it."""
    return {
        "title": "Vị trí" if lang != "en" else "Location",
        "format": f"geometry-{layer.geometry.lower()}",
        "x-ogc-role": "primary-geometry",
        "$ref": GEOJSON_SCHEMAS[layer.geometry],
    }


def queryables(collection: Collection, lang: str, url: str) -> dict:
    """The queryables of a collection: every property it serves, the geometry as ``geometry``."""
    layer = get_layer(collection.id)
    properties: dict = {GEOMETRY_QUERYABLE: geometry_schema(layer, lang)}
    for column in collection.properties:
        if column.geometry_type:
            continue
        attr = layer.find(column.name)
        if attr is not None:
            properties[column.name] = _attribute_schema(attr, lang)
        elif column.name in BOOKKEEPING:
            extra = BOOKKEEPING[column.name]
            properties[column.name] = {"title": extra["en" if lang == "en" else "vi"],
                                       **{k: v for k, v in extra.items() if k not in ("vi", "en")}}
        else:
            properties[column.name] = {"title": column.name, "type": column.json_type}
    return {"$schema": JSON_SCHEMA, "$id": url, "type": "object", "title": layer.label(lang),
            "properties": properties, "additionalProperties": False}


def _point_color(layer: Layer) -> list | str:
    """A MapLibre expression colouring individual features by the layer's ``color_by`` attribute."""
    by = layer.style.color_by
    choices = [c for c in layer.find(by).choices if c.color] if by else []
    if not choices:
        return layer.style.color
    match: list = ["match", ["get", by]]
    for choice in choices:
        match += [choice.value, choice.color]
    return match + [layer.style.color]


def style(layer: Layer, tiles_url: str, bounds: list[float], lang: str) -> dict:
    """A MapLibre style (v8) drawing geomap's tiles of ``layer``: aggregated cells sized by their
    ``count``, individual assets in the layer's colours, polygons filled."""
    source = layer.name
    aggregated = ["has", "count"]
    layers: list[dict] = [
        {"id": f"{source}-cells", "type": "circle", "source": source, "source-layer": layer.name, "filter": aggregated,
         "paint": {"circle-color": layer.style.color, "circle-opacity": 0.85, "circle-stroke-color": "#ffffff",
                   "circle-stroke-width": 1,
                   "circle-radius": ["interpolate", ["linear"], ["get", "count"], 1, 5, 100, 12, 10000, 24]}},
    ]
    if layer.geometry == "Point":
        layers.append({"id": f"{source}-points", "type": "circle", "source": source, "source-layer": layer.name,
                       "filter": ["!", aggregated],
                       "paint": {"circle-color": _point_color(layer), "circle-radius": layer.style.radius + 1,
                                 "circle-stroke-color": "#ffffff", "circle-stroke-width": 1}})
    else:
        polygons = ["all", ["!", aggregated], ["==", ["geometry-type"], "Polygon"]]
        layers += [
            {"id": f"{source}-fill", "type": "fill", "source": source, "source-layer": layer.name, "filter": polygons,
             "paint": {"fill-color": layer.style.color, "fill-opacity": 0.3}},
            {"id": f"{source}-outline", "type": "line", "source": source, "source-layer": layer.name, "filter": polygons,
             "paint": {"line-color": layer.style.color, "line-width": 2}},
        ]
    west, south, east, north = bounds
    return {
        "version": 8,
        "name": layer.label(lang),
        "sources": {source: {"type": "vector", "tiles": [tiles_url], "minzoom": 0, "maxzoom": 20, "bounds": bounds,
                             "attribution": "geomap"}},
        "layers": [{"id": "background", "type": "background", "paint": {"background-color": "#f4f4f0"}}, *layers],
        "center": [(west + east) / 2, (south + north) / 2],
        "zoom": 8,
    }
