// The capture form's small Leaflet map (Leaflet from npm, served by geomap): the team's working
// area, nearby assets, the GPS position, and a point placed by hand.
import { t } from "./i18n.js";

let leafletLoading = null;

function loadLeaflet() {
  if (!leafletLoading) {
    leafletLoading = new Promise((resolve, reject) => {
      const css = document.createElement("link");
      css.rel = "stylesheet";
      css.href = "/field/static/vendor/leaflet.css";
      document.head.append(css);
      const script = document.createElement("script");
      script.src = "/field/static/vendor/leaflet.js";
      script.onload = () => resolve(window.L);
      script.onerror = reject;
      document.head.append(script);
    });
  }
  return leafletLoading;
}

/** Load Leaflet now (while there is signal), so the form's map never waits on the network later. */
export function preloadMap() {
  return loadLeaflet().catch(() => undefined);
}

/**
 * The capture form's small map in `node`: the team's working area, existing assets around
 * (`setNearby`), where the GPS puts the volunteer (`setHere`), and — once `placing` is true —
 * a point placed by a tap, reported by `onPlace({lon, lat})`.
 */
export async function smallMap(node, { start, area, basemap, onPlace, onVertex }) {
  const L = await loadLeaflet();
  node.hidden = false;
  const map = L.map(node, { zoomControl: true }).setView(start || [0, 0], 18);
  if (basemap) {
    const imagery = L.tileLayer(basemap, { maxZoom: 19, attribution: "© OpenStreetMap" }).addTo(map);
    imagery.once("tileerror", () => { // offline: say why the map is blank, and that it still works
      const note = L.control({ position: "topright" });
      note.onAdd = () => Object.assign(L.DomUtil.create("div", "map-note"), { textContent: t("no_imagery") });
      note.addTo(map);
    });
  }
  if (area) {
    const shape = L.geoJSON(area, { style: { color: "#1b5e20", weight: 2, fillOpacity: 0.05 } }).addTo(map);
    if (!start) map.fitBounds(shape.getBounds());
  }
  const assets = L.layerGroup().addTo(map);
  let here = null;
  let marker = null;
  let shape = null;
  const view = {
    map, placing: false, drawing: false, centred: !!start,
    /** Existing assets (GeoJSON Point Features), so the new point is not put on one of them. */
    setNearby(features) {
      assets.clearLayers();
      for (const f of features) { // not interactive: a tap next to one places the point where tapped
        if (!f.geometry) continue;
        if (f.geometry.type !== "Point") { // areas (farms): their outline
          L.geoJSON(f.geometry, { style: { color: "#1565c0", weight: 2, fillOpacity: 0.1, interactive: false, className: "asset" } }).addTo(assets);
          continue;
        }
        const [lon, lat] = f.geometry.coordinates;
        L.circleMarker([lat, lon], { radius: 6, color: "#1565c0", fillOpacity: 0.6, interactive: false, className: "asset" }).addTo(assets);
      }
      if (here) here.bringToFront(); // the volunteer's dot stays visible over the assets
    },
    /** The volunteer's GPS position (centres the map on the first one). */
    setHere(lat, lon) {
      if (here) here.setLatLng([lat, lon]);
      else here = L.circleMarker([lat, lon], { radius: 7, color: "#ffffff", fillColor: "#ef6c00", fillOpacity: 1, weight: 3, interactive: false, className: "here" }).addTo(map);
      if (!view.centred) { map.setView([lat, lon], 18); view.centred = true; }
    },
    /** The boundary being drawn ([{lon, lat}]): a line, closed once it has 3 vertices. */
    setShape(vertices) {
      if (shape) shape.remove();
      const latlngs = vertices.map((v) => [v.lat, v.lon]);
      const opts = { color: "#c62828", weight: 3, interactive: false, className: "shape" };
      shape = (vertices.length >= 3 ? L.polygon(latlngs, opts) : L.polyline(latlngs, opts)).addTo(map);
    },
    remove() { map.remove(); },
  };
  map.on("click", (e) => {
    if (view.drawing) { onVertex({ lon: e.latlng.lng, lat: e.latlng.lat }); return; }
    if (!view.placing) return;
    if (marker) marker.setLatLng(e.latlng); else marker = L.circleMarker(e.latlng, { radius: 9, color: "#c62828", interactive: false }).addTo(map);
    onPlace({ lon: e.latlng.lng, lat: e.latlng.lat });
  });
  return view;
}
