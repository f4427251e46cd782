// Before saving a new point: the server's nearby rule, asked before the server says it. When
// online, assets of the same layer within its spacing are looked up; the volunteer says
// whether it is the same asset (open it for edit) or another one (save anyway).
import { t } from "./i18n.js";
export { withinSpacing } from "./spacing.js";

/** Assets of `layer` within its spacing of `pos` (empty when offline or on any failure). */
export async function nearbyAssets(api, layer, pos, radius = layer.min_spacing_m, limit = 5) {
  if (!navigator.onLine || !radius) return [];
  const query = `lon=${pos.lon}&lat=${pos.lat}&radius_m=${radius}&layers=${encodeURIComponent(layer.name)}&limit=${limit}`;
  try {
    const res = await api(`/api/v1/nearby?${query}`, { signal: AbortSignal.timeout(4000) });
    return res.ok ? (await res.json()).features : [];
  } catch (err) {
    return [];
  }
}

/** Ask in `box` whether the point is `found[0]`; resolves "same" or "other". */
export function askSame(box, found) {
  const n = found[0];
  return new Promise((resolve) => {
    const text = document.createElement("p");
    text.className = "problem";
    text.textContent = `${t("nearby_warn")} ${n.properties.code} (${Number(n.properties.distance_m).toFixed(1)} m).`;
    const same = document.createElement("button");
    same.type = "button";
    same.textContent = t("same_asset");
    same.className = "nearby-same";
    same.addEventListener("click", () => resolve("same"));
    const other = document.createElement("button");
    other.type = "button";
    other.textContent = t("new_asset");
    other.className = "nearby-other";
    other.addEventListener("click", () => resolve("other"));
    const row = document.createElement("div");
    row.className = "row";
    row.append(same, other);
    box.replaceChildren(text, row);
    box.scrollIntoView({ block: "center" });
  });
}
