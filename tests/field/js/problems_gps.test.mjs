// The server's problems in plain Vietnamese with the form's labels, and the GPS running average.
import test from "node:test";
import assert from "node:assert/strict";
import { explain, fieldLabel } from "../../../geomap/field/static/problems.js";
import { Fixes, accuracyLimits } from "../../../geomap/field/static/gps.js";

const layer = { fields: [
  { name: "planting_year", label: { vi: "Năm trồng", en: "Planting year" } },
  { name: "variety", label: { vi: "Giống", en: "Variety" } },
] };

test("field errors are named by the form's labels, reasons in Vietnamese", () => {
  const lines = explain({ status: 422, errors: [
    { field: "properties.planting_year", reason: "must be ≤ 2100" },
    { field: "variety", reason: "is required" },
    { field: "geometry", reason: "is outside the team's working area" },
  ] }, layer, "vi");
  assert.deepEqual(lines, ["Dữ liệu chưa hợp lệ.", "Năm trồng: lớn hơn mức cho phép", "Giống: chưa điền (bắt buộc)",
    "Vị trí: nằm ngoài địa bàn của tổ"]);
  assert.equal(explain({ status: 422, errors: [{ field: "variety", reason: "is required" }] }, layer, "en")[1], "Variety: is required");
});

test("a nearby conflict asks whether it is the same asset; unknown statuses still say something", () => {
  assert.deepEqual(explain({ status: 409, nearby: { id: "x", code: "T-1", distance_m: 1.234 } }, layer, "vi"),
    ["Đã có tài sản T-1 cách đây 1.2 m. Có phải cùng một tài sản?"]);
  assert.deepEqual(explain({ status: 418, detail: "teapot" }, layer, "vi"), ["Máy chủ từ chối (mã 418)."]);
  assert.equal(explain({ status: 403, detail: "not your team" }, layer, "vi")[0], "Tài khoản không có quyền ghi lớp này hoặc ở địa bàn này.");
  assert.equal(fieldLabel(layer, "unknown_field", "vi"), "unknown_field");
  assert.deepEqual(explain(null, layer), []);
});

test("the running average weights good fixes more and reports the better accuracy", () => {
  const f = new Fixes();
  assert.equal(f.average(), null);
  f.add(108.0, 12.0, 20);
  f.add(108.001, 12.001, 5);
  const avg = f.average();
  assert.equal(avg.n, 2);
  assert.ok(Math.abs(avg.lon - 108.001) < Math.abs(avg.lon - 108.0), "pulled toward the 5 m fix");
  assert.ok(avg.accuracy <= 5 && avg.accuracy > 4);
  f.reset();
  assert.equal(f.average(), null);
});

test("a layer's own GPS limit replaces the fixed 10 m; the stricter of layer and global applies", () => {
  assert.deepEqual(accuracyLimits({ gps_accuracy_max_m: 10 }, 30), { good: 10, max: 10 });
  assert.deepEqual(accuracyLimits({ gps_accuracy_max_m: null }, 30), { good: 10, max: 30 });
  assert.deepEqual(accuracyLimits({}, 8), { good: 8, max: 8 });
  assert.deepEqual(accuracyLimits({ gps_accuracy_max_m: 50 }, 30), { good: 30, max: 30 });
  assert.deepEqual(accuracyLimits({ gps_accuracy_max_m: 5 }, 30), { good: 5, max: 5 });
});
