/* geomap: vector-tile layers on a Folium/Leaflet map. Served by the app, no CDN. */
(function () {
  "use strict";
  // Leaflet >= 1.8 removed DomEvent.fakeStop, which VectorGrid 1.3 still calls on click.
  if (window.L && L.DomEvent && !L.DomEvent.fakeStop) { L.DomEvent.fakeStop = function () { return true; }; }

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
    layer.on("click", function (e) {
      var p = e.layer.properties || {};
      var html;
      if (p.count > 1) {
        html = "<b>" + esc(opts.title) + "</b><br>" + esc(p.count) + " " + esc(opts.labels.zoom_in);
      } else {
        var q = opts.lang === "en" ? "?lang=en" : "";
        html = "<b>" + esc(p.name) + "</b><br>" + esc(opts.title) + " · " + esc(p.code) +
          (p.variety ? "<br>" + esc(p.variety) : "") + (p.health ? " · " + esc(p.health) : "") +
          "<br><a class='geomap-detail' href='/a/" + encodeURIComponent(p.code) + q + "'>" + esc(opts.labels.details) + " →</a>";
      }
      L.popup().setLatLng(e.latlng).setContent(html).openOn(layer._map);
      L.DomEvent.stop(e);
    });
    return layer;
  };

  geomap.register = function (name, layer, map) {
    geomap.layers[name] = layer;
    if (geomap.maps.indexOf(map) < 0) { geomap.maps.push(map); }
    geomap.map = map;
  };
})();
