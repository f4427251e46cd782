// Drives the field app's outbox (geomap/field/static/queue.js) against a live geomap over a
// connection that keeps dropping: requests lost before they arrive, answers lost after the
// server wrote, 503s. Usage: node stress_sync.mjs BASE TOKEN COUNT SEED PHOTO.jpg LON LAT
// Prints a JSON summary; the Python test checks the database.
import { readFileSync } from "node:fs";
import { Outbox, newRecord, SENT } from "../../../geomap/field/static/queue.js";

const [base, token, count, seed, photoPath, lon0, lat0] = process.argv.slice(2);
const jpeg = readFileSync(photoPath);

function prng(a) { // mulberry32
  return () => {
    a |= 0; a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = prng(Number(seed));
const injected = { before: 0, after: 0, unavailable: 0 };
let calls = 0;

async function flappingFetch(url, init) {
  calls += 1;
  const x = rand();
  if (x < 0.15) { injected.before += 1; throw new TypeError("network down"); }
  if (x < 0.2) { injected.unavailable += 1; return new Response("{}", { status: 503 }); }
  const res = await fetch(base + url, init);
  if (x < 0.35) { await res.arrayBuffer(); injected.after += 1; throw new TypeError("answer lost"); }
  return res;
}

const rows = new Map();
const store = {
  async put(r) { rows.set(r.id, r); },
  async all() { return [...rows.values()]; },
};
let clock = Date.now();
const outbox = new Outbox({ store, fetch: flappingFetch, now: () => clock,
  headers: () => ({ Authorization: `Bearer ${token}` }) });

for (let i = 0; i < Number(count); i++) {
  const lon = Number(lon0) + (i % 20) * 0.0005;
  const lat = Number(lat0) + Math.floor(i / 20) * 0.0005;
  await outbox.add(newRecord({
    id: crypto.randomUUID(), op: "create", layer: "wifi_points", code: `STRESS-${i}`,
    feature: { type: "Feature", geometry: { type: "Point", coordinates: [lon, lat] },
      properties: { code: `STRESS-${i}`, name: `Wifi ${i}`, province: "Ninh Bình", commune: "xã Đồng Hướng",
        venue: `Nhà văn hóa ${i}`, gps_accuracy_m: 5 } },
    photos: [{ id: crypto.randomUUID(), blob: new Blob([jpeg], { type: "image/jpeg" }), name: "p.jpg" }],
  }, i));
}

let passes = 0;
for (;;) {
  const outcome = await outbox.run();
  passes += 1;
  const all = await outbox.records();
  if (all.every((r) => r.state === SENT) || passes > 5000) break;
  if (all.some((r) => r.state === "attention")) break;
  if (outcome !== "idle") clock += 10 * 60 * 1000; // the backoff has passed
}
const all = await outbox.records();
console.log(JSON.stringify({
  records: all.length, sent: all.filter((r) => r.state === SENT).length,
  attention: all.filter((r) => r.state === "attention").map((r) => r.problem),
  photos_sent: all.reduce((n, r) => n + r.photos.filter((p) => p.sent).length, 0),
  max_attempts: Math.max(...all.map((r) => r.attempts)), calls, injected, passes,
  in_order: all.every((r, i) => i === 0 || r.sentAt >= all[i - 1].sentAt),
}));
