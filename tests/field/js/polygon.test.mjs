// Farm boundaries captured on the phone: area in ha and the MultiPolygon sent.
import test from "node:test";
import assert from "node:assert/strict";
import { areaHa, isArea, toMultiPolygon } from "../../../geomap/field/static/polygon.js";

// About 100 m x 100 m near Ea Kly (1e-3 degree of latitude ~ 110.6 m; of longitude ~ 108.5 m at 12.7 N).
const square = [{ lon: 108.3, lat: 12.7 }, { lon: 108.301, lat: 12.7 }, { lon: 108.301, lat: 12.701 }, { lon: 108.3, lat: 12.701 }];

test("the area of a square of about 108 m x 111 m is about 1.2 ha, whatever the vertex order", () => {
  const ha = areaHa(square);
  assert.ok(Math.abs(ha - 1.2) < 0.03, `area ${ha}`);
  assert.equal(areaHa([...square].reverse()).toFixed(6), ha.toFixed(6));
  assert.equal(areaHa(square.slice(0, 2)), 0);
});

test("the MultiPolygon has one closed ring; fewer than 3 vertices give none", () => {
  const g = toMultiPolygon(square);
  assert.equal(g.type, "MultiPolygon");
  assert.equal(g.coordinates[0][0].length, 5);
  assert.deepEqual(g.coordinates[0][0][0], g.coordinates[0][0][4]);
  assert.equal(toMultiPolygon(square.slice(0, 2)), null);
  assert.ok(isArea({ geometry_type: "MultiPolygon" }) && !isArea({ geometry_type: "Point" }));
});
