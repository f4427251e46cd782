// "Việc của tôi" — the citizen reports of the volunteer's team (all, for an administrator):
// a read-only list, newest state first, each with links to the map and to the asset. Loaded as its
// own module by the page, so app.js does not grow; it fills the list whenever the work tab opens.
import { lang } from "./i18n.js";
import { state, api } from "./app.js";

const WORDS = {
  title: ["Sự cố dân báo của tổ", "Citizen reports for my team"],
  none: ["Không có sự cố nào đang mở.", "No open reports."],
  offline: ["Cần có mạng để xem sự cố.", "A network is needed to see the reports."],
  map: ["Xem trên bản đồ", "Open on the map"], asset: ["Trang tài sản", "Asset page"],
  handle: ["Xử lý", "Handle"], confirmed: ["người xác nhận", "confirmed"],
  open: ["Mới tiếp nhận", "Open — received"],  // the other states: the API's own labels
};
const w = (key) => WORDS[key][lang === "en" ? 1 : 0];
const q = lang === "en" ? "?lang=en" : "";

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  node.append(...children);
  return node;
}

function when(iso) {
  return new Date(iso).toLocaleString(lang === "en" ? "en-GB" : "vi-VN", { dateStyle: "short", timeStyle: "short" });
}

function item(r) {
  const li = el("li", { class: "record report " + r.state, "data-id": r.id, "data-state": r.state });
  const category = lang === "en" ? r.category_en : r.category_vi;
  li.append(el("div", { class: "head" }, el("strong", {}, category + (r.asset ? " · " + r.asset.code : "")),
    el("span", { class: "state" }, r.state === "open" ? w("open") : lang === "en" ? r.state_en : r.state_vi)));
  li.append(el("div", { class: "meta" }, when(r.created_at)
    + (r.interest_count > 1 ? ` · ${r.interest_count} ${w("confirmed")}` : "")));
  if (r.description) li.append(el("p", { class: "description" }, r.description));
  const { lat, lon } = r.location;
  const links = el("div", { class: "row links" },
    el("a", { class: "button", href: `/${q}#18/${lat.toFixed(6)}/${lon.toFixed(6)}` }, w("map")));
  if (r.asset && r.asset.code) links.append(el("a", { class: "button", href: `/a/${encodeURIComponent(r.asset.code)}${q}` }, w("asset")));
  links.append(el("a", { class: "button", href: `/reports/queue${q}#r-${r.id}` }, w("handle")));
  li.append(links);
  return li;
}

function section() {
  let box = document.getElementById("my-reports");
  if (!box) {
    box = el("section", { id: "my-reports" }, el("h2", {}, w("title")), el("p", { class: "hint", role: "status" }),
      el("ul", { id: "list-reports", class: "records" }));
    const work = document.getElementById("tab-work");
    work.insertBefore(box, work.querySelector("h2"));
  }
  return box;
}

/** Fill the list from /api/v1/reports/queue (the team's open reports). */
export async function loadReports() {
  const role = state.profile && state.profile.role;
  if (role !== "volunteer" && role !== "admin") return;
  const box = section();
  const status = box.querySelector(".hint"), list = box.querySelector("ul");
  try {
    if (!navigator.onLine) throw new TypeError("offline");
    const res = await api("/api/v1/reports/queue");
    if (!res.ok) throw new Error(String(res.status));
    const found = await res.json();
    list.replaceChildren(...found.map(item));
    status.textContent = found.length ? "" : w("none");
    box.dataset.loaded = String(found.length);
  } catch (err) {
    status.textContent = w("offline");
  }
}

document.addEventListener("field:tab", (event) => { if (event.detail === "work") loadReports(); });
