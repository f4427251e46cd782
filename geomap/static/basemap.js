/* geomap: what every map page shares — a Leaflet map with the basemap imagery (the only thing
   that may come from outside), a scale bar, a "locate me" button and a legend control.
   Served by the app; no inline scripts (the pages' CSP forbids them). */
(function () {
  "use strict";
  var geomap = (window.geomap = window.geomap || {});

  geomap.config = function (id) {
    var el = document.getElementById(id || "geomap-config");
    return el ? JSON.parse(el.textContent) : {};
  };

  geomap.esc = function (s) {
    return String(s == null ? "" : s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  };

  /* A map in element `el`: basemap, scale bar (metric), zoom buttons, locate button. */
  geomap.createMap = function (el, opts) {
    var map = L.map(el, { zoomControl: true, maxZoom: 21, tap: false });
    map.attributionControl.setPrefix(false);
    if (opts.basemap) {
      var imagery = L.tileLayer(opts.basemap, {
        maxZoom: 21, maxNativeZoom: 19, attribution: "© OpenStreetMap", crossOrigin: false
      });
      var failed = 0;
      imagery.on("tileerror", function () {
        failed += 1;
        if (failed === 4) {  // offline: say why the background is plain; the layers still draw
          map.getContainer().classList.add("no-imagery");
          if (opts.strings && opts.strings.no_imagery) { geomap.toast(map, opts.strings.no_imagery); }
          if (opts.outline) { geomap.outline(map, opts.outline); }
        }
      });
      imagery.addTo(map);
    }
    L.control.scale({ imperial: false, position: "bottomleft" }).addTo(map);
    geomap.locateControl(map, opts.strings || {}).addTo(map);
    return map;
  };

  /* Archipelagos drawn as Vietnam's whatever the outline data holds: their main islands and a label.
     (Natural Earth's countries have no feature for them; a national map of Vietnam must show them.) */
  var ARCHIPELAGOS = {
    hoang_sa: { label: [16.55, 111.95], islands: [[16.83, 112.33], [16.53, 111.6], [15.78, 111.2], [16.67, 112.73],
                                                   [16.45, 111.5], [16.97, 112.27]] },
    truong_sa: { label: [9.5, 113.2], islands: [[8.64, 111.92], [11.43, 114.33], [9.88, 114.33], [10.18, 114.37],
                                                 [10.38, 114.36], [7.89, 112.92], [10.92, 114.08], [8.85, 112.22]] }
  };

  /* The outline basemap (country outlines and coastline from npm's world-atlas, decoded by
     topojson-client), under the data, once: used when imagery cannot load. */
  geomap.outline = function (map, outline) {
    if (map._geomapOutline) { return map._geomapOutline; }
    map.createPane("outline").style.zIndex = 150;
    var group = (map._geomapOutline = L.layerGroup().addTo(map));
    Object.keys(ARCHIPELAGOS).forEach(function (key) {
      var a = ARCHIPELAGOS[key];
      a.islands.forEach(function (p) {
        L.circleMarker(p, { pane: "outline", radius: 3, weight: 1, color: "#8d6e63", fillColor: "#efe7d3",
                            fillOpacity: 1, interactive: false, className: "geomap-outline geomap-island" }).addTo(group);
      });
      L.marker(a.label, { pane: "outline", interactive: false, keyboard: false,
        icon: L.divIcon({ className: "geomap-archipelago", html: "<span>" + geomap.esc(outline.labels[key]) + "</span>", iconSize: null })
      }).addTo(group);
    });
    loadScript(outline.decoder, function () {
      fetch(outline.world).then(function (r) { return r.json(); }).then(function (world) {
        var countries = window.topojson.feature(world, world.objects.countries);
        L.geoJSON(countries, {
          pane: "outline", interactive: false, attribution: "Natural Earth",
          style: function (f) {
            var vn = f.properties && f.properties.name === "Vietnam";
            return { className: "geomap-outline" + (vn ? " geomap-outline-vn" : ""), weight: vn ? 1.5 : 0.8,
                     color: vn ? "#8d6e63" : "#b0aaa0", fillColor: vn ? "#efe7d3" : "#f7f5f0", fillOpacity: 1 };
          }
        }).addTo(group);
      }).catch(function () { /* the outline is a comfort, never an error */ });
    });
    return group;
  };

  function loadScript(src, done) {
    if (window.topojson) { return done(); }
    var el = document.createElement("script");
    el.src = src;
    el.onload = done;
    document.head.appendChild(el);
  }

  geomap.locateControl = function (map, strings) {
    var Locate = L.Control.extend({
      options: { position: "topleft" },
      onAdd: function () {
        var box = L.DomUtil.create("div", "leaflet-bar geomap-locate");
        var a = L.DomUtil.create("a", "", box);
        a.href = "#";
        a.setAttribute("role", "button");
        a.title = strings.locate || "Locate";
        a.setAttribute("aria-label", a.title);
        a.textContent = "◎";
        var marker = null;
        L.DomEvent.on(a, "click", function (e) {
          L.DomEvent.preventDefault(e);
          L.DomEvent.stopPropagation(e);
          map.locate({ setView: true, maxZoom: 18, enableHighAccuracy: true, timeout: 15000 });
        });
        map.on("locationfound", function (e) {
          if (marker) { map.removeLayer(marker); }
          marker = L.layerGroup([
            L.circle(e.latlng, { radius: e.accuracy, weight: 1, color: "#1565c0", fillOpacity: 0.1, interactive: false }),
            L.circleMarker(e.latlng, { radius: 7, color: "#fff", weight: 2, fillColor: "#1565c0", fillOpacity: 1 })
          ]).addTo(map);
        });
        map.on("locationerror", function () { geomap.toast(map, strings.locate_failed || "Location unavailable"); });
        return box;
      }
    });
    return new Locate();
  };

  /* A short message over the map that goes away by itself. */
  geomap.toast = function (map, text) {
    var box = map.getContainer().querySelector(".geomap-toast");
    if (!box) {
      box = L.DomUtil.create("div", "geomap-toast", map.getContainer());
      box.setAttribute("role", "status");
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.on(box, "click", function () { box.hidden = true; });  // a tap puts it away at once
    }
    box.textContent = text;
    box.hidden = false;
    clearTimeout(box._timer);
    box._timer = setTimeout(function () { box.hidden = true; }, 5000);
  };

  /* A legend as a Leaflet control (so it stacks with the attribution instead of covering it). */
  geomap.legendControl = function (title, html, open) {
    var Legend = L.Control.extend({
      options: { position: "bottomleft" },  // the open sea on the right holds Hoàng Sa and Trường Sa
      onAdd: function () {
        var box = L.DomUtil.create("details", "geomap-legend");
        if (open) { box.open = true; }
        box.innerHTML = "<summary>" + geomap.esc(title) + "</summary><div class='rows'>" + html + "</div>";
        L.DomEvent.disableClickPropagation(box);
        L.DomEvent.disableScrollPropagation(box);
        this._box = box;
        return box;
      },
      setContent: function (newHtml) {
        if (this._box) { this._box.querySelector(".rows").innerHTML = newHtml; }
      }
    });
    return new Legend();
  };

  geomap.legendRows = function (rows) {
    return rows.map(function (r) {
      return "<div class='legend-row'><i class='swatch' style='background:" + geomap.esc(r[0]) + "'></i>" +
        geomap.esc(r[1]) + (r[2] != null ? " <b>" + geomap.esc(r[2]) + "</b>" : "") + "</div>";
    }).join("");
  };
})();
