// The phone's storage (IndexedDB through `idb`): records of the outbox, and a key/value store
// for the profile, the layer schema and the sign-in token. Nothing here deletes a record.
import { openDB } from "/field/static/vendor/idb.js";

const dbPromise = openDB("geomap-field", 1, {
  upgrade(db) {
    db.createObjectStore("records", { keyPath: "id" });
    db.createObjectStore("kv");
  },
});

/** The outbox's store: every record, by its client id. */
export const records = {
  async put(record) { return (await dbPromise).put("records", record); },
  async all() { return (await dbPromise).getAll("records"); },
  async get(id) { return (await dbPromise).get("records", id); },
};

/** Small values: profile, layers, token, language. */
export const kv = {
  async get(key) { return (await dbPromise).get("kv", key); },
  async set(key, value) { return (await dbPromise).put("kv", value, key); },
  async del(key) { return (await dbPromise).delete("kv", key); },
};
