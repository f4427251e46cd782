"""``GET /api/v1/layers``: the registry, for clients that build forms and filters from it."""

from __future__ import annotations

from fastapi import APIRouter

from geomap.layers.base import Attr, Layer
from geomap.layers.common import REVIEW_STATES
from geomap.layers.registry import LAYERS

router = APIRouter(prefix="/api/v1", tags=["layers"])


def describe_attr(attr: Attr) -> dict:
    """One attribute as the API describes it."""
    out = {
        "name": attr.name, "type": attr.kind, "label": {"vi": attr.vi, "en": attr.en},
        "required": attr.required, "public": attr.public, "filterable": attr.filterable,
        "server_owned": attr.server,
    }
    if attr.choices:
        out["enum"] = [{"value": c.value, "label": {"vi": c.vi, "en": c.en}} for c in attr.choices]
    for key in ("ge", "le", "gt", "max_length", "pattern", "ref_layer"):
        value = getattr(attr, key)
        if value is not None and not (key == "max_length" and attr.kind != "text"):
            out[key] = value
    if attr.farmer_writable:
        out["farmer_writable"] = True
    return out


def describe_layer(layer: Layer) -> dict:
    """One layer as the API describes it."""
    return {
        "name": layer.name,
        "title": {"vi": layer.vi, "en": layer.en},
        "description": {"vi": layer.description_vi, "en": layer.description_en},
        "geometry_type": layer.geometry,
        "min_spacing_m": layer.min_spacing_m,
        # None: the global GEOMAP_GPS_ACCURACY_MAX_M (GET /api/v1/field/me); the stricter applies.
        "gps_accuracy_max_m": layer.gps_accuracy_max_m,
        "fields": [describe_attr(a) for a in layer.all_attributes],
        "review_states": [{"value": c.value, "label": {"vi": c.vi, "en": c.en}} for c in REVIEW_STATES],
        "style": {"color": layer.style.color, "icon": layer.style.icon},
    }


@router.get("/layers", summary="Layers with their fields, types, enums and labels")
def list_layers() -> dict:
    """Every layer of the registry: fields with types, enums (vi/en labels), geometry type, filters."""
    return {"layers": [describe_layer(layer) for layer in LAYERS]}
