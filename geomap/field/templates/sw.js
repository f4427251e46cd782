// Service worker of the field app: the app shell, its npm files and the layer schema are cached
// on install, so the app opens and captures with no network after the first visit.
const VERSION = "{{ version }}";
const SHELL = "geomap-field-shell-" + VERSION;
const DATA = "geomap-field-data";
const URLS = {{ urls }};
// Basemap tiles the volunteer has looked at are kept (at most MAX_TILES) so the map of the area
// they work in still draws with no network.
const TILES = "geomap-field-tiles";
const TILE_ORIGINS = {{ tile_origins }};
const MAX_TILES = 3000;

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(SHELL);
    await cache.addAll(URLS);
    const data = await caches.open(DATA);
    await data.add("/api/v1/layers").catch(() => undefined);
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const key of await caches.keys()) {
      if (key.startsWith("geomap-field-shell-") && key !== SHELL) await caches.delete(key);
    }
    await self.clients.claim();
  })());
});

async function shellFirst(request) {
  const cached = await caches.match(request, { cacheName: SHELL });
  if (cached) return cached;
  try {
    return await fetch(request);
  } catch (err) {
    const page = request.mode === "navigate" ? await caches.match("/field", { cacheName: SHELL }) : null;
    if (page) return page;
    throw err;
  }
}

async function networkFirst(request) {
  const cache = await caches.open(DATA);
  try {
    const response = await fetch(request);
    if (response.ok) await cache.put(request, response.clone());
    return response;
  } catch (err) {
    const cached = await cache.match(request);
    if (cached) return cached;
    throw err;
  }
}

async function trim(cache) {
  const keys = await cache.keys();
  for (const key of keys.slice(0, Math.max(0, keys.length - MAX_TILES))) await cache.delete(key);
}

async function tileFirst(request) {
  const cache = await caches.open(TILES);
  const cached = await cache.match(request.url);
  if (cached) return cached;
  let response;
  try {
    response = await fetch(request.url, { mode: "cors", credentials: "omit" });
  } catch (err) {
    return fetch(request); // a tile server without CORS: shown, not kept (opaque answers would fill the quota)
  }
  if (response.ok) {
    await cache.put(request.url, response.clone());
    trim(cache);
  }
  return response;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (TILE_ORIGINS.includes(url.origin)) {
    event.respondWith(tileFirst(request));
    return;
  }
  if (url.origin !== self.location.origin) return;
  if (url.pathname === "/field" || url.pathname.startsWith("/field/static/") || url.pathname === "/field/manifest.webmanifest") {
    event.respondWith(shellFirst(request));
  } else if (url.pathname === "/api/v1/layers") {
    event.respondWith(networkFirst(request));
  }
});
