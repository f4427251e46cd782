// Unit tests of the field app's outbox (geomap/field/static/queue.js) with a fake fetch: a tiny
// in-memory server that honours Idempotency-Key / photo ids, and can drop answers or go offline.
import test from "node:test";
import assert from "node:assert/strict";
import { Outbox, newRecord, backoff, exportUnsent, WAITING, SENT, ATTENTION } from "../../../geomap/field/static/queue.js";

function memoryStore() {
  const rows = new Map();
  return {
    rows,
    async put(r) { rows.set(r.id, structuredClone(r)); },
    async all() { return [...rows.values()].map((r) => structuredClone(r)); },
  };
}

// A fake geomap: features by id (idempotent by Idempotency-Key), photos by id, versions.
function fakeServer() {
  const s = { features: new Map(), photos: new Map(), calls: [], offline: false, dropAnswers: 0, dropPhotoAnswers: 0,
    failWith: null, refuse: null };
  s.fetch = async (url, init = {}) => {
    s.calls.push({ url, method: init.method || "GET", headers: init.headers || {} });
    if (s.offline) throw new TypeError("Failed to fetch");
    if (s.failWith) return json(s.failWith, { title: "oops" });
    if (s.refuse && init.method === "POST") return json(s.refuse.status, s.refuse.body);
    const res = handle(s, url, init);
    const drop = init.method === "PUT" ? "dropPhotoAnswers" : "dropAnswers";
    if (s[drop] > 0) { s[drop] -= 1; throw new TypeError("connection reset"); } // written, answer lost
    return res;
  };
  return s;
}

function json(status, body, headers = {}) {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json", ...headers } });
}

function handle(s, url, init) {
  const m = url.match(/^\/api\/v1\/layers\/(\w+)\/features(?:\/([^/?]+))?(?:\/photos\/([^/?]+))?/);
  const [, , id, photoId] = m;
  if (init.method === "POST") {
    const body = JSON.parse(init.body);
    const key = init.headers["Idempotency-Key"];
    if (s.features.has(key)) return json(200, s.features.get(key), { ETag: '"v1"' });
    const f = { ...body, id: key, properties: { ...body.properties, version: 1 } };
    s.features.set(key, f);
    return json(201, f, { ETag: '"v1"' });
  }
  if (init.method === "PUT") {
    if (!s.features.has(id)) return json(404, { title: "Not found" });
    const created = !s.photos.has(photoId);
    s.photos.set(photoId, id);
    return json(created ? 201 : 200, { id: photoId });
  }
  const f = s.features.get(id);
  if (init.method === "PATCH") {
    const v = f.properties.version;
    if (init.headers["If-Match"] !== `"v${v}"`) return json(412, { title: "Precondition failed" }, { ETag: `"v${v}"` });
    Object.assign(f.properties, JSON.parse(init.body).properties, { version: v + 1 });
    return json(200, f, { ETag: `"v${v + 1}"` });
  }
  return json(200, f, { ETag: `"v${f.properties.version}"` });
}

function tree(code) {
  return { type: "Feature", geometry: { type: "Point", coordinates: [108.3, 12.7] }, properties: { code, variety: "ri6" } };
}

function photo(id) {
  return { id, blob: new Blob([new Uint8Array([0xff, 0xd8, 0xff])], { type: "image/jpeg" }), name: "p.jpg" };
}

function setup(server, clock = { t: 1000 }) {
  const store = memoryStore();
  const outbox = new Outbox({ store, fetch: server.fetch, now: () => clock.t });
  return { store, outbox, clock };
}

test("records are sent in the order they were captured, then their photos, each once", async () => {
  const server = fakeServer();
  const { outbox, store } = setup(server);
  await outbox.add(newRecord({ id: "b", op: "create", layer: "durian_trees", feature: tree("B"), photos: [photo("pb")] }, 2));
  await outbox.add(newRecord({ id: "a", op: "create", layer: "durian_trees", feature: tree("A"), photos: [photo("pa1"), photo("pa2")] }, 1));
  assert.equal(await outbox.run(), "idle");
  const order = server.calls.map((c) => `${c.method} ${c.url.split("/").slice(-1)[0]}`);
  assert.deepEqual(order, ["POST features", "PUT pa1", "PUT pa2", "POST features", "PUT pb"]);
  assert.equal(server.calls[0].headers["Idempotency-Key"], "a");
  assert.deepEqual([...server.photos.entries()], [["pa1", "a"], ["pa2", "a"], ["pb", "b"]]);
  const states = (await store.all()).map((r) => r.state);
  assert.deepEqual(states, [SENT, SENT]);
});

test("offline: nothing is lost, the record waits with a growing backoff, then goes once", async () => {
  const server = fakeServer();
  const { outbox, store, clock } = setup(server);
  await outbox.add(newRecord({ id: "a", op: "create", layer: "durian_trees", feature: tree("A"), photos: [photo("p")] }, 1));
  server.offline = true;
  assert.equal(await outbox.run(), "retry");
  let [r] = await store.all();
  assert.equal(r.state, WAITING);
  assert.equal(r.attempts, 1);
  assert.equal(r.nextTryAt, clock.t + backoff(1));
  assert.equal(await outbox.run(), "backoff"); // too early: not even tried
  assert.equal(server.calls.length, 1);
  clock.t = r.nextTryAt;
  assert.equal(await outbox.run(), "retry");
  [r] = await store.all();
  assert.equal(r.nextTryAt - clock.t, backoff(2));
  assert.ok(backoff(2) > backoff(1));
  server.offline = false;
  clock.t = r.nextTryAt;
  assert.equal(await outbox.run(), "idle");
  assert.equal(server.features.size, 1);
  assert.equal(server.photos.size, 1);
  assert.equal((await store.all())[0].state, SENT);
});

test("a lost answer is retried with the same Idempotency-Key and photo id: no duplicate", async () => {
  const server = fakeServer();
  const { outbox, store, clock } = setup(server);
  await outbox.add(newRecord({ id: "a", op: "create", layer: "durian_trees", feature: tree("A"), photos: [photo("p1")] }, 1));
  server.dropAnswers = 1; // the POST is written but its answer never arrives
  assert.equal(await outbox.run(), "retry");
  assert.equal(server.features.size, 1);
  clock.t += backoff(1);
  server.dropPhotoAnswers = 1; // now the photo's answer is lost
  assert.equal(await outbox.run(), "retry");
  clock.t += backoff(2);
  assert.equal(await outbox.run(), "idle");
  const posts = server.calls.filter((c) => c.method === "POST");
  assert.equal(posts.length, 2);
  assert.ok(posts.every((c) => c.headers["Idempotency-Key"] === "a"));
  assert.equal(server.calls.filter((c) => c.method === "PUT").length, 2);
  assert.equal(server.features.size, 1);
  assert.equal(server.photos.size, 1);
  assert.equal((await store.all())[0].state, SENT);
});

test("5xx is retried, 4xx needs attention with the problem and does not hold back later records", async () => {
  const server = fakeServer();
  const { outbox, store, clock } = setup(server);
  await outbox.add(newRecord({ id: "a", op: "create", layer: "durian_trees", feature: tree("A") }, 1));
  server.failWith = 503;
  assert.equal(await outbox.run(), "retry");
  assert.equal((await store.all())[0].state, WAITING);
  server.failWith = null;
  server.refuse = { status: 422, body: { title: "Invalid input", errors: [{ field: "planting_year", reason: "must be ≤ 2026" }] } };
  clock.t += backoff(1);
  await outbox.add(newRecord({ id: "b", op: "create", layer: "durian_trees", feature: tree("B") }, 2));
  assert.equal(await outbox.run(), "idle");
  const [a, b] = await outbox.records();
  assert.equal(a.state, ATTENTION);
  assert.equal(a.problem.status, 422);
  assert.equal(a.problem.errors[0].field, "planting_year");
  assert.equal(b.state, ATTENTION); // refused too (same fake refusal), but it was tried
  server.refuse = null;
  await outbox.retry("a");
  assert.equal(await outbox.run(), "idle");
  assert.equal((await outbox.records())[0].state, SENT);
  assert.equal(server.features.size, 1); // b still waits for the volunteer
});

test("401 keeps the record waiting (signing in again sends it), never drops it", async () => {
  const server = fakeServer();
  const { outbox, store } = setup(server);
  await outbox.add(newRecord({ id: "a", op: "create", layer: "durian_trees", feature: tree("A") }, 1));
  server.failWith = 401;
  assert.equal(await outbox.run(), "auth");
  assert.equal(outbox.authNeeded, true);
  const [r] = await store.all();
  assert.equal(r.state, WAITING);
  server.failWith = null;
  assert.equal(await outbox.run(), "idle");
  assert.equal(server.features.size, 1);
});

test("edits send If-Match; a stale edit needs attention with the server's version; an edit already applied is done", async () => {
  const server = fakeServer();
  const { outbox } = setup(server);
  server.features.set("x", { id: "x", type: "Feature", properties: { code: "X", health: "khoe", version: 2 } });
  await outbox.add(newRecord({ id: "e1", op: "edit", layer: "durian_trees", assetId: "x", etag: '"v1"',
    patch: { properties: { health: "sau_benh" } } }, 1));
  await outbox.run();
  let [e1] = await outbox.records();
  assert.equal(e1.state, ATTENTION);
  assert.equal(e1.problem.status, 412);
  assert.equal(e1.problem.conflict.etag, '"v2"');
  assert.equal(e1.problem.conflict.current.properties.health, "khoe");
  await outbox.retry("e1", { etag: e1.problem.conflict.etag });
  await outbox.run();
  [e1] = await outbox.records();
  assert.equal(e1.state, SENT);
  assert.equal(server.features.get("x").properties.health, "sau_benh");
  // The same edit again from its old version: the server already has it, so it is done, not a conflict.
  await outbox.add(newRecord({ id: "e2", op: "edit", layer: "durian_trees", assetId: "x", etag: '"v2"',
    patch: { properties: { health: "sau_benh" } } }, 2));
  await outbox.run();
  assert.equal((await outbox.records())[1].state, SENT);
  assert.equal(server.features.get("x").properties.version, 3);
});

test("two runs at once make one pass (no double send)", async () => {
  const server = fakeServer();
  const { outbox } = setup(server);
  await outbox.add(newRecord({ id: "a", op: "create", layer: "durian_trees", feature: tree("A") }, 1));
  await Promise.all([outbox.run(), outbox.run()]);
  assert.equal(server.calls.filter((c) => c.method === "POST").length, 1);
});

test("export keeps every unsent record with its photos", async () => {
  const records = [
    newRecord({ id: "a", op: "create", layer: "durian_trees", feature: tree("A"), photos: [photo("p")] }, 1),
    { ...newRecord({ id: "b", op: "create", layer: "durian_trees", feature: tree("B") }, 2), state: SENT },
  ];
  const text = await exportUnsent(records, async (blob) => `data:${blob.type};n=${blob.size}`);
  const out = JSON.parse(text);
  assert.deepEqual(out.records.map((r) => r.id), ["a"]);
  assert.equal(out.records[0].feature.properties.code, "A");
  assert.equal(out.records[0].photos[0].data, "data:image/jpeg;n=3");
});
