// Capturing an area (farm boundary) in the form: vertices tapped on the map or taken from the
// GPS while walking the boundary, undo, and the live area in ha.
import { t } from "./i18n.js";
import { areaHa } from "./polygon.js";

const $ = (sel) => document.querySelector(sel);

/** Show the vertex count and area of form `f`, and draw its boundary on the map. */
export function showShape(f) {
  const n = f.vertices.length;
  $("#shape-status").textContent = n ? `${n} ${t("vertices")} · ${areaHa(f.vertices).toFixed(2)} ha` : t("shape_hint");
  if (f.map) f.map.setShape(f.vertices);
}

/** Add a vertex to form `f`. */
export function addVertex(f, p) {
  f.vertices.push({ lon: p.lon, lat: p.lat });
  $("#form-error").textContent = "";
  showShape(f);
}

/** Remove the last vertex of form `f`. */
export function undoVertex(f) {
  f.vertices.pop();
  showShape(f);
}
