// The field app: sign in once, capture assets of the team's layers (GPS or by hand, photos),
// save on the phone first and let the outbox send them. Edits, scans and "my work" live in
// edit.js and work.js.
import { t, label, lang, keepLang } from "./i18n.js";
import { records, kv } from "./store.js";
import { Outbox, newRecord } from "./queue.js";
import { Fixes, accuracyLimits, watch } from "./gps.js";
import { formFields, buildForm, readForm, showErrors } from "./form.js";
import { resize } from "./photos.js";
import { preloadMap, smallMap } from "./mapview.js";
import { isArea, toMultiPolygon } from "./polygon.js";
import { addVertex, showShape, undoVertex } from "./shape.js";
import { renderWork, setupWork } from "./work.js";
import { explain } from "./problems.js";
import { nearbyAssets, askSame, withinSpacing } from "./nearby.js";
import { openAsset, openCode, setupScan } from "./edit.js";
import { insideArea } from "./area.js";

const $ = (sel) => document.querySelector(sel);
export const state = { auth: null, profile: null, layers: [], form: null };

function authHeaders() {
  return state.auth && state.auth.kind === "token" ? { Authorization: "Bearer " + state.auth.token } : {};
}

// With no network the browser is not even asked (a failed request would only be logged as an error).
const online = (...a) => (navigator.onLine ? fetch(...a) : Promise.reject(new TypeError("offline")));
export const outbox = new Outbox({ store: records, fetch: online, headers: authHeaders, onChange: () => refresh() });

/** fetch with the signed-in person's credentials. */
export function api(url, init = {}) {
  return fetch(url, { credentials: "same-origin", ...init, headers: { ...authHeaders(), ...(init.headers || {}) } });
}

let flashTimer = null;
export function flash(text, kind = "info") {
  const node = $("#flash");
  node.textContent = text;
  node.className = "flash " + kind;
  node.hidden = !text;
  clearTimeout(flashTimer);
  if (kind !== "warn") flashTimer = setTimeout(() => { node.hidden = true; }, 8000);
}

export function layerByName(name) {
  return state.layers.find((l) => l.name === name);
}

function translate() {
  for (const node of document.querySelectorAll("[data-t]")) node.textContent = t(node.dataset.t);
  // The page may come from the service worker's cache in the other language: the script decides.
  document.documentElement.lang = lang;
  document.title = t("app_title") + " — geomap";
  $(".bar h1").textContent = t("app_title");
  const other = lang === "en" ? "vi" : "en";
  const link = $("#lang-switch");
  const params = new URLSearchParams(location.search);  // every other parameter kept (?code= of a label)
  params.set("lang", other);
  link.href = "/field?" + params;
  link.lang = other;
  link.textContent = other === "en" ? "English" : "Tiếng Việt";
  link.addEventListener("click", () => keepLang(other));
  if (new URLSearchParams(location.search).has("lang")) keepLang(lang);
}

function showNet() {
  const on = navigator.onLine;
  $("#net").textContent = on ? t("online") : t("offline");
  $("#net").className = "badge " + (on ? "on" : "off");
}

let refreshing = null;
export function refresh() {
  clearTimeout(refreshing);
  refreshing = setTimeout(() => renderWork().catch(report), 50);
}

function report(err) {
  console.warn(err); // eslint-disable-line no-console
}

// ---- sign-in -------------------------------------------------------------------------------

async function loadProfile() {
  const [meRes, layersRes] = await Promise.all([api("/api/v1/field/me"), api("/api/v1/layers")]);
  if (meRes.status === 401 || meRes.status === 403) return null; // a wrong or expired token, an ended session
  if (!meRes.ok || !layersRes.ok) throw new Error("profile");
  const me = await meRes.json();
  if (me.role === "public") return null;
  state.profile = me;
  state.layers = (await layersRes.json()).layers;
  await kv.set("profile", me);
  await kv.set("layers", state.layers);
  return me;
}

async function signIn(event) {
  event.preventDefault();
  const form = event.target;
  const error = $("#signin-error");
  error.textContent = "";
  if (!navigator.onLine) { error.textContent = t("need_network"); return; }
  const token = form.token.value.trim();
  try {
    if (token) {
      state.auth = { kind: "token", token };
    } else {
      const res = await fetch("/api/v1/auth/login", { method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ username: form.username.value.trim(), password: form.password.value }) });
      if (!res.ok) { error.textContent = t("signin_failed"); return; }
      state.auth = { kind: "session" };
    }
    if (!(await loadProfile())) { error.textContent = token ? t("token_failed") : t("signin_failed"); state.auth = null; return; }
  } catch (err) {
    // fetch itself failing is the network; anything else is the server (never "no network" then)
    error.textContent = t(err instanceof TypeError ? "need_network" : "server_failed");
    return;
  }
  await kv.set("auth", state.auth);
  form.reset();
  outbox.authNeeded = false;
  showApp();
  outbox.run().catch(report);
}

async function signOut() {
  // Forget the credentials on the phone first (a page closed or reloaded while the server is
  // still being told must not come back signed in); show the sign-in form only once the server
  // has ended the session, so its answer cannot clear the cookie of a new sign-in.
  const session = navigator.onLine && state.auth && state.auth.kind === "session";
  state.auth = null;
  state.profile = null;
  await kv.del("auth");
  await kv.del("profile"); // the outbox is kept: whoever signs in next sends it
  stopGps();
  if (session) {
    await fetch("/api/v1/auth/logout", { method: "POST", credentials: "same-origin" }).catch(() => undefined);
  }
  $("#app").hidden = true;
  $("#signin").hidden = false;
}

// ---- tabs ----------------------------------------------------------------------------------

export function showTab(name) {
  for (const tab of document.querySelectorAll(".tab")) tab.hidden = tab.id !== "tab-" + name;
  for (const b of document.querySelectorAll("[data-tab]")) b.classList.toggle("active", b.dataset.tab === name);
  if (name === "work") refresh();
  document.dispatchEvent(new CustomEvent("field:tab", { detail: name }));
}

function showApp() {
  $("#signin").hidden = true;
  $("#app").hidden = false;
  renderLayers();
  showTab(state.profile.role === "farmer" ? "scan" : "capture");
  refresh();
  // /field?code=… (the "register this code" link of an unregistered label): open that code once
  const params = new URLSearchParams(location.search);
  const code = params.get("code");
  if (code) {
    params.delete("code");
    history.replaceState(null, "", location.pathname + (params.toString() ? "?" + params : ""));
    openCode(code).catch(report);
  }
}

function renderLayers() {
  const p = state.profile;
  $("#who").textContent = p.username + (p.team ? ` · ${t("team")} ${p.team.code}` : "");
  const box = $("#layer-buttons");
  box.replaceChildren();
  const names = p.role === "farmer" ? [] : p.layers;
  for (const name of names) {
    const layer = layerByName(name);
    if (!layer || !(layer.geometry_type === "Point" || isArea(layer))) continue; // areas: drawn vertex by vertex
    const b = document.createElement("button");
    b.type = "button";
    b.className = "layer";
    b.textContent = label(layer.title);
    b.dataset.layer = name;
    b.addEventListener("click", () => openCapture(layer));
    box.append(b);
  }
  if (!box.children.length) box.textContent = t("no_layers");
}

// ---- position ------------------------------------------------------------------------------

const fixes = new Fixes();
let stopWatch = () => {};

function stopGps() { stopWatch(); stopWatch = () => {}; }

function limits() {
  return accuracyLimits(state.form && state.form.layer, state.profile.gps_accuracy_max_m);
}

function goodEnough() {
  return limits().good;
}

function showGps() {
  const f = state.form;
  const node = $("#gps-status");
  if (f.manual) { node.textContent = `${t("placed")}: ${f.manual.lat.toFixed(6)}, ${f.manual.lon.toFixed(6)}`; node.className = "gps good"; return; }
  if (f.kept) { node.textContent = `${t("kept_position")}: ${f.kept.lat.toFixed(6)}, ${f.kept.lon.toFixed(6)}`; node.className = "gps good"; return; }
  const avg = fixes.average();
  if (!avg) { node.textContent = t("waiting_gps"); node.className = "gps"; return; }
  node.textContent = `${t("accuracy")}: ${avg.accuracy} m (≤ ${goodEnough()} m) · ${avg.n} ${t("fixes")}` +
    (fixes.moved ? ` · ${t("gps_moved")}` : "");
  node.className = "gps " + (avg.accuracy <= goodEnough() ? "good" : "poor");
}

function position() {
  const f = state.form;
  if (f.manual) return { lon: f.manual.lon, lat: f.manual.lat, accuracy: null, source: "manual" };
  if (f.kept) return f.kept;
  const avg = fixes.average();
  if (!avg) return null;
  if (avg.accuracy <= goodEnough()) return { ...avg, source: "gps" };
  if ($("#gps-poor").checked && avg.accuracy <= limits().max) return { ...avg, source: "gps-poor" };
  return null;
}

// The form's map: always shown for a new asset (working area, assets around, the GPS position).
async function showMap(f) {
  const avg = fixes.average();
  const team = state.profile.team;
  const view = await smallMap($("#map"), {
    start: avg ? [avg.lat, avg.lon] : null, area: team && team.area, basemap: document.body.dataset.basemap,
    onPlace: (p) => { f.manual = p; $("#form-error").textContent = ""; showGps(); },
    onVertex: (p) => addVertex(f, p),
  });
  if (state.form !== f) { view.remove(); return; }
  f.map = view;
  view.drawing = f.area;
  onFix();
}

// Each GPS fix: the accuracy, the dot on the map, and (once, online) the assets around it.
function onFix() {
  showGps();
  const f = state.form;
  const avg = fixes.average();
  if (!f || !f.map || !avg) return;
  f.map.setHere(avg.lat, avg.lon);
  if (f.nearbyLoaded) return;
  f.nearbyLoaded = true;
  nearbyAssets(api, f.layer, avg, 100, 50).then((found) => {
    if (state.form !== f || !f.map) return;
    f.nearby = found;
    f.map.setNearby(found);
  });
}

function startPlacing() {
  const f = state.form;
  if (!f || !f.map) return;
  f.map.placing = true;
  $("#gps-status").textContent = t("tap_map");
  $("#map").scrollIntoView({ block: "center" });
}

// ---- capture -------------------------------------------------------------------------------

/** Open the form for a new asset of `layer` (values pre-filled), or for an edit (`edit` given). */
export function openCapture(layer, values = {}, edit = null) {
  const p = state.profile;
  const defaults = { province: p.team && p.team.provinces[0], commune: p.team && p.team.communes[0] };
  const fields = formFields(layer, p.role);
  if (state.form && state.form.map) state.form.map.remove();
  state.form = { layer, fields, photos: [], manual: null, map: null, nearby: [], edit, recordId: values.__recordId || null,
    area: isArea(layer), vertices: [] };
  $("#form-title").textContent = (edit ? t("editing") + ": " : "") + label(layer.title);
  buildForm($("#fields"), fields, edit ? values : { ...defaults, ...values });
  $("#photo-thumbs").replaceChildren();
  $("#form-error").textContent = "";
  $("#gps-poor").checked = false;
  const lim = limits(); // a layer with its own limit (trees: 10 m) has no "poor but accepted" band
  $("#gps-poor").closest("label").hidden = lim.good >= lim.max || state.form.area;
  $("#place-on-map").hidden = state.form.area; // an area is drawn vertex by vertex instead
  $("#shape-tools").hidden = !state.form.area;
  if (state.form.area) showShape(state.form);
  $("#map").hidden = true;
  $("#map").replaceChildren();
  $("#capture-form").querySelector(".position").hidden = !!edit;
  $("#layer-choice").hidden = true;
  $("#capture-form").hidden = false;
  showTab("capture");
  if (state.form.recordId) keepPosition(state.form).catch(report);
  if (!edit) {
    fixes.reset();
    stopGps();
    stopWatch = watch(fixes, onFix, () => showGps());
    showGps();
    showMap(state.form).catch(report);
  }
}

// Fixing a refused record keeps the position it was captured at (unless placed again by hand).
async function keepPosition(f) {
  const previous = await records.get(f.recordId);
  if (!previous || state.form !== f) return;
  if (f.area) { // a refused boundary comes back with its vertices
    f.vertices = previous.feature.geometry.coordinates[0][0].slice(0, -1).map(([lon, lat]) => ({ lon, lat }));
    showShape(f);
    return;
  }
  const [lon, lat] = previous.feature.geometry.coordinates;
  f.kept = { lon, lat, accuracy: previous.feature.properties.gps_accuracy_m ?? null, source: previous.position };
  showGps();
}

function closeForm() {
  stopGps();
  if (state.form && state.form.map) state.form.map.remove();
  state.form = null;
  $("#capture-form").hidden = true;
  $("#layer-choice").hidden = false;
}

function addThumbs(photos) {
  for (const photo of photos) {
    state.form.photos.push(photo);
    const img = document.createElement("img");
    img.src = URL.createObjectURL(photo.blob);
    img.alt = t("photos") + " " + state.form.photos.length;
    $("#photo-thumbs").append(img);
  }
}

async function addPhotos(event) {
  for (const file of event.target.files) {
    addThumbs([{ id: crypto.randomUUID(), blob: await resize(file), name: "photo.jpg" }]);
  }
  event.target.value = "";
}

function cleanValues(values) {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== null && v !== ""));
}

function editRecord(f, values) {
  const changed = Object.fromEntries(Object.entries(values).filter(([k, v]) => (f.edit.values[k] ?? null) !== v));
  return newRecord({ id: crypto.randomUUID(), op: "edit", layer: f.layer.name, assetId: f.edit.id, etag: f.edit.etag,
    patch: { properties: changed }, code: f.edit.values.code, photos: f.photos });
}

async function createRecord(f, values, pos, geometry = { type: "Point", coordinates: [pos.lon, pos.lat] }) {
  const props = cleanValues(values);
  if (pos.accuracy !== null && pos.accuracy !== undefined) props.gps_accuracy_m = pos.accuracy;
  if (state.profile.team && f.layer.fields.some((x) => x.name === "team_code")) props.team_code = state.profile.team.code;
  const previous = f.recordId ? await records.get(f.recordId) : null;
  return newRecord({
    id: f.recordId || crypto.randomUUID(), op: "create", layer: f.layer.name, code: props.code,
    confirmNearby: !!f.confirmNearby, position: pos.source, photos: [...(previous ? previous.photos : []), ...f.photos],
    feature: { type: "Feature", geometry, properties: props },
  }, previous ? previous.createdAt : Date.now());
}

// The server's nearby rule, before the server says it: false when the volunteer went to edit the other asset.
async function nearbyChecked(f, pos) {
  if (f.confirmNearby || f.kept) return true;
  let found = await nearbyAssets(api, f.layer, pos);
  if (!found.length) found = withinSpacing(f.nearby, pos, f.layer.min_spacing_m); // offline: the map's assets
  if (!found.length) return true;
  const answer = await askSame($("#form-error"), found);
  if (answer === "same") {
    await openAsset(f.layer.name, found[0].id);
    if (state.form && state.form.edit) addThumbs(f.photos); // the photos taken go to that asset
    return false;
  }
  f.confirmNearby = true;
  return true;
}

// A farm boundary: at least 3 vertices, all inside the team's working area (the server checks again).
async function areaRecord(f, values) {
  const geometry = toMultiPolygon(f.vertices);
  if (!geometry) { $("#form-error").textContent = t("need_shape"); return null; }
  const team = state.profile.team;
  if (state.profile.role === "volunteer" && team && !f.vertices.every((v) => insideArea(team.area, v.lon, v.lat))) {
    $("#form-error").textContent = t("outside_area");
    return null;
  }
  return createRecord(f, values, { accuracy: null, source: "manual" }, geometry);
}

function vertexFromGps() {
  const f = state.form;
  const avg = fixes.average();
  if (!f || !avg) { $("#form-error").textContent = t("gps_not_ready"); return; }
  if (avg.accuracy > limits().max) { $("#form-error").textContent = t("gps_too_poor"); return; }
  addVertex(f, avg);
}

async function saveForm(event) {
  event.preventDefault();
  const f = state.form;
  const { values, errors } = readForm($("#fields"), f.fields);
  $("#form-error").textContent = showErrors($("#fields"), errors, (e) => e.reason).join(" ");
  if (errors.length) return;
  let record;
  if (f.edit) {
    record = editRecord(f, values);
  } else if (f.area) {
    record = await areaRecord(f, values);
    if (!record) return;
  } else {
    const pos = position();
    if (!pos) {
      const avg = fixes.average();
      $("#form-error").textContent = avg && avg.accuracy > limits().max ? t("gps_too_poor") : t("gps_not_ready");
      return;
    }
    const team = state.profile.team;
    if (state.profile.role === "volunteer" && team && !insideArea(team.area, pos.lon, pos.lat)) {
      $("#form-error").textContent = t("outside_area");
      return;
    }
    if (!(await nearbyChecked(f, pos))) return;
    record = await createRecord(f, values, pos);
  }
  await outbox.add(record);
  closeForm();
  flash(navigator.onLine ? t("saved_online") : t("saved"), "ok");
  outbox.run().catch(report);
}

/** Explain a record's problem in plain words. */
export function problemLines(record) {
  return explain(record.problem, layerByName(record.layer), lang);
}

// ---- start ---------------------------------------------------------------------------------

async function start() {
  translate();
  showNet();
  $("#signin-form").addEventListener("submit", signIn);
  $("#signout").addEventListener("click", signOut);
  $("#capture-form").addEventListener("submit", saveForm);
  $("#form-cancel").addEventListener("click", closeForm);
  $("#photo-input").addEventListener("change", (e) => addPhotos(e).catch(report));
  $("#place-on-map").addEventListener("click", startPlacing);
  $("#vertex-gps").addEventListener("click", vertexFromGps);
  $("#vertex-undo").addEventListener("click", () => state.form && undoVertex(state.form));
  for (const b of document.querySelectorAll("[data-tab]")) b.addEventListener("click", () => showTab(b.dataset.tab));
  window.addEventListener("online", () => { showNet(); outbox.run().catch(report); });
  window.addEventListener("offline", showNet);
  // Every 5 s while online (the backoff decides what is due); not while the sign-in is refused.
  setInterval(() => { if (navigator.onLine && !outbox.authNeeded) outbox.run().catch(report); }, 5000);
  setupScan();
  setupWork();

  state.auth = await kv.get("auth");
  state.profile = await kv.get("profile");
  state.layers = (await kv.get("layers")) || [];
  if (state.auth && state.profile) {
    showApp();
    if (navigator.onLine) {
      preloadMap();  // the form's map is ready before the orchard takes the signal away
      loadProfile().then((me) => { if (!me) flash(t("signin_again"), "warn"); else renderLayers(); }).catch(() => undefined);
    }
    outbox.run().catch(report);
  } else {
    $("#signin").hidden = false;
  }
  // Ask the browser never to evict the outbox when the phone runs short of space.
  if (navigator.storage && navigator.storage.persist) navigator.storage.persist().catch(report);
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/field/sw.js", { scope: "/field" }).catch(report);
  }
  document.body.dataset.ready = "1";
}

start().catch(report);
