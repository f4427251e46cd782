/* The report form for a spot of the map: a small map with the spot as a red point, which can be
   dragged, or moved by a tap, to where the problem really is (the form's lon/lat follow it).
   Without this script the form still sends the spot that was tapped on the map. */
(function () {
  "use strict";
  var geomap = window.geomap;
  var cfg = geomap.config();
  var lon = document.getElementById("spot-lon"), lat = document.getElementById("spot-lat");
  var where = document.getElementById("spot-where"), box = document.getElementById("spot-map");
  var point = L.latLng(parseFloat(cfg.lat), parseFloat(cfg.lon));
  if (!isFinite(point.lat) || !isFinite(point.lng)) { box.hidden = true; return; }  // the form says what is wrong
  var map = geomap.createMap("spot-map", { basemap: cfg.basemap, outline: cfg.outline, strings: cfg.strings });
  geomap.map = map;
  var icon = L.divIcon({ className: "spot-marker", iconSize: [44, 44], iconAnchor: [22, 22] });  // a 44 px handle
  var marker = L.marker(point, { draggable: true, icon: icon, keyboard: false }).addTo(map);
  map.setView(point, 17);
  function moved() {
    var p = marker.getLatLng();
    lon.value = p.lng.toFixed(6);
    lat.value = p.lat.toFixed(6);
    where.textContent = cfg.strings.report_place_where.replace("{lat}", lat.value).replace("{lon}", lon.value);
    // The language link loads this form again: at the point as it now stands.
    Array.prototype.forEach.call(document.querySelectorAll("a.lang-switch"), function (link) {
      var u = new URL(link.href, location.href);
      u.searchParams.set("lon", lon.value);
      u.searchParams.set("lat", lat.value);
      link.href = u.pathname + u.search;
    });
  }
  marker.on("dragend", moved);
  map.on("click", function (e) { marker.setLatLng(e.latlng); moved(); });
})();
