// Whether a point lies in the team's working area (GeoJSON Polygon or MultiPolygon): the
// server refuses a volunteer's point outside it, so the app says so before saving.

function inRing(ring, lon, lat) {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i];
    const [xj, yj] = ring[j];
    if ((yi > lat) !== (yj > lat) && lon < ((xj - xi) * (lat - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

function inPolygon(rings, lon, lat) {
  return inRing(rings[0], lon, lat) && !rings.slice(1).some((hole) => inRing(hole, lon, lat));
}

/** True when (lon, lat) is inside `area`, or when there is no area to check against. */
export function insideArea(area, lon, lat) {
  if (!area) return true;
  if (area.type === "Polygon") return inPolygon(area.coordinates, lon, lat);
  if (area.type === "MultiPolygon") return area.coordinates.some((p) => inPolygon(p, lon, lat));
  return true;
}
