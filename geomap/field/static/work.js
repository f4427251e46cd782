// "My work": what waits in the outbox (with its state and the server's reason), what was
// captured today, and what reviewers flagged; plus the choices a refused record needs:
// a 412 shows both versions field by field, a 409 asks whether it is the same asset.
import { t, label } from "./i18n.js";
import { records } from "./store.js";
import { exportUnsent, SENT, ATTENTION } from "./queue.js";
import { state, outbox, api, layerByName, problemLines, openCapture, flash } from "./app.js";
import { openAsset } from "./edit.js";

const $ = (sel) => document.querySelector(sel);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) node.setAttribute(k, v);
  node.append(...children);
  return node;
}

function button(text, onClick, cls) {
  const b = el("button", { type: "button", class: cls || null }, text);
  b.addEventListener("click", onClick);
  return b;
}

function recordTitle(r) {
  const layer = layerByName(r.layer);
  const code = r.code || (r.feature && r.feature.properties.code) || "";
  return `${layer ? label(layer.title) : r.layer} ${code}`;
}

function recordItem(r) {
  const li = el("li", { class: "record " + r.state, "data-id": r.id, "data-state": r.state });
  const sentPhotos = r.photos.filter((p) => p.sent).length;
  const when = new Date(r.createdAt).toLocaleTimeString();
  li.append(el("div", { class: "head" }, el("strong", {}, recordTitle(r)), el("span", { class: "state" }, t(r.state))));
  li.append(el("div", { class: "meta" }, `${when} · ${sentPhotos}/${r.photos.length} ${t("photos_sent")}`
    + (r.position === "manual" ? ` · ${t("placed")}` : "") + (r.position === "gps-poor" ? ` · ${t("poor_mark")}` : "")));
  if (r.state === ATTENTION) {
    for (const line of problemLines(r)) li.append(el("p", { class: "problem" }, line));
    li.append(actions(r));
  }
  return li;
}

function actions(r) {
  const box = el("div", { class: "row" });
  const p = r.problem || {};
  if (p.status === 412 && p.conflict) {
    box.append(conflictTable(r));
  } else if (p.status === 409 && p.nearby) {
    box.append(button(t("same_asset"), () => sameAsset(r, p.nearby).catch(() => flash(t("open_failed"), "warn"))));
    box.append(button(t("new_asset"), () => outbox.retry(r.id, { confirmNearby: true }).then(() => outbox.run())));
  } else {
    if (r.op === "create") box.append(button(t("edit"), () => fixRecord(r)));
    box.append(button(t("resend"), () => outbox.retry(r.id).then(() => outbox.run())));
  }
  return box;
}

// The volunteer said the nearby asset is the one they stand at: the capture becomes an edit of it.
async function sameAsset(r, nearby) {
  const res = await api(`/api/v1/layers/${r.layer}/features/${nearby.id}`);
  if (!res.ok) throw new Error("open");
  const current = await res.json();
  const props = { ...r.feature.properties };
  delete props.code;
  const changed = Object.fromEntries(Object.entries(props).filter(([k, v]) => current.properties[k] !== v));
  await outbox.retry(r.id, { op: "edit", assetId: nearby.id, etag: res.headers.get("ETag"), code: current.properties.code,
    patch: { properties: changed }, serverDone: false });
  await outbox.run();
}

function fixRecord(r) {
  const layer = layerByName(r.layer);
  openCapture(layer, { ...r.feature.properties, __recordId: r.id });
  if (r.problem) flash(problemLines(r).join(" "), "warn");
}

function show(field, v) {
  if (v === null || v === undefined || v === "") return "—";
  const choice = field && field.enum ? field.enum.find((c) => c.value === v) : null;
  return choice ? label(choice.label) : String(v);
}

function conflictTable(r) {
  const layer = layerByName(r.layer);
  const theirs = r.problem.conflict.current.properties;
  const mine = r.patch.properties;
  const table = el("table", { class: "conflict" });
  table.append(el("caption", {}, t("conflict_title")));
  table.append(el("tr", {}, el("th", {}, t("field")), el("th", {}, t("mine")), el("th", {}, t("theirs"))));
  for (const [name, value] of Object.entries(mine)) {
    const f = layer.fields.find((x) => x.name === name);
    const caption = f ? label(f.label) : name;
    const pick = (side, v) => el("td", {}, el("label", { class: "choice" },
      el("input", { type: "radio", name: `c-${r.id}-${name}`, value: side, ...(side === "mine" ? { checked: "" } : {}) }),
      el("span", {}, show(f, v))));
    table.append(el("tr", { "data-field": name }, el("td", {}, caption), pick("mine", value), pick("theirs", theirs[name])));
  }
  const wrap = el("div", { class: "conflict-box" }, table);
  wrap.append(button(t("keep_choice"), () => {
    const chosen = {};
    for (const name of Object.keys(mine)) {
      const side = wrap.querySelector(`input[name="c-${r.id}-${name}"]:checked`).value;
      if (side === "mine") chosen[name] = mine[name];
    }
    outbox.retry(r.id, { etag: r.problem.conflict.etag, patch: { properties: chosen } }).then(() => outbox.run());
  }, "primary"));
  return wrap;
}

// The team's working area as [west, south, east, north].
function bbox(geometry) {
  const xs = [];
  const ys = [];
  const walk = (c) => { if (typeof c[0] === "number") { xs.push(c[0]); ys.push(c[1]); } else c.forEach(walk); };
  walk(geometry.coordinates);
  return [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
}

// Assets of the team's layers and area that reviewers marked "has issues" (the comment shows
// to those the API shows it to).
async function flagged() {
  const list = $("#list-flagged");
  if (!navigator.onLine) return;
  const items = [];
  const area = state.profile.team && state.profile.team.area;
  const where = area ? `&bbox=${bbox(area).join(",")}` : "";
  for (const name of state.profile.layers) {
    const res = await api(`/api/v1/layers/${name}/features?review_state=has_issues&limit=50${where}`).catch(() => null);
    if (!res || !res.ok) continue;
    for (const f of (await res.json()).features) items.push({ name, f });
  }
  list.replaceChildren();
  for (const { name, f } of items) {
    const layer = layerByName(name);
    const li = el("li", { class: "record flagged" }, el("div", { class: "head" },
      el("strong", {}, `${label(layer.title)} ${f.properties.code}`)));
    if (f.properties.review_comment) li.append(el("p", { class: "problem" }, `${t("comment")}: ${f.properties.review_comment}`));
    li.append(button(t("edit"), () => openAsset(name, f.id)));
    list.append(li);
  }
  if (!items.length) list.append(el("li", { class: "empty" }, t("nothing")));
}

function fill(list, items) {
  list.replaceChildren(...items.map(recordItem));
  if (!items.length) list.append(el("li", { class: "empty" }, t("nothing")));
}

let lastFlagged = 0;

/** Redraw the lists and the counter. */
export async function renderWork() {
  if (!state.profile) return;
  const all = (await outbox.records()).reverse();
  const unsent = all.filter((r) => r.state !== SENT);
  const today = new Date().toDateString();
  fill($("#list-queue"), unsent);
  fill($("#list-today"), all.filter((r) => r.state === SENT && new Date(r.createdAt).toDateString() === today));
  $("#queue-count").textContent = unsent.length ? `(${unsent.length})` : "";
  if (outbox.authNeeded) flash(t("signin_again"), "warn");
  if (!$("#tab-work").hidden && Date.now() - lastFlagged > 30000) {
    lastFlagged = Date.now();
    await flagged();
  }
}

async function exportFile() {
  const toDataUrl = (blob) => new Promise((resolve) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.readAsDataURL(blob);
  });
  const text = await exportUnsent(await records.all(), toDataUrl);
  const a = el("a", { href: URL.createObjectURL(new Blob([text], { type: "application/json" })),
    download: `so-thuc-dia-${new Date().toISOString().slice(0, 10)}.json` });
  document.body.append(a);
  a.click();
  a.remove();
}

/** Wire the buttons of the "my work" tab. */
export function setupWork() {
  $("#send-now").addEventListener("click", async () => {
    for (const r of await records.all()) if (r.state === "waiting") await records.put({ ...r, nextTryAt: 0 });
    outbox.run();
  });
  $("#export").addEventListener("click", () => exportFile());
  document.addEventListener("field:tab", (e) => { if (e.detail === "work") lastFlagged = 0; });
}
