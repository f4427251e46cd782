// A small Leaflet map (Leaflet from npm, served by geomap) to place a point by hand, with the
// team's working area drawn on it.
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

/** Show the map in `node`, centred on `start` ([lat, lon]), with `nearby` assets; `onPlace({lon, lat})` on each tap. */
export async function placeOnMap(node, { start, area, basemap, onPlace, nearby = [] }) {
  const L = await loadLeaflet();
  node.hidden = false;
  const map = L.map(node, { zoomControl: true }).setView(start, 17);
  if (basemap) L.tileLayer(basemap, { maxZoom: 19, attribution: "© OpenStreetMap" }).addTo(map);
  if (area) {
    const shape = L.geoJSON(area, { style: { color: "#1b5e20", weight: 2, fillOpacity: 0.05 } }).addTo(map);
    if (!start || (start[0] === 0 && start[1] === 0)) map.fitBounds(shape.getBounds());
  }
  for (const f of nearby) { // existing assets around, so the new point is not put on one of them
    const [lon, lat] = f.geometry.coordinates;
    // Not interactive: a tap next to an asset places the point where tapped, not on the asset.
    L.circleMarker([lat, lon], { radius: 6, color: "#1565c0", fillOpacity: 0.6, interactive: false }).addTo(map);
  }
  let marker = null;
  map.on("click", (e) => {
    if (marker) marker.setLatLng(e.latlng); else marker = L.circleMarker(e.latlng, { radius: 9, color: "#c62828", interactive: false }).addTo(map);
    onPlace({ lon: e.latlng.lng, lat: e.latlng.lat });
  });
  return map;
}
