"""Report categories as the API and Open311 name them: ``<layer>.<category>`` (``wifi_points.mat_ket_noi``).

The categories themselves are declared with each layer (``report_categories`` in
``geomap/layers/<layer>.py``); this module only looks them up and lists them.
"""

from __future__ import annotations

from typing import NamedTuple

from geomap.layers.base import Layer, ReportCategory
from geomap.layers.registry import LAYERS, UnknownLayer, get_layer


class Category(NamedTuple):
    """A report category together with its layer."""

    layer: Layer
    category: ReportCategory

    @property
    def code(self) -> str:
        """The qualified code, ``<layer>.<category>`` (the Open311 ``service_code``)."""
        return f"{self.layer.name}.{self.category.code}"


def all_categories() -> list[Category]:
    """Every layer's categories, in registry order, each layer's "khac" last."""
    return [Category(layer, c) for layer in LAYERS for c in layer.all_report_categories]


def find_category(code: str | None, layer_name: str | None = None) -> Category | None:
    """The category ``code`` names: qualified (``wifi_points.mat_ket_noi``), or bare (``mat_ket_noi``)
    when ``layer_name`` (e.g. the reported asset's layer) says which layer. None when unknown."""
    if not code:
        return None
    name, dot, bare = code.strip().partition(".")
    if not dot:
        name, bare = layer_name or "", name
    elif layer_name and name != layer_name:
        return None
    try:
        layer = get_layer(name)
    except UnknownLayer:
        return None
    found = layer.report_category(bare)
    return Category(layer, found) if found else None


def describe(category: Category) -> dict:
    """A category as the API lists it (codes and vi/en labels)."""
    return {"code": category.code, "layer": category.layer.name, "category": category.category.code,
            "vi": category.category.vi, "en": category.category.en,
            "layer_vi": category.layer.vi, "layer_en": category.layer.en,
            "duplicate_radius_m": category.category.duplicate_radius_m}
