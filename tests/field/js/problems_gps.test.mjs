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

test("the server's and pydantic's wordings come out in Vietnamese, never raw English", () => {
  const said = (reason) => explain({ status: 422, errors: [{ field: "planting_year", reason }] }, layer, "vi")[1];
  assert.equal(said("Input should be greater than or equal to 1950"), "Năm trồng: nhỏ hơn mức cho phép");
  assert.equal(said("Input should be less than or equal to 2100"), "Năm trồng: lớn hơn mức cho phép");
  assert.equal(said("Input should be a valid integer, unable to parse string as an integer"), "Năm trồng: phải là một số");
  assert.equal(said("String should have at most 200 characters"), "Năm trồng: quá dài");
  assert.equal(said("Input should be 'ri6', 'monthong' or 'khac'"), "Năm trồng: giá trị không có trong danh sách");
  assert.equal(said("something no rule knows"), "Năm trồng: giá trị chưa hợp lệ");
  const code = explain({ status: 409, errors: [{ field: "code", reason: "already taken" }] }, layer, "vi");
  assert.deepEqual(code, ["Trùng với dữ liệu đã có.", "code: đã được dùng cho tài sản khác"]);
  assert.equal(explain({ status: 422, errors: [{ field: "variety", reason: "something no rule knows" }] }, layer, "en")[1],
    "Variety: something no rule knows");
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
  f.add(108.0001, 12.0001, 5);  // 15 m away: within the two accuracies, the same spot
  const avg = f.average();
  assert.equal(avg.n, 2);
  assert.ok(Math.abs(avg.lon - 108.0001) < Math.abs(avg.lon - 108.0), "pulled toward the 5 m fix");
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

test("the field app's language: ?lang, then the cookie the pages share, then the phone's preference", async () => {
  const { chooseLang } = await import("../../../geomap/field/static/i18n.js");
  assert.equal(chooseLang("", "", "vi-VN"), "vi");
  assert.equal(chooseLang("", "", "en-US"), "en");
  assert.equal(chooseLang("", "", ""), "vi");
  assert.equal(chooseLang("", "a=1; geomap_lang=vi", "en-US"), "vi");
  assert.equal(chooseLang("", "geomap_lang=en; b=2", "vi-VN"), "en");
  assert.equal(chooseLang("", "xgeomap_lang=en", "vi"), "vi");
  assert.equal(chooseLang("?lang=en", "geomap_lang=vi", "vi"), "en");
  assert.equal(chooseLang("?code=X&lang=vi", "geomap_lang=en", "en"), "vi");
  assert.equal(chooseLang("?lang=fr", "geomap_lang=en", "vi"), "en");
});

test("a phone carried to the next tree starts its average again instead of saving a point between the two", async () => {
  const { Fixes, metresBetween } = await import("../../../geomap/field/static/gps.js");
  const a = { lon: 108.3105, lat: 12.7205 };
  const b = { lon: a.lon + 0.000175, lat: a.lat };  // about 19 m east
  assert.ok(Math.abs(metresBetween(a, b) - 19) < 0.5);
  const fixes = new Fixes();
  fixes.add(a.lon, a.lat, 4);
  fixes.add(a.lon + 0.00001, a.lat - 0.00001, 4);  // jitter of 1.5 m at the same tree: averaged
  assert.equal(fixes.average().n, 2);
  assert.ok(fixes.average().accuracy < 4);
  fixes.add(b.lon, b.lat, 4);  // walked on: one fix there is held back, neither averaged nor a restart
  assert.equal(fixes.average().n, 2);
  assert.ok(metresBetween(fixes.average(), a) < 2);
  fixes.add(b.lon + 0.000005, b.lat, 4);  // a second one agrees: the average starts again at B
  const avg = fixes.average();
  assert.equal(avg.n, 2);
  assert.ok(metresBetween(avg, b) < 1, "the position is the new tree's, not halfway");
  assert.equal(fixes.moved, true);
  fixes.add(b.lon, b.lat, 4);
  fixes.add(b.lon, b.lat, 4);
  assert.equal(fixes.average().n, 4);
  assert.equal(fixes.moved, false, "the 'moved' note goes once the new spot has settled");

  const near = { lon: a.lon + 0.00008, lat: a.lat };  // 8.7 m: the next tree in the row, 4 m fixes
  const rows = new Fixes();
  for (let i = 0; i < 20; i++) rows.add(a.lon, a.lat, 4);  // a settled average does not tighten the test
  rows.add(near.lon, near.lat, 4);
  rows.add(near.lon, near.lat, 4);
  assert.equal(rows.average().n, 2);
  assert.ok(metresBetween(rows.average(), near) < 0.5);
});

test("one stray fix while standing still is dropped: no restart, no pull", async () => {
  const { Fixes, metresBetween } = await import("../../../geomap/field/static/gps.js");
  const a = { lon: 108.3105, lat: 12.7205 };
  const fixes = new Fixes();
  for (let i = 0; i < 10; i++) fixes.add(a.lon, a.lat, 4);
  fixes.add(a.lon + 0.0001, a.lat, 4);  // 11 m off, once
  fixes.add(a.lon, a.lat, 4);
  assert.equal(fixes.average().n, 11);
  assert.equal(fixes.moved, false);
  assert.ok(metresBetween(fixes.average(), a) < 0.01);
  fixes.add(a.lon + 0.0001, a.lat, 4);  // two strays in a row that disagree with each other
  fixes.add(a.lon - 0.0001, a.lat, 4);
  assert.equal(fixes.average().n, 11);
  assert.equal(fixes.moved, false);
});

test("the form is told when the average started again", async () => {
  const { Fixes } = await import("../../../geomap/field/static/gps.js");
  const fixes = new Fixes();
  fixes.add(108.3, 12.7, 3);
  assert.equal(fixes.moved, false);
  fixes.add(108.3002, 12.7, 3);  // 22 m
  fixes.add(108.3002, 12.7, 3);
  assert.equal(fixes.moved, true);
  fixes.reset();  // a new form
  assert.equal(fixes.moved, false);
});
