"""KML styling: GDAL writes the placemarks; this adds the layer's colours as shared styles.

A layer with ``Style.color_by`` (trees by health) gets one style per choice in that choice's colour
(``#health-sau_benh``); every other placemark gets the layer's own colour (``#layer``).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from geomap.layers.base import Layer

NS = "http://www.opengis.net/kml/2.2"
K = f"{{{NS}}}"


def kml_color(hex_color: str, alpha: str = "ff") -> str:
    """``#rrggbb`` → KML's ``aabbggrr``."""
    rgb = hex_color.lstrip("#")
    return f"{alpha}{rgb[4:6]}{rgb[2:4]}{rgb[0:2]}".lower()


def _style(document: ET.Element, style_id: str, color: str, at: int) -> None:
    style = ET.Element(f"{K}Style", id=style_id)
    ET.SubElement(ET.SubElement(style, f"{K}IconStyle"), f"{K}color").text = kml_color(color)
    line = ET.SubElement(style, f"{K}LineStyle")
    ET.SubElement(line, f"{K}color").text = kml_color(color)
    ET.SubElement(line, f"{K}width").text = "2"
    ET.SubElement(ET.SubElement(style, f"{K}PolyStyle"), f"{K}color").text = kml_color(color, "80")
    document.insert(at, style)


def _styles(layer: Layer) -> tuple[dict[str, str], dict[str, str]]:
    """Style id → colour for ``layer``, and cell text (value or its vi/en label) → style id."""
    colors, ids = {"layer": layer.style.color}, {}
    attr = layer.find(layer.style.color_by) if layer.style.color_by else None
    for choice in attr.choices if attr is not None else ():
        if choice.color:
            colors[f"{attr.name}-{choice.value}"] = choice.color
            ids.update(dict.fromkeys((choice.value, choice.vi, choice.en), f"{attr.name}-{choice.value}"))
    return colors, ids


def add_styles(path: Path, layer: Layer) -> None:
    """Rewrite the KML at ``path`` with the layer's styles and a ``styleUrl`` on each placemark."""
    ET.register_namespace("", NS)
    tree = ET.parse(path)
    document = tree.getroot().find(f"{K}Document")
    if document is None:
        return
    styles, ids = _styles(layer)
    for i, (style_id, color) in enumerate(styles.items()):
        _style(document, style_id, color, i)
    by = layer.style.color_by
    for placemark in document.iter(f"{K}Placemark"):
        value = next((d.text for d in placemark.iter(f"{K}SimpleData") if d.get("name") == by), None) if by else None
        style_id = ids.get(value or "", "layer")
        url = ET.Element(f"{K}styleUrl")
        url.text = f"#{style_id}"
        children = list(placemark)
        at = next((i for i, c in enumerate(children) if c.tag not in (f"{K}name", f"{K}description")), len(children))
        placemark.insert(at, url)
    tree.write(path, encoding="utf-8", xml_declaration=True)
