"""The one list of layers. Adding a layer: a module in this package and one line here."""

from __future__ import annotations

from geomap.layers import (
    border_markers,
    digital_libraries,
    durian_trees,
    farms,
    heritage_sites,
    wifi_points,
)
from geomap.layers.base import Layer

#: Order matters where layers reference each other: referenced layers come first.
LAYERS: tuple[Layer, ...] = (
    farms.LAYER,
    durian_trees.LAYER,
    wifi_points.LAYER,
    digital_libraries.LAYER,
    border_markers.LAYER,
    heritage_sites.LAYER,
)

_BY_NAME = {layer.name: layer for layer in LAYERS}


class UnknownLayer(KeyError):
    """No layer has that name."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name

    def __str__(self) -> str:
        return f"unknown layer '{self.name}'; known layers: {', '.join(_BY_NAME)}"


def get_layer(name: str) -> Layer:
    """The layer called ``name``, or :class:`UnknownLayer`."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise UnknownLayer(name) from None


def layer_names() -> list[str]:
    """Names of all layers, in registry order."""
    return list(_BY_NAME)
