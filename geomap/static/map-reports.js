/* The public map's citizen reports: an optional "Sự cố" layer of open public reports (fetched for
   the view from /api/v1/reports), and a tap on an empty spot of the map offers "Báo sự cố tại đây"
   with the assets within 50 m (else 500 m) to attach the report to, or the spot itself. Loaded after map.js (uses geomap.map). */
(function () {
  "use strict";
  var geomap = window.geomap, map = geomap.map, cfg = geomap.config(), S = cfg.strings, esc = geomap.esc;
  var q = cfg.langParam || "";
  var NEAR_M = [50, 500], ACTIVE = "open,acknowledged,in_progress", SPOT_ZOOM = 15;
  var reports = L.layerGroup();
  geomap.reportsLayer = reports;
  var box = document.getElementById("reports-toggle");

  function label(r, key) { return cfg.lang === "en" ? r[key + "_en"] : r[key + "_vi"]; }
  function reportPopup(r) {
    var html = "<b>" + esc(label(r, "category")) + "</b><br>" + esc(S["state_" + r.state] || label(r, "state"));
    if (r.asset && r.asset.code) {
      html += "<br><a class='geomap-detail' href='/a/" + encodeURIComponent(r.asset.code) + q + "'>" + esc(r.asset.code) + " →</a>";
    }
    return html;
  }
  var loaded = null;  // the area last asked for (half a view more on each side): small pans ask nothing
  function load(force) {
    if (!map.hasLayer(reports) || (force !== true && loaded && loaded.contains(map.getBounds()))) { return; }
    var b = loaded = map.getBounds().pad(0.5);
    var bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) { return v.toFixed(5); }).join(",");
    fetch("/api/v1/reports?limit=500&state=" + ACTIVE + "&bbox=" + bbox).then(function (r) {
      return r.ok ? r.json() : [];
    }).then(function (found) {
      reports.clearLayers();
      found.forEach(function (r) {
        L.circleMarker([r.location.lat, r.location.lon], { radius: 11, color: "#ffffff", weight: 3, fillColor: "#d50000",
          fillOpacity: 1, className: "geomap-report" }).bindPopup(reportPopup(r)).addTo(reports);
      });
      map.getContainer().dataset.reports = String(found.length);
    }).catch(function () { loaded = null; map.getContainer().dataset.reports = "failed"; });
  }
  if (box) {
    box.addEventListener("change", function () {
      if (box.checked) { reports.addTo(map); load(true); } else { map.removeLayer(reports); }
    });
    if (box.checked) { reports.addTo(map); load(true); }
  }
  map.on("moveend", load);

  // ---- "Báo sự cố tại đây": the nearest assets around a tap ----
  // The assets within 50 m; none there (a tap beside a village's wifi point), then within 500 m.
  function nearbyList(popup, latlng, step) {
    step = step || 0;
    var u = "/api/v1/nearby?radius_m=" + NEAR_M[step] + "&limit=5&lon=" + latlng.lng.toFixed(6) + "&lat=" + latlng.lat.toFixed(6);
    popup.setContent("<p>" + esc(S.searching) + "</p>");
    fetch(u).then(function (r) { return r.ok ? r.json() : { features: [] }; }).then(function (fc) {
      if (!fc.features.length && step + 1 < NEAR_M.length) { nearbyList(popup, latlng, step + 1); return; }
      // A problem that belongs to no asset (a wifi point nobody tagged yet) is reported at the spot itself.
      // Only from street level, where a tap is within metres of what the person means.
      var exact = map.getZoom() >= SPOT_ZOOM;
      var spot = "/report?lon=" + latlng.lng.toFixed(6) + "&lat=" + latlng.lat.toFixed(6) + (q ? "&" + q.slice(1) : "");
      if (!fc.features.length) {
        popup.setContent("<p class='near-none'>" + esc(S.report_here_none) + "</p>" + (exact
          ? "<a class='button near-spot' href='" + spot + "'>" + esc(S.report_here_place) + "</a>"
          : "<p class='near-zoom'>" + esc(S.report_here_zoom) + "</p>"));
        return;
      }
      var html = "<p>" + esc(S.report_here_pick) + "</p><ul class='near-assets'>";
      fc.features.forEach(function (f) {
        var p = f.properties;
        html += "<li><a class='button near-asset' href='/a/" + encodeURIComponent(p.code) + "/report" + q + "'>" +
          esc(p.name || p.code) + " · " + esc(p.code) + " (" + Math.round(p.distance_m) + " m)</a></li>";
      });
      popup.setContent(html + "</ul>" + (exact ? "<a class='button secondary near-spot' href='" + spot + "'>" +
        esc(S.report_here_other) + "</a>" : ""));
    }).catch(function () { popup.setContent("<p>" + esc(S.search_failed) + "</p>"); });
  }
  map.on("click", function (e) {
    var target = e.originalEvent && e.originalEvent.target;
    if (target && target.classList && target.classList.contains("leaflet-interactive")) { return; }  // a feature's own popup
    // Kept clear of the zoom and locate buttons down the left edge (they sit above popups).
    // Narrow enough on a phone to fit beside them (content + its 20/44 px margins + 64 px of buttons).
    var popup = L.popup({ className: "report-here-popup", autoPanPaddingTopLeft: [64, 8],
                          maxWidth: Math.min(300, window.innerWidth - 150) }).setLatLng(e.latlng);
    var button = L.DomUtil.create("button", "button report-here");
    button.type = "button";
    button.textContent = S.report_here;
    L.DomEvent.on(button, "click", function (ev) { L.DomEvent.stop(ev); nearbyList(popup, e.latlng); });
    popup.setContent(button).openOn(map);
  });
})();
