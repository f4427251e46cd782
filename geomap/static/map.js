/* geomap: vector-tile layers on a Folium/Leaflet map. Served by the app, no CDN. */
(function () {
  "use strict";
  // Leaflet >= 1.8 removed DomEvent.fakeStop, which VectorGrid 1.3 still calls on click.
  if (window.L && L.DomEvent && !L.DomEvent.fakeStop) { L.DomEvent.fakeStop = function () { return true; }; }

  // VectorGrid's point symbols are CircleMarkers without a latlng; Leaflet 1.9 asks small
  // circle "markers" for one on every click. Derive it from the tile and the point's pixel.
  if (window.L && L.CircleMarker) {
    var getLatLng = L.CircleMarker.prototype.getLatLng;
    L.CircleMarker.prototype.getLatLng = function () {
      var r = this._renderer;
      if (!this._latlng && r && r._tileCoord && r._map && this._point) {
        var size = r._size || L.point(256, 256);
        return r._map.unproject(r._tileCoord.scaleBy(size).add(this._point), r._tileCoord.z);
      }
      return getLatLng.call(this);
    };
  }

  var geomap = (window.geomap = window.geomap || { layers: {}, maps: [] });

  function esc(s) {
    return String(s == null ? "" : s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  geomap.style = function (opts) {
    return function (props, zoom) {
      var n = props.count || 1;
      if (opts.polygon && !props.count) {
        return { color: opts.color, weight: 2, fill: true, fillColor: opts.color, fillOpacity: 0.15 };
      }
      var r = n > 1 ? Math.min(22, opts.radius + 3 * Math.log(n)) : opts.radius + (zoom >= 17 ? 2 : 0);
      return { radius: r, color: "#ffffff", weight: 1, fill: true, fillColor: opts.color, fillOpacity: 0.85 };
    };
  };

  geomap.vectorLayer = function (opts) {
    var styles = {};
    styles[opts.layer] = geomap.style(opts);
    var layer = L.vectorGrid.protobuf(opts.url, {
      rendererFactory: L.svg.tile,
      interactive: true,
      maxNativeZoom: 20,
      maxZoom: 21,
      vectorTileLayerStyles: styles,
      getFeatureId: function (f) { return f.properties.id; }
    });
    layer.geomapOptions = opts;
    function label(attr, value) { return (opts.enums[attr] || {})[value] || value; }
    layer.on("click", function (e) {
      var p = e.layer.properties || {};
      var html;
      if (p.count > 1) {
        html = "<b>" + esc(opts.title) + "</b><br>" + esc(p.count) + " " + esc(opts.labels.zoom_in);
      } else {
        var q = opts.lang === "en" ? "?lang=en" : "";
        html = "<b>" + esc(p.name) + "</b><br>" + esc(opts.title) + " · " + esc(p.code) +
          (p.variety ? "<br>" + esc(label("variety", p.variety)) : "") + (p.health ? " · " + esc(label("health", p.health)) : "") +
          "<br><a class='geomap-detail' href='/a/" + encodeURIComponent(p.code) + q + "'>" + esc(opts.labels.details) + " →</a>";
      }
      // Events from VectorGrid's SVG tiles carry no latlng: take it from the mouse event.
      var latlng = e.latlng || layer._map.mouseEventToLatLng(e.originalEvent);
      L.popup().setLatLng(latlng).setContent(html).openOn(layer._map);
    });
    return layer;
  };

  geomap.register = function (name, layer, map) {
    geomap.layers[name] = layer;
    if (geomap.maps.indexOf(map) < 0) { geomap.maps.push(map); }
    geomap.map = map;
  };
})();
