// A web map on another site using geomap's open data: either geomap's style.json as it is
// (?style=URL) or a style of its own over geomap's TileJSON (?tilejson=URL&layer=NAME&center=lon,lat&zoom=Z).
import * as maplibregl from '/maplibre/maplibre-gl.mjs';

const q = new URLSearchParams(location.search);
window.mapErrors = [];
window.rendered = null;

function ownStyle() {
  return {
    version: 8,
    sources: { assets: { type: 'vector', url: q.get('tilejson') } },
    layers: [
      { id: 'paper', type: 'background', paint: { 'background-color': '#ffffff' } },
      { id: 'assets', type: 'circle', source: 'assets', 'source-layer': q.get('layer'),
        paint: { 'circle-color': '#d81b60', 'circle-radius': 6 } },
    ],
  };
}

const options = { container: 'map', style: q.get('style') || ownStyle(), attributionControl: false };
if (q.get('center')) {
  options.center = q.get('center').split(',').map(Number);
  options.zoom = Number(q.get('zoom'));
}
const map = new maplibregl.Map(options);
map.on('error', (e) => {
  const message = String((e.error && e.error.message) || e);
  window.mapErrors.push(message);
  console.error('map error: ' + message);
});
map.once('idle', () => {
  window.rendered = map.queryRenderedFeatures().filter((f) => f.layer.type !== 'background').length;
});
