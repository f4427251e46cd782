// The layer's spacing checked on the phone against the assets on the capture map.
import test from "node:test";
import assert from "node:assert/strict";
import { distanceM, withinSpacing } from "../../../geomap/field/static/spacing.js";

const point = (code, lon, lat) => ({ type: "Feature", geometry: { type: "Point", coordinates: [lon, lat] }, properties: { code } });

test("distances in metres (1e-5 degree of latitude is about 1.1 m)", () => {
  assert.ok(Math.abs(distanceM({ lon: 108.0, lat: 12.7 }, { lon: 108.0, lat: 12.70001 }) - 1.112) < 0.01);
  assert.equal(distanceM({ lon: 108.0, lat: 12.7 }, { lon: 108.0, lat: 12.7 }), 0);
});

test("only assets within the spacing, nearest first, with their distance", () => {
  const pos = { lon: 108.0, lat: 12.7 };
  const found = withinSpacing([point("FAR", 108.0, 12.70005), point("B", 108.0, 12.700015), point("A", 108.0, 12.700005)], pos, 2);
  assert.deepEqual(found.map((f) => f.properties.code), ["A", "B"]);
  assert.ok(found[0].properties.distance_m < 1 && found[1].properties.distance_m > 1.5);
  assert.deepEqual(withinSpacing([point("A", 108.0, 12.7)], pos, 0), []); // farms: no spacing rule
  assert.deepEqual(withinSpacing([{ type: "Feature", geometry: { type: "Polygon", coordinates: [] }, properties: {} }], pos, 5), []);
});
