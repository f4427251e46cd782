"""Folium maps whose JavaScript and CSS come from the app itself (``/static``), never a CDN.

``LocalMap`` swaps Folium's CDN defaults for Leaflet installed from npm; ``VectorTileLayer``
draws a layer's ``/tiles`` with Leaflet.VectorGrid, so the page stays small whatever the data
size. The basemap URL is configurable; if its imagery cannot load, the layers still draw.
"""

from __future__ import annotations

from urllib.parse import urlencode

import folium
from branca.element import Element
from folium.elements import JSCSSMixin
from folium.map import Layer
from jinja2 import Template

from geomap.layers.base import Layer as AssetLayer

VENDOR = "/static/vendor"
LEAFLET_JS = [("leaflet", f"{VENDOR}/leaflet/dist/leaflet.js")]
LEAFLET_CSS = [("leaflet_css", f"{VENDOR}/leaflet/dist/leaflet.css"), ("geomap_css", "/static/geomap/map.css")]
VIETNAM_CENTER = (16.2, 106.3)


class LocalMap(folium.Map):
    """A Folium map that loads only Leaflet, from this app."""

    default_js = LEAFLET_JS
    default_css = LEAFLET_CSS


class VectorTileLayer(JSCSSMixin, Layer):
    """One geomap layer drawn from its vector tiles, toggleable in the layer control."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = geomap.vectorLayer({{ this.options|tojson }});
        geomap.register({{ this.mvt_layer|tojson }}, {{ this.get_name() }}, {{ this._parent.get_name() }});
        {% endmacro %}
        """
    )
    default_js = [
        ("vectorgrid", f"{VENDOR}/leaflet.vectorgrid/dist/Leaflet.VectorGrid.bundled.min.js"),
        ("geomap_map", "/static/geomap/map.js"),
    ]

    def __init__(self, layer: AssetLayer, url: str, lang: str, show: bool = True) -> None:
        super().__init__(name=layer.label(lang), overlay=True, control=True, show=show)
        self._name = "VectorTileLayer"
        self.mvt_layer = layer.name
        self.options = {
            "url": url,
            "layer": layer.name,
            "title": layer.label(lang),
            "color": layer.style.color,
            "radius": layer.style.radius,
            "polygon": layer.geometry != "Point",
            "lang": lang,
            "labels": {"zoom_in": "", "details": ""},
            "enums": {
                a.name: {c.value: (c.vi if lang == "vi" else c.en) for c in a.choices}
                for a in layer.all_attributes if a.choices
            },
        }


def basemap(m: folium.Map, url: str) -> None:
    """Add the basemap tiles (external imagery is the one thing that may come from outside)."""
    folium.TileLayer(
        tiles=url, attr="© OpenStreetMap contributors", name="Bản đồ nền", control=False, max_zoom=20,
    ).add_to(m)


def tile_url(layer: AssetLayer, filters: dict[str, str]) -> str:
    """The ``/tiles`` URL template of ``layer`` with ``filters`` in its query string."""
    query = urlencode(filters)
    return f"/tiles/{layer.name}/{{z}}/{{x}}/{{y}}.mvt" + (f"?{query}" if query else "")


def public_map(layers: list[tuple[AssetLayer, dict[str, str], bool]], basemap_url: str, lang: str,
               strings: dict[str, str]) -> LocalMap:
    """The national map: every layer as a vector-tile overlay, a layer control and a legend."""
    m = LocalMap(location=VIETNAM_CENTER, zoom_start=6, tiles=None, control_scale=True, prefer_canvas=False)
    basemap(m, basemap_url)
    for layer, filters, show in layers:
        vt = VectorTileLayer(layer, tile_url(layer, filters), lang, show=show)
        vt.options["labels"] = {"zoom_in": strings["zoom_in"], "details": strings["details"]}
        vt.add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    return m


def small_map(geojson: dict, color: str, lang: str, basemap_url: str, zoom: int = 17) -> LocalMap:
    """A small map of one asset (detail pages)."""
    from shapely.geometry import shape

    centre = shape(geojson).centroid
    m = LocalMap(location=(centre.y, centre.x), zoom_start=zoom, tiles=None)
    basemap(m, basemap_url)
    if geojson["type"] == "Point":
        folium.CircleMarker((centre.y, centre.x), radius=9, color=color, fill=True, fill_opacity=0.9).add_to(m)
    else:
        folium.GeoJson(geojson, style_function=lambda _: {"color": color, "weight": 2, "fillOpacity": 0.15}).add_to(m)
        m.fit_bounds(_bounds(geojson))
    return m


def _bounds(geojson: dict) -> list[list[float]]:
    from shapely.geometry import shape

    x0, y0, x1, y1 = shape(geojson).bounds
    return [[y0, x0], [y1, x1]]


def orchard_map(farm: dict, trees: list[dict], color_of, basemap_url: str, legend_html: str) -> LocalMap:
    """A farm boundary and its trees coloured by ``color_of(properties)``."""
    m = LocalMap(location=(0, 0), zoom_start=17, tiles=None, max_zoom=21)
    basemap(m, basemap_url)
    folium.GeoJson(
        farm["geometry"], name="farm", style_function=lambda _: {"color": "#2e7d32", "weight": 3, "fillOpacity": 0.05},
    ).add_to(m)
    group = folium.FeatureGroup(name="trees")
    for tree in trees:
        lon, lat = tree["geometry"]["coordinates"]
        p = tree["properties"]
        folium.CircleMarker(
            (lat, lon), radius=5, color="#333", weight=1, fill=True, fill_color=color_of(p), fill_opacity=0.95,
            tooltip=f"{p['code']}", popup=folium.Popup(f"<a href='/a/{p['code']}' target='_top'>{p['code']}</a>"),
        ).add_to(group)
    group.add_to(m)
    m.fit_bounds(_bounds(farm["geometry"]))
    m.get_root().html.add_child(Element(legend_html))
    return m
