/* An asset's page: a small map of the asset, and a link that opens its place in the phone's map app. */
(function () {
  "use strict";
  var geomap = window.geomap;
  var cfg = geomap.config();
  var map = geomap.createMap("asset-map", { basemap: cfg.basemap, outline: cfg.outline, strings: cfg.strings });
  geomap.map = map;
  var shape = L.geoJSON(cfg.geometry, {
    style: function (f) { return f.geometry.type === "Point" ? {} : { color: cfg.color, weight: 3, fillOpacity: 0.15 }; },
    pointToLayer: function (_, ll) { return L.circleMarker(ll, { radius: 10, color: "#fff", weight: 2, fillColor: cfg.color, fillOpacity: 1 }); }
  }).addTo(map);
  var bounds = shape.getBounds();
  if (cfg.geometry.type === "Point") { map.setView(bounds.getCenter(), 17); } else { map.fitBounds(bounds, { padding: [10, 10] }); }
  var c = bounds.getCenter(), link = document.getElementById("open-in-maps");
  if (link) {
    var lat = c.lat.toFixed(6), lon = c.lng.toFixed(6);
    // geo: opens the map app on Android; iPhones understand the maps.apple.com link instead.
    link.href = /iPhone|iPad|iPod/.test(navigator.userAgent) ? "https://maps.apple.com/?ll=" + lat + "," + lon + "&q=" + lat + "," + lon
      : "geo:" + lat + "," + lon + "?q=" + lat + "," + lon;
    link.hidden = false;
  }
})();
