// The working-area check the app makes before saving a point.
import test from "node:test";
import assert from "node:assert/strict";
import { insideArea } from "../../../geomap/field/static/area.js";

const square = [[108.28, 12.69], [108.33, 12.69], [108.33, 12.73], [108.28, 12.73], [108.28, 12.69]];
const hole = [[108.30, 12.70], [108.31, 12.70], [108.31, 12.71], [108.30, 12.71], [108.30, 12.70]];

test("points inside, outside and in a hole of the team's area", () => {
  const area = { type: "MultiPolygon", coordinates: [[square, hole]] };
  assert.equal(insideArea(area, 108.29, 12.70), true);
  assert.equal(insideArea(area, 108.35, 12.70), false);
  assert.equal(insideArea(area, 108.305, 12.705), false);
  assert.equal(insideArea({ type: "Polygon", coordinates: [square] }, 108.305, 12.705), true);
  assert.equal(insideArea(null, 0, 0), true);
});
