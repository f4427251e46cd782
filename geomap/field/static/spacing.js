// The layer's spacing rule on the phone: distances to the assets already shown on the capture map
// (pure, so node can test it).

/** Metres between two {lon, lat} positions (haversine). */
export function distanceM(a, b) {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371008.8 * Math.asin(Math.sqrt(h));
}

/**
 * Of `features` (Point Features already on the phone, e.g. those on the capture map), those within
 * `spacing` metres of `pos`, nearest first, each with `properties.distance_m` — the layer's spacing
 * rule checked without the network.
 */
export function withinSpacing(features, pos, spacing) {
  if (!spacing) return [];
  return features
    .filter((f) => f.geometry && f.geometry.type === "Point")
    .map((f) => {
      const [lon, lat] = f.geometry.coordinates;
      return { ...f, properties: { ...f.properties, distance_m: distanceM(pos, { lon, lat }) } };
    })
    .filter((f) => f.properties.distance_m <= spacing)
    .sort((a, b) => a.properties.distance_m - b.properties.distance_m);
}
