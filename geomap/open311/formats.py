"""Open311's two formats: JSON, and XML as GeoReport v2 writes it (``<services><service>…``),
and its error list (``[{"code": 400, "description": "…"}]``)."""

from __future__ import annotations

import json
from xml.etree import ElementTree as ET

from fastapi.responses import Response

from geomap.errors import FieldProblem, GeomapError, InvalidInput

FORMATS = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
#: The XML element of a list and of each item in it, per resource.
XML_NAMES = {"services": ("services", "service"), "service_definition": ("service_definition", None),
             "requests": ("service_requests", "request"), "errors": ("errors", "error"),
             "discovery": ("discovery", None)}


def _add(parent: ET.Element, name: str, value) -> None:
    child = ET.SubElement(parent, name)
    if isinstance(value, dict):
        for key, inner in value.items():
            _add(child, key, inner)
    elif isinstance(value, list):
        singular = {"attributes": "attribute", "values": "value", "endpoints": "endpoint", "formats": "format",
                    "keywords": "keyword"}.get(name, "item")
        for item in value:
            _add(child, singular, item)
    elif value is not None:
        child.text = str(value).lower() if isinstance(value, bool) else str(value)


def to_xml(kind: str, data) -> bytes:
    """``data`` (a list, or an object) as GeoReport v2 XML."""
    root_name, item_name = XML_NAMES[kind]
    root = ET.Element(root_name)
    if isinstance(data, list):
        for item in data:
            node = ET.SubElement(root, item_name or "item")
            for key, value in item.items():
                _add(node, key, value)
    else:
        for key, value in data.items():
            _add(root, key, value)
    return b'<?xml version="1.0" encoding="utf-8"?>' + ET.tostring(root, encoding="utf-8", xml_declaration=False)


def render(kind: str, data, fmt: str, status: int = 200) -> Response:
    """A response in ``fmt`` (``json`` or ``xml``)."""
    if fmt == "xml":
        return Response(to_xml(kind, data), status_code=status, media_type=FORMATS["xml"])
    return Response(json.dumps(data, ensure_ascii=False).encode("utf-8"), status_code=status, media_type=FORMATS["json"])


def errors_of(exc: GeomapError, status: int) -> list[dict]:
    """Open311's error list for a domain error: one entry per field at fault."""
    if isinstance(exc, InvalidInput):
        return [{"code": status, "description": f"{p.field}: {p.reason}"} for p in exc.problems]
    return [{"code": status, "description": exc.message}]


def field_error(field: str, reason: str) -> InvalidInput:
    """An InvalidInput about one Open311 parameter."""
    return InvalidInput([FieldProblem(field, reason)])


def format_of(path: str) -> str:
    """``json`` or ``xml`` from a path's extension (JSON when there is none)."""
    return "xml" if path.endswith(".xml") else "json"
