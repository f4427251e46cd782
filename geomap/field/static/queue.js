// The outbox of the field app: records saved on the phone are sent in order, each with its
// client id as Idempotency-Key, then each of its photos on its own under a client photo id
// (PUT, so a retry is stored once). Transient failures (offline, 5xx, 429) are retried with
// backoff; a refusal (4xx) puts the record in "needs attention" with the server's problem.
// Nothing is ever deleted here. Plain ES module with no DOM: the store and fetch are given.

export const WAITING = "waiting";
export const SENDING = "sending";
export const SENT = "sent";
export const ATTENTION = "attention";

/** Delay before the next try after `attempts` failures: 2 s, 4 s, 8 s … at most 5 minutes. */
export function backoff(attempts, base = 2000, max = 300000) {
  return Math.min(max, base * 2 ** Math.max(0, attempts - 1));
}

const TRANSIENT = new Set([408, 425, 429, 500, 502, 503, 504]);

/** A new record for the outbox. `op` is "create" (feature) or "edit" (assetId, etag, patch). */
export function newRecord(fields, now = Date.now()) {
  return {
    state: WAITING, attempts: 0, nextTryAt: 0, createdAt: now, problem: null, serverDone: false,
    photos: [], ...fields,
  };
}

export class Outbox {
  constructor({ store, fetch, now = () => Date.now(), headers = () => ({}), onChange = () => {} }) {
    this.store = store;
    this.fetch = fetch;
    this.now = now;
    this.headers = headers;
    this.onChange = onChange;
    this.running = null;
    this.authNeeded = false;
  }

  async add(record) {
    await this.store.put(record);
    this.onChange(record);
    return record;
  }

  async save(record) {
    await this.store.put(record);
    this.onChange(record);
  }

  /** Records in the order they were captured. */
  async records() {
    const all = await this.store.all();
    return all.sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
  }

  /** One pass over the outbox (a second call while one runs waits for it). */
  run() {
    if (!this.running) {
      this.running = this._pass().finally(() => { this.running = null; });
    }
    return this.running;
  }

  async _pass() {
    for (const record of await this.records()) {
      if (record.state === SENT || record.state === ATTENTION) continue;
      if (record.nextTryAt > this.now()) return "backoff"; // keep the order: nothing overtakes it
      const outcome = await this.send(record);
      if (outcome !== "done") return outcome;
    }
    return "idle";
  }

  /** Send one record, then its photos. Returns "done", "retry" or "auth". */
  async send(record) {
    record.state = SENDING;
    await this.save(record);
    if (!record.serverDone) {
      const outcome = await this._main(record);
      if (outcome !== "done") return this._settle(record, outcome);
    }
    for (const photo of record.photos) {
      if (photo.sent) continue;
      const outcome = await this._photo(record, photo);
      if (outcome !== "done") return this._settle(record, outcome);
    }
    record.state = SENT;
    record.problem = null;
    record.sentAt = this.now();
    await this.save(record);
    return "done";
  }

  async _settle(record, outcome) {
    if (outcome.kind === "retry" || outcome.kind === "auth") {
      record.state = WAITING;
      record.attempts += outcome.kind === "retry" ? 1 : 0;
      record.nextTryAt = outcome.kind === "retry" ? this.now() + backoff(record.attempts) : 0;
      record.lastError = outcome.reason || null;
      this.authNeeded = outcome.kind === "auth";
      await this.save(record);
      return outcome.kind;
    }
    record.state = ATTENTION;
    record.problem = outcome.problem;
    await this.save(record);
    return "done"; // a refused record does not hold back the others
  }

  async _request(url, init) {
    let res;
    try {
      res = await this.fetch(url, { credentials: "same-origin", ...init, headers: { ...this.headers(), ...init.headers } });
    } catch (err) {
      return { kind: "retry", reason: "offline" };
    }
    if (res.ok) return { kind: "ok", res };
    if (TRANSIENT.has(res.status)) return { kind: "retry", reason: `HTTP ${res.status}` };
    if (res.status === 401) return { kind: "auth", reason: "401" };
    let body = {};
    try { body = await res.json(); } catch (err) { body = {}; }
    return { kind: "refused", res, problem: { status: res.status, ...body } };
  }

  async _main(record) {
    const base = `/api/v1/layers/${encodeURIComponent(record.layer)}/features`;
    if (record.op === "edit") return this._edit(record, base);
    const query = record.confirmNearby ? "?confirm_nearby=true" : "";
    const body = { ...record.feature, id: record.id };
    const out = await this._request(base + query, {
      method: "POST", body: JSON.stringify(body),
      headers: { "Content-Type": "application/json", "Idempotency-Key": record.id },
    });
    if (out.kind !== "ok") return out;
    const saved = await out.res.json();
    record.serverDone = true;
    record.assetId = saved.id;
    record.etag = out.res.headers.get("ETag");
    record.server = saved;
    await this.save(record);
    return "done";
  }

  async _edit(record, base) {
    const url = `${base}/${encodeURIComponent(record.assetId)}`;
    const out = await this._request(url, {
      method: "PATCH", body: JSON.stringify(record.patch),
      headers: { "Content-Type": "application/merge-patch+json", "If-Match": record.etag || "" },
    });
    if (out.kind === "refused" && out.problem.status === 412) return this._stale(record, url, out);
    if (out.kind !== "ok") return out;
    record.server = await out.res.json();
    record.etag = out.res.headers.get("ETag");
    record.serverDone = true;
    await this.save(record);
    return "done";
  }

  // A 412: the asset changed since it was opened. If the server already holds exactly this
  // edit (our earlier try went through but its answer was lost) it is done; otherwise the
  // volunteer must choose, field by field.
  async _stale(record, url, refused) {
    const cur = await this._request(url, { method: "GET" });
    if (cur.kind !== "ok") return cur.kind === "refused" ? refused : cur;
    const current = await cur.res.json();
    const etag = cur.res.headers.get("ETag");
    if (samePatch(record.patch, current)) {
      Object.assign(record, { server: current, etag, serverDone: true });
      await this.save(record);
      return "done";
    }
    return { kind: "refused", problem: { ...refused.problem, conflict: { current, etag } } };
  }

  async _photo(record, photo) {
    const form = new FormData();
    form.append("file", photo.blob, photo.name || "photo.jpg");
    const url = `/api/v1/layers/${encodeURIComponent(record.layer)}/features/${encodeURIComponent(record.assetId || record.id)}`
      + `/photos/${encodeURIComponent(photo.id)}`;
    const out = await this._request(url, { method: "PUT", body: form });
    if (out.kind !== "ok") {
      if (out.kind === "refused") out.problem.photo = photo.id;
      return out;
    }
    photo.sent = true;
    photo.server = await out.res.json();
    await this.save(record);
    return "done";
  }

  /** Put a record that needed attention back in the queue, with changes the volunteer chose. */
  async retry(id, changes = {}) {
    const record = (await this.store.all()).find((r) => r.id === id);
    if (!record) return null;
    Object.assign(record, changes, { state: WAITING, problem: null, attempts: 0, nextTryAt: 0 });
    await this.save(record);
    return record;
  }
}

/** Whether the server's feature already carries every value of a merge patch. */
export function samePatch(patch, feature) {
  const props = (patch && patch.properties) || {};
  const have = feature.properties || {};
  for (const [key, value] of Object.entries(props)) {
    if (JSON.stringify(have[key] ?? null) !== JSON.stringify(value ?? null)) return false;
  }
  if (patch.geometry && JSON.stringify(patch.geometry) !== JSON.stringify(feature.geometry)) return false;
  return true;
}

/** Unsent records as a JSON file's text (photos as data: URLs), the volunteer's last resort. */
export async function exportUnsent(records, blobToDataUrl) {
  const out = [];
  for (const r of records) {
    if (r.state === SENT) continue;
    const photos = [];
    for (const p of r.photos) photos.push({ id: p.id, sent: !!p.sent, data: p.sent ? null : await blobToDataUrl(p.blob) });
    const { photos: _omit, ...rest } = r;
    out.push({ ...rest, photos });
  }
  return JSON.stringify({ exported_at: new Date().toISOString(), records: out }, null, 1);
}
