// A boundary walked or tapped vertex by vertex (farms): its area and the MultiPolygon sent.
// Pure, so node can test it.

const R = 6371008.8; // mean Earth radius, m

/** Area in hectares of the ring through `vertices` ([{lon, lat}], not closed), on the sphere. */
export function areaHa(vertices) {
  if (vertices.length < 3) return 0;
  const rad = Math.PI / 180;
  let sum = 0;
  for (let i = 0; i < vertices.length; i++) {
    const a = vertices[i];
    const b = vertices[(i + 1) % vertices.length];
    sum += (b.lon - a.lon) * rad * (2 + Math.sin(a.lat * rad) + Math.sin(b.lat * rad));
  }
  return Math.abs(sum * R * R / 2) / 10000;
}

/** The GeoJSON MultiPolygon of the closed ring through `vertices`, or null below 3 vertices. */
export function toMultiPolygon(vertices) {
  if (vertices.length < 3) return null;
  const ring = vertices.map((v) => [v.lon, v.lat]);
  ring.push([...ring[0]]);
  return { type: "MultiPolygon", coordinates: [[ring]] };
}

/** True for layers whose assets are areas. */
export function isArea(layer) {
  return layer.geometry_type === "Polygon" || layer.geometry_type === "MultiPolygon";
}
