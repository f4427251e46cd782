"""What the public map page shows, as data: the layers (from the registry), the filters the URL
carries, the filter form, the legend and the configuration the page's script reads.

A layer that cannot satisfy the chosen filters (wifi points have no ``health``) stays off the map;
polygon layers are kept as context with the filters they understand (farm boundaries stay
visible when trees are filtered).
"""

from __future__ import annotations

from urllib.parse import urlencode

from geomap.geometry import NATIONAL_VIEW
from geomap.layers.base import Attr, Layer
from geomap.layers.common import COMMON_ATTRIBUTES
from geomap.layers.registry import LAYERS

COMMON_FILTERS = ("province", "commune", "status", "q")
TEXT_FILTERS = ("province", "commune")
PAGE_PARAMS = ("layer", "lang")
FALLBACK_COLOR = "#9e9e9e"
#: The legend's entry for the grey of an asset whose colour attribute is empty.
NOT_RECORDED = {"vi": "Chưa ghi", "en": "Not recorded"}
#: The first view, as Leaflet takes bounds: ((south, west), (north, east)).
VIETNAM_BOUNDS = ((NATIONAL_VIEW[1], NATIONAL_VIEW[0]), (NATIONAL_VIEW[3], NATIONAL_VIEW[2]))


def map_filters(params) -> tuple[list[str], dict[str, str]]:
    """Selected layers and non-empty filters from the page's query string."""
    known = {layer.name for layer in LAYERS}
    chosen = [v for v in params.getlist("layer") if v in known] or [layer.name for layer in LAYERS]
    filters = {k: v for k, v in params.items() if k not in PAGE_PARAMS and v}
    return chosen, filters


def own_filters(layer: Layer) -> set[str]:
    """The filter parameters ``layer`` understands (its filterable attributes and ``<ref>_code``)."""
    own = {a.name for a in layer.all_attributes if a.filterable}
    own |= {f"{a.name.removesuffix('_id')}_code" for a in layer.ref_attributes}
    return own | set(COMMON_FILTERS)


def shown_layers(filters: dict[str, str]) -> list[tuple[Layer, dict[str, str], bool]]:
    """(layer, its tile filters, whether it is context only) for every layer the map can draw
    with these filters (the visitor turns each on or off)."""
    shown = []
    for layer in LAYERS:
        own = own_filters(layer)
        if set(filters) <= own:
            shown.append((layer, {k: v for k, v in filters.items() if k in own}, False))
        elif layer.geometry != "Point":
            context = {k: v for k, v in filters.items() if k in TEXT_FILTERS}
            shown.append((layer, context, True))
    return shown


def _drawn(filters: dict[str, str]) -> dict[str, str]:
    """The filters of what the map draws: all but the search's words, which find, not filter."""
    return {k: v for k, v in filters.items() if k != "q"}


def tile_url(layer: Layer, filters: dict[str, str]) -> str:
    """The ``/tiles`` URL template of ``layer`` with ``filters`` in its query string."""
    query = urlencode(filters)
    return f"/tiles/{layer.name}/{{z}}/{{x}}/{{y}}.mvt" + (f"?{query}" if query else "")


def _colors(attr: Attr | None) -> dict[str, str]:
    return {c.value: c.color or FALLBACK_COLOR for c in attr.choices} if attr else {}


def layer_config(layer: Layer, filters: dict[str, str], context: bool, lang: str) -> dict:
    """What the page's script needs to draw one layer."""
    color_attr = layer.find(layer.style.color_by) if layer.style.color_by else None
    return {
        "name": layer.name,
        "title": layer.label(lang),
        # The map draws every asset around what a search finds (a farm's trees, a tree's neighbours);
        # the search itself lists its finds and rings the one chosen.
        "url": tile_url(layer, _drawn(filters)),
        "filters": filters,
        "color": layer.style.color,
        "radius": layer.style.radius,
        "polygon": layer.geometry != "Point",
        "context": context,
        "colorBy": color_attr.name if color_attr else None,
        "colors": _colors(color_attr),
        "legend": [[c.value, c.color or FALLBACK_COLOR, c.label(lang)] for c in color_attr.choices]
                  + [["", FALLBACK_COLOR, NOT_RECORDED[lang]]] if color_attr else [],
        "fallback": FALLBACK_COLOR,
        "enums": {a.name: {c.value: c.label(lang) for c in a.choices} for a in layer.all_attributes if a.choices},
    }


def legend(shown: list[tuple[Layer, dict, bool]], lang: str) -> list[dict]:
    """Legend rows: one per layer, with the per-value colours of its colour attribute."""
    rows = []
    for layer, _, _ in shown:
        attr = layer.find(layer.style.color_by) if layer.style.color_by else None
        values = [(c.color or FALLBACK_COLOR, c.label(lang)) for c in attr.choices] + [(FALLBACK_COLOR, NOT_RECORDED[lang])] if attr else []
        rows.append({"title": layer.label(lang), "color": layer.style.color, "entries": values,
                     "polygon": layer.geometry != "Point"})
    return rows


def filter_fields(filters: dict[str, str], lang: str) -> list[dict]:
    """The filter form: every filterable enum (status first), then farm code, province, commune."""
    status = next(a for a in COMMON_ATTRIBUTES if a.name == "status")
    fields, seen = [], set()
    enum_attrs = [(None, status)] + [(layer, a) for layer in LAYERS for a in layer.attributes
                                     if a.kind == "enum" and a.filterable]
    for layer, attr in enum_attrs:
        if attr.name in seen:
            continue
        seen.add(attr.name)
        title = attr.label(lang) if layer is None else f"{layer.label(lang)}: {attr.label(lang)}"
        options = [(c.value, c.label(lang)) for c in attr.choices]
        fields.append({"name": attr.name, "title": title, "options": options, "value": filters.get(attr.name, "")})
    refs = sorted({f"{a.name.removesuffix('_id')}_code" for layer in LAYERS for a in layer.ref_attributes})
    for name in refs:
        fields.append({"name": name, "title": None, "options": None, "value": filters.get(name, "")})
    for name in TEXT_FILTERS:
        attr = next(a for a in COMMON_ATTRIBUTES if a.name == name)
        fields.append({"name": name, "title": attr.label(lang), "options": None, "value": filters.get(name, "")})
    return fields


def downloads(shown: list[tuple[Layer, dict, bool]], lang: str) -> list[dict]:
    """Download links (every format) for what the map shows."""
    return [{"title": layer.label(lang),
             "links": [(fmt.upper(), f"/api/v1/layers/{layer.name}/download?{urlencode({**_drawn(f), 'format': fmt})}")
                       for fmt in ("geojson", "gpkg", "csv", "kml")]}
            for layer, f, context in shown if not context]


def page_data(params, lang: str, basemap_url: str, strings: dict[str, str], bounds=lambda layer: None) -> dict:
    """Everything the public map template renders, including the script's configuration.
    ``bounds(layer)`` is where the layer's data lies (tiles outside it are never asked for)."""
    chosen, filters = map_filters(params)
    shown = shown_layers(filters)
    layers = [{**layer_config(layer, f, context, lang), "on": layer.name in chosen, "bounds": bounds(layer)}
              for layer, f, context in shown]
    config = {
        "lang": lang,
        "basemap": basemap_url,
        "bounds": VIETNAM_BOUNDS,
        "layers": layers,
        "allChosen": len(chosen) == len(LAYERS),
        "q": filters.get("q", ""),
        "strings": strings,
    }
    return {"config": config, "filters": filters, "fields": filter_fields(filters, lang),
            "toggles": [(c["name"], c["title"], c["color"], c["on"]) for c in layers],
            "legend": legend(shown, lang), "downloads": downloads([s for s in shown if s[0].name in chosen], lang)}
