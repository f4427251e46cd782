// Opening an existing asset for edit (with its ETag), from a scanned QR label or a list; an
// unknown code starts a new capture with that code filled in.
import { t } from "./i18n.js";
import { startScan, codeOf } from "./scan.js";
import { state, api, layerByName, openCapture, flash } from "./app.js";

const $ = (sel) => document.querySelector(sel);
let stopCamera = null;

/** Load an asset and open the edit form on it (needs the network). */
export async function openAsset(layerName, id) {
  const res = await api(`/api/v1/layers/${encodeURIComponent(layerName)}/features/${encodeURIComponent(id)}`);
  if (!res.ok) { flash(t("open_failed"), "warn"); return; }
  const feature = await res.json();
  const values = feature.properties;
  openCapture(layerByName(layerName), values, { id: feature.id, etag: res.headers.get("ETag"), values });
}

/** The asset of `code` in the layers this person may write, or null. */
async function findCode(code) {
  for (const name of state.profile.layers) {
    const res = await api(`/api/v1/layers/${encodeURIComponent(name)}/features?q=${encodeURIComponent(code)}&limit=20`);
    if (!res.ok) continue;
    const hit = (await res.json()).features.find((f) => f.properties.code === code);
    if (hit) return { layer: name, id: hit.id };
  }
  return null;
}

/** Open the asset a scanned or linked code names; an unknown code starts a new capture with it. */
export async function openCode(text) {
  const code = codeOf(text);
  $("#scan-status").textContent = `${code} — ${t("opening")}`;
  let hit = null;
  try {
    hit = navigator.onLine ? await findCode(code) : null;
  } catch (err) {
    hit = null;
  }
  if (hit) { await openAsset(hit.layer, hit.id); return; }
  const first = state.profile.layers.map(layerByName).find((l) => l && l.geometry_type === "Point");
  if (!first || state.profile.role === "farmer") { flash(t("open_failed"), "warn"); return; }
  openCapture(first, { code });
  flash(t("unknown_code"), "info");
}

async function scan() {
  $("#scan-status").textContent = "";
  try {
    stopCamera = await startScan($("#scan-video"), (text) => { stopCamera = null; openCode(text); });
  } catch (err) {
    $("#scan-status").textContent = t("no_camera");
  }
}

/** Start the camera when the scan tab opens, stop it when another opens. */
export function setupScan() {
  document.addEventListener("field:tab", (e) => {
    if (stopCamera) { stopCamera(); stopCamera = null; }
    if (e.detail === "scan") scan();
  });
}

