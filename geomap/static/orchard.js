/* The farmer's orchard: the farm boundary and every tree (from /farms/{code}/trees.json, a few
   short arrays per tree) on a canvas, coloured by health, variety or age; a legend with counts; a
   tree list; and for the owner, health updates that always say whether they were saved. */
(function () {
  "use strict";
  var geomap = window.geomap;
  var cfg = geomap.config();
  var S = cfg.strings;
  var esc = geomap.esc;
  var statusBox = document.getElementById("map-status");
  var PAGE = 100;

  var map = geomap.createMap("orchard-map", { basemap: cfg.basemap, outline: cfg.outline, strings: S });
  geomap.map = map;
  var farm = L.geoJSON(cfg.farm, { style: { color: "#1b5e20", weight: 3, fillOpacity: 0.06 }, interactive: false }).addTo(map);
  map.fitBounds(farm.getBounds(), { padding: [12, 12] });
  map.createPane("trees").style.zIndex = 450;  // above the farm's shading, so colours stay true
  var renderer = L.canvas({ padding: 0.2, pane: "trees" });
  var legendBox = document.getElementById("orchard-legend");

  var data = null, col = {}, markers = [], mode = cfg.color;
  geomap.orchard = { markers: markers };

  function value(tree, name) { return tree[col[name]]; }
  function colorOf(tree) {
    var l = data.legends[mode];
    return l.colors[value(tree, mode)] || l.fallback;
  }
  function label(name, v) { return (data.labels[name] || {})[v] || (v == null ? "—" : v); }

  function drawLegend() {
    var l = data.legends[mode], counts = {};
    data.trees.forEach(function (t) { var v = value(t, mode); counts[v] = (counts[v] || 0) + 1; });
    var rows = l.rows.map(function (r) { return [r[1], r[2], counts[r[0]] || 0]; });
    var other = data.trees.length - rows.reduce(function (n, r) { return n + r[2]; }, 0);
    if (other > 0) { rows.push([l.fallback, mode === "age" ? S.age_unknown : "—", other]); }
    legendBox.innerHTML = geomap.legendRows(rows);
  }

  function recolor() {
    markers.forEach(function (m) { m.setStyle({ fillColor: colorOf(m.tree) }); });
    drawLegend();
    document.querySelectorAll(".modes a.mode").forEach(function (a) {
      var on = a.dataset.mode === mode;
      a.classList.toggle("on", on);
      if (on) { a.setAttribute("aria-current", "true"); } else { a.removeAttribute("aria-current"); }
    });
  }

  function popupHtml(tree) {
    var q = cfg.langParam || "";
    var html = "<b>" + esc(value(tree, "code")) + "</b><br>" + esc(label("variety", value(tree, "variety"))) +
      " · " + esc(label("health", value(tree, "health"))) +
      (value(tree, "planting_year") ? " · " + esc(value(tree, "planting_year")) : "") +
      "<br><a href='/a/" + encodeURIComponent(value(tree, "code")) + q + "'>" + esc(S.details) + " →</a>";
    return html;
  }

  function draw() {
    data.trees.forEach(function (tree) {
      var m = L.circleMarker([value(tree, "lat"), value(tree, "lon")], {
        renderer: renderer, radius: 6, color: "#263238", weight: 1, fillColor: colorOf(tree), fillOpacity: 1
      });
      m.tree = tree;
      m.bindPopup(function () { return popupHtml(m.tree); });
      m.addTo(map);
      markers.push(m);
    });
    function resize() {
      var r = map.getZoom() >= 19 ? 9 : map.getZoom() >= 18 ? 6 : 4;
      markers.forEach(function (m) { m.setRadius(r); });
    }
    map.on("zoomend", resize);
    resize();
    drawLegend();
    statusBox.textContent = "";
    statusBox.hidden = true;
    document.getElementById("orchard-map").dataset.drawn = String(markers.length);
  }

  document.querySelectorAll(".modes a.mode").forEach(function (a) {
    a.addEventListener("click", function (e) {
      if (!data) { return; }
      e.preventDefault();
      mode = a.dataset.mode;
      var u = new URL(location.href);
      u.searchParams.set("color", mode);
      history.replaceState(null, "", u.pathname + u.search);
      document.querySelectorAll("a.lang-switch").forEach(function (l) {
        var lu = new URL(l.href);
        lu.searchParams.set("color", mode);
        l.href = lu.pathname + lu.search;
      });
      recolor();
    });
  });

  // ---- the tree list ----
  var tbody = document.querySelector("table.trees tbody");
  var more = document.getElementById("more");
  var filterBox = document.getElementById("tree-filter");
  var shown = 0, listed = [];

  function row(tree) {
    var tr = document.createElement("tr");
    var q = cfg.langParam || "";
    var code = value(tree, "code");
    tr.innerHTML = "<td><a href='/a/" + encodeURIComponent(code) + q + "'>" + esc(code) + "</a></td><td>" +
      esc(label("variety", value(tree, "variety"))) + "</td><td>" + esc(value(tree, "planting_year") || "") + "</td><td></td>";
    var cell = tr.lastChild;
    if (cfg.editable) {
      cell.appendChild(editor(tree));
    } else {
      cell.textContent = label("health", value(tree, "health"));
    }
    return tr;
  }

  function showMore() {
    listed.slice(shown, shown + PAGE).forEach(function (t) { tbody.appendChild(row(t)); });
    shown = Math.min(listed.length, shown + PAGE);
    more.hidden = shown >= listed.length;
  }
  function relist() {
    var q = filterBox.value.trim().toLowerCase();
    listed = data.trees.filter(function (t) { return !q || String(value(t, "code")).toLowerCase().indexOf(q) >= 0; });
    tbody.innerHTML = "";
    shown = 0;
    showMore();
  }
  more.addEventListener("click", showMore);
  filterBox.addEventListener("input", relist);

  // ---- health updates (owner or admin): success or a plain reason, offline included ----
  function editor(tree) {
    var box = document.createElement("div");
    var select = document.createElement("select");
    select.className = "health";
    select.setAttribute("aria-label", value(tree, "code"));
    cfg.healthChoices.forEach(function (c) {
      var o = document.createElement("option");
      o.value = c[0];
      o.textContent = c[1];
      o.selected = c[0] === value(tree, "health");
      select.appendChild(o);
    });
    var button = document.createElement("button");
    button.type = "button";
    button.className = "save";
    button.textContent = S.update_health;
    var status = document.createElement("span");
    status.className = "save-status";
    status.setAttribute("role", "status");
    button.addEventListener("click", function () { save(tree, select.value, status, button); });
    box.appendChild(select);
    box.appendChild(document.createTextNode(" "));
    box.appendChild(button);
    box.appendChild(status);
    return box;
  }

  function say(status, text, ok) {
    status.textContent = text;
    status.className = "save-status " + (ok ? "ok" : "bad");
  }

  function save(tree, health, status, button) {
    say(status, S.saving, true);
    button.disabled = true;
    geomap.saveHealth(value(tree, "id"), value(tree, "version"), health, S).then(function (result) {
      if (result.ok) {
        tree[col.version] = result.version;
        tree[col.health] = result.health;
        markers.forEach(function (m) { if (m.tree === tree) { m.setStyle({ fillColor: colorOf(tree) }); } });
        drawLegend();
      }
      say(status, result.text, result.ok);
      button.disabled = false;
    });
  }

  fetch(cfg.trees, { credentials: "same-origin" }).then(function (r) {
    if (!r.ok) { throw new Error(String(r.status)); }
    return r.json();
  }).then(function (body) {
    data = body;
    data.columns.forEach(function (name, i) { col[name] = i; });
    draw();
    relist();
  }).catch(function () {
    statusBox.textContent = S.map_failed;
    statusBox.classList.add("bad");
  });
})();
