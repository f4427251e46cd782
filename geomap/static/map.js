/* geomap public map: vector-tile layers, clusters with counts (tap to zoom in), trees coloured by
   health, a bottom sheet with layers/filters/search results, position in the URL (#z/lat/lon). */
(function () {
  "use strict";
  var geomap = window.geomap;
  // Leaflet >= 1.8 removed DomEvent.fakeStop, which VectorGrid 1.3 still calls on click.
  if (!L.DomEvent.fakeStop) { L.DomEvent.fakeStop = function () { return true; }; }
  // VectorGrid's point symbols are CircleMarkers without a latlng; Leaflet 1.9 asks for one on click.
  var getLatLng = L.CircleMarker.prototype.getLatLng;
  L.CircleMarker.prototype.getLatLng = function () {
    var r = this._renderer;
    if (!this._latlng && r && r._tileCoord && r._map && this._point) {
      var size = r._size || L.point(256, 256);
      return r._map.unproject(r._tileCoord.scaleBy(size).add(this._point), r._tileCoord.z);
    }
    return getLatLng.call(this);
  };

  var cfg = geomap.config();
  var S = cfg.strings;
  var esc = geomap.esc;
  var DETAIL_ZOOM = 15;

  function shortCount(n) {
    return n >= 10000 ? Math.round(n / 1000) + "k" : n >= 1000 ? (n / 1000).toFixed(1).replace(".0", "") + "k" : String(n);
  }

  /* An SVG tile renderer that writes each cluster's count on it, unseen: declutter measures these
     and shows the counts that stay in the "counts" pane above every tile. */
  var CountTile = L.SVG.Tile.extend({
    _addPath: function (layer) {
      L.SVG.Tile.prototype._addPath.call(this, layer);
      var n = layer.properties && layer.properties.count;
      if (n > 1 && layer._point) {
        var t = L.SVG.create("text");
        t.setAttribute("x", layer._point.x);
        t.setAttribute("y", layer._point.y);
        t.setAttribute("class", "geomap-count-measure");
        t.textContent = shortCount(n);
        this._rootGroup.appendChild(t);
        (this._counts = this._counts || []).push({ count: n, path: layer._path, text: t });
      }
    }
  });

  /* Clusters sit at their assets' centroid, so two of neighbouring grid cells (or tiles) can land a
     few px apart and print their counts over each other. Once tiles have drawn, biggest first: a
     cluster overlapping a bigger one of the same layer by more than half its size is folded into it
     (hidden, its count added to the bigger one's label: nothing disappears from the sum); a count
     that would touch a bigger cluster's count or circle is hidden, its circle stays. The counts
     shown are drawn in one pane above all tiles: inside a tile's SVG, the next tile's circles
     would cover them. */
  function declutter() {
    var all = [], view = map.getContainer().getBoundingClientRect();
    // While a layer still loads the new view's tiles, the counts shown stay until it has drawn.
    if (Object.keys(geomap.layers).some(function (n) { return map.hasLayer(geomap.layers[n]) && geomap.layers[n].isLoading(); })) { return; }
    Object.keys(geomap.layers).forEach(function (name) {
      var grid = geomap.layers[name];
      if (!map.hasLayer(grid)) { return; }
      Object.keys(grid._vectorTiles || {}).forEach(function (key) {
        // Tiles of the zoom just left linger (scaled) until Leaflet prunes them: not counted.
        var current = +key.split(":")[2] === grid._tileZoom;
        (grid._vectorTiles[key]._counts || []).forEach(function (c) {
          c.layer = name;
          c.total = c.count;
          c.path.style.display = c.text.style.display = "";
          c.text.textContent = shortCount(c.count);
          if (current) { all.push(c); }
        });
      });
    });
    all = all.filter(function (c) {
      c.circle = c.path.getBoundingClientRect();
      return c.circle.width && c.circle.right > view.left && c.circle.left < view.right &&
        c.circle.bottom > view.top && c.circle.top < view.bottom;  // on screen (not a buffered tile)
    });
    all.sort(function (a, b) { return b.count - a.count; });
    var kept = [];
    all.forEach(function (c) {
      var r = c.circle.width / 2, x = c.circle.left + r, y = c.circle.top + r;
      var into = kept.find(function (k) {  // overlapping by more than half of the smaller: one cluster
        var kr = k.circle.width / 2;
        return k.layer === c.layer && Math.hypot(k.circle.left + kr - x, k.circle.top + kr - y) < kr + r / 2;
      });
      if (into) {
        into.total += c.count;
        into.text.textContent = shortCount(into.total);
        into.box = into.text.getBoundingClientRect();  // "999" may have become "1.2k"
        c.path.style.display = c.text.style.display = "none";
        return;
      }
      c.box = c.text.getBoundingClientRect();
      // A count under a bigger cluster's count, or under its circle (another tile's may be drawn on top).
      if (kept.some(function (k) { return (k.text.style.display !== "none" && touches(k.box, c.box)) || touches(k.circle, c.box); })) {
        c.text.style.display = "none";
      }
      kept.push(c);
    });
    counts.clearLayers();
    kept.forEach(function (k) {
      if (k.text.style.display === "none") { return; }
      var r = k.circle.width / 2, at = L.point(k.circle.left + r - view.left, k.circle.top + r - view.top);
      L.marker(map.containerPointToLatLng(at), { pane: "counts", interactive: false, keyboard: false,
        icon: L.divIcon({ className: "geomap-count", html: "<span>" + shortCount(k.total) + "</span>", iconSize: null })
      }).addTo(counts);
    });
  }
  function touches(a, b) {
    return !(a.right + 6 <= b.left || b.right + 6 <= a.left || a.bottom <= b.top || b.bottom <= a.top);  // a space between
  }
  var declutterSoon = (function () {
    var pending = false;
    return function () {
      if (pending) { return; }
      pending = true;
      L.Util.requestAnimFrame(function () { pending = false; declutter(); });
    };
  })();

  function style(opts) {
    return function (p, zoom) {
      var n = p.count || 1;
      if (opts.polygon && !p.count) {
        return { color: opts.color, weight: 2, fill: true, fillColor: opts.color, fillOpacity: opts.context ? 0.04 : 0.15 };
      }
      if (n > 1) {
        // 15 px for ten, 21 for a thousand, at most 22: two neighbouring cells (48 px) do not overlap.
        return { radius: Math.min(22, 12 + 3 * Math.log(n) / Math.LN10), color: "#ffffff", weight: 2, fill: true,
                 fillColor: opts.color, fillOpacity: 0.85 };
      }
      // Below DETAIL_ZOOM a lone asset is a cluster of one, without its attributes: the layer's colour.
      var fill = opts.colorBy && zoom >= DETAIL_ZOOM ? (opts.colors[p[opts.colorBy]] || opts.fallback) : opts.color;
      // The white ring sets neighbours apart from z17; below it trees are a few px apart and the
      // rings alone would wash a whole orchard out to white.
      return { radius: opts.radius + (zoom >= 17 ? 3 : 1), color: "#ffffff", weight: zoom >= 17 ? 1 : 0, fill: true,
               fillColor: fill, fillOpacity: 0.95 };
    };
  }

  function vectorLayer(opts, map) {
    var styles = {};
    styles[opts.name] = style(opts);
    var layer = L.vectorGrid.protobuf(opts.url, {
      bounds: opts.bounds ? L.latLngBounds(opts.bounds) : undefined,  // no requests where the layer has no data
      rendererFactory: function (coords, size, o) { return new CountTile(coords, size, o); },
      interactive: true, maxNativeZoom: 20, maxZoom: 21, vectorTileLayerStyles: styles,
      updateWhenZooming: false, updateWhenIdle: true, keepBuffer: 1,  // no tiles for the in-between zooms of a pinch
      getFeatureId: function (f) { return f.properties.id || f.properties.code; }  // no id at z15
    });
    function label(attr, value) { return (opts.enums[attr] || {})[value] || value; }
    layer.on("click", function (e) {
      var p = e.layer.properties || {};
      var latlng = e.latlng || map.mouseEventToLatLng(e.originalEvent);
      if (p.count > 1) {  // a cluster: zoom in on it
        map.setView(latlng, Math.min(map.getZoom() + 2, DETAIL_ZOOM));
        return;
      }
      var q = cfg.langParam || "";
      // At z15 a tree carries no name (tile size): the popup names it by its code, its label.
      var html = (p.name ? "<b>" + esc(p.name) + "</b><br>" + esc(opts.title) + " · " + esc(p.code)
                         : "<b>" + esc(p.code) + "</b><br>" + esc(opts.title)) +
        (p.variety ? "<br>" + esc(label("variety", p.variety)) : "") + (p.health ? " · " + esc(label("health", p.health)) : "") +
        "<br><a class='geomap-detail' href='/a/" + encodeURIComponent(p.code) + q + "'>" + esc(S.details) + " →</a>";
      L.popup().setLatLng(latlng).setContent(html).openOn(map);
    });
    return layer;
  }

  // ---- the map, its position in the URL ----
  var map = geomap.createMap("map", { basemap: cfg.basemap, outline: cfg.outline, strings: S });
  geomap.map = map;
  map.createPane("counts").style.zIndex = 450;  // above the tiles (200–400), below popups
  var counts = L.layerGroup().addTo(map);
  geomap.layers = {};
  function fromHash() {
    var m = /^#(\d{1,2})\/(-?\d+(?:\.\d+)?)\/(-?\d+(?:\.\d+)?)$/.exec(location.hash);
    return m ? { z: +m[1], lat: +m[2], lon: +m[3] } : null;
  }
  var start = fromHash();
  if (start) { map.setView([start.lat, start.lon], start.z); } else { map.fitBounds(cfg.bounds); }
  function syncUrl() {
    var c = map.getCenter(), z = map.getZoom(), d = Math.max(0, Math.ceil(Math.log(1 << z) / Math.LN2 * 0.3) + 1);
    var hash = "#" + z + "/" + c.lat.toFixed(d + 1) + "/" + c.lng.toFixed(d + 1);
    history.replaceState(null, "", location.pathname + location.search + hash);
    document.querySelectorAll("a.lang-switch").forEach(function (a) { a.href = a.href.split("#")[0] + hash; });
  }
  map.on("moveend", syncUrl);
  map.on("moveend", function () { declutterSoon(); });  // a pan that loads no tile brings others' clusters into view
  syncUrl();
  // A link to another #z/lat/lon of this same page (or one typed in) moves the map.
  window.addEventListener("hashchange", function () {
    var to = fromHash();
    if (to) { map.setView([to.lat, to.lon], to.z); }
  });

  cfg.layers.forEach(function (opts) {
    var layer = vectorLayer(opts, map);
    geomap.layers[opts.name] = layer;
    layer.on("load tileunload", declutterSoon);
    if (opts.on && opts.bounds !== null) { layer.addTo(map); }  // an empty layer asks for nothing
  });
  map.addControl(geomap.legendControl(S.legend, legendHtml(), window.innerWidth >= 700));

  function legendHtml() {
    var rows = [];
    cfg.layers.forEach(function (o) {
      if (!map.hasLayer(geomap.layers[o.name])) { return; }
      rows.push([o.color, o.title]);
      o.legend.forEach(function (v) { rows.push([v[1], "· " + v[2]]); });
    });
    return geomap.legendRows(rows);
  }

  // ---- the sheet: layers, filters, search results ----
  var sheet = document.getElementById("sheet");
  var menu = document.getElementById("menu");
  function openSheet(open) {
    sheet.hidden = !open;
    menu.setAttribute("aria-expanded", open ? "true" : "false");
    document.body.classList.toggle("sheet-open", open);
    map.invalidateSize();
  }
  menu.addEventListener("click", function () { openSheet(sheet.hidden); });
  document.getElementById("sheet-close").addEventListener("click", function () { openSheet(false); });

  function layerParams() {
    var on = cfg.layers.filter(function (o) { return map.hasLayer(geomap.layers[o.name]); }).map(function (o) { return o.name; });
    return on.length === cfg.layers.length && cfg.allChosen ? [] : on;
  }
  function pageUrl(params, keepPosition) {  // only non-empty values, the layers chosen, the language, the position
    var u = new URLSearchParams();
    params.forEach(function (kv) { if (kv[1]) { u.append(kv[0], kv[1]); } });
    layerParams().forEach(function (n) { u.append("layer", n); });
    if (cfg.langParam) { u.set("lang", cfg.lang); }
    var s = u.toString();
    return "/" + (s ? "?" + s : "") + (keepPosition ? location.hash : "");
  }
  sheet.querySelectorAll(".toggles input").forEach(function (box) {
    box.addEventListener("change", function () {
      var layer = geomap.layers[box.value];
      if (box.checked) { layer.addTo(map); } else { map.removeLayer(layer); declutterSoon(); }
      var current = new URLSearchParams(location.search);
      current.delete("layer");
      current.delete("lang");
      history.replaceState(null, "", pageUrl(Array.from(current.entries()), true));
      syncUrl();
      document.querySelector(".geomap-legend .rows").innerHTML = legendHtml();
    });
  });
  function submitClean(form, keepPosition, extra) {
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var pairs = Array.from(new FormData(form).entries()).filter(function (kv) { return kv[0] !== "lang"; });
      if (extra) { pairs = pairs.concat(extra()); }
      location.assign(pageUrl(pairs, keepPosition));
    });
  }
  // Filters keep the place being looked at; a new search goes to what it finds (other filters kept).
  submitClean(document.getElementById("filters"), true);
  submitClean(document.getElementById("search"), false, function () {
    var current = new URLSearchParams(location.search);
    ["q", "layer", "lang"].forEach(function (k) { current.delete(k); });
    return Array.from(current.entries());
  });

  // ---- search results: a list that zooms to them ----
  var results = document.getElementById("results");
  var highlight = L.layerGroup().addTo(map);
  function bounds(geometry) { return L.geoJSON(geometry).getBounds(); }
  function showResults(found) {
    var list = results.querySelector("ul");
    list.innerHTML = "";
    results.querySelector(".status").textContent = found.length ? "" : S.no_results;
    var all = L.latLngBounds([]);
    found.forEach(function (f) {
      var b = bounds(f.geometry);
      all.extend(b);
      var li = document.createElement("li");
      var btn = document.createElement("button");
      btn.type = "button";
      btn.className = "result";
      btn.innerHTML = "<b>" + esc(f.properties.name) + "</b><span>" + esc(f.title) + " · " + esc(f.properties.code) + "</span>";
      btn.addEventListener("click", function () {
        if (window.innerWidth < 700) { openSheet(false); }
        map.fitBounds(b, { maxZoom: 18 });
        highlight.clearLayers();
        L.geoJSON(f.geometry, { pointToLayer: function (_, ll) { return L.circleMarker(ll, { radius: 14, color: "#d50000", weight: 3, fill: false }); },
                                style: { color: "#d50000", weight: 3, fill: false } }).addTo(highlight);
      });
      li.appendChild(btn);
      list.appendChild(li);
    });
    if (found.length && !start) { map.fitBounds(all, { maxZoom: 17, padding: [30, 30] }); }
  }
  function search(q) {
    results.hidden = false;
    results.querySelector(".status").textContent = S.searching;
    var asks = cfg.layers.filter(function (o) { return o.on && !o.context; }).map(function (o) {
      var u = new URLSearchParams(o.filters);
      u.set("limit", "10");
      u.set("sort", "relevance");  // each layer's best matches first
      return fetch("/api/v1/layers/" + o.name + "/features?" + u.toString()).then(function (r) {
        return r.ok ? r.json() : { features: [] };
      }).then(function (fc) { return fc.features.map(function (f) { f.title = o.title; return f; }); });
    });
    Promise.all(asks).then(function (lists) {
      // Across layers, by the server's rank of each match (each layer's list is ranked already).
      var all = [].concat.apply([], lists).map(function (f, i) {
        return { f: f, key: (f.searchRank == null ? 3 : f.searchRank) * 1000 + i };
      });
      all.sort(function (a, b) { return a.key - b.key; });
      showResults(all.map(function (x) { return x.f; }));
    }).catch(function () { results.querySelector(".status").textContent = S.search_failed; });
  }
  if (cfg.q) {
    openSheet(true);
    search(cfg.q);
  }
})();
