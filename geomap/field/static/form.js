// The capture/edit form, built from the layer registry (/api/v1/layers): labels in the page's
// language, enums as big buttons (or a select when long), numbers with their ranges, required
// fields marked. A layer added to the registry appears here with no change to this code.
import { t, label } from "./i18n.js";

const AUTOMATIC = new Set(["gps_accuracy_m", "team_code"]);
const LONG_TEXT = new Set(["notes", "description", "review_comment"]);
const MAX_BUTTONS = 6;

/** Fields the person fills in: not server-owned, not automatic; a farmer only the ones they may change. */
export function formFields(layer, role) {
  return layer.fields.filter((f) => !f.server_owned && !AUTOMATIC.has(f.name) && f.type !== "ref"
    && (role !== "farmer" || f.farmer_writable));
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "text") node.textContent = v; else node.setAttribute(k, v === true ? "" : v);
  }
  node.append(...children);
  return node;
}

function enumInput(f, value) {
  if (f.enum.length > MAX_BUTTONS) {
    const select = el("select", { name: f.name, id: "f-" + f.name });
    select.append(el("option", { value: "", text: "—" }));
    for (const c of f.enum) select.append(el("option", { value: c.value, text: label(c.label), selected: c.value === value }));
    return select;
  }
  const group = el("div", { class: "choices", role: "radiogroup" });
  for (const c of f.enum) {
    group.append(el("label", { class: "choice" },
      el("input", { type: "radio", name: f.name, value: c.value, checked: c.value === value }),
      el("span", { text: label(c.label) })));
  }
  return group;
}

function input(f, value) {
  if (f.enum) return enumInput(f, value);
  const common = { name: f.name, id: "f-" + f.name, required: f.required };
  if (f.type === "int" || f.type === "float") {
    return el("input", { ...common, type: "number", inputmode: f.type === "int" ? "numeric" : "decimal",
      step: f.type === "int" ? "1" : "any", min: f.ge ?? f.gt, max: f.le, value: value ?? "" });
  }
  if (f.type === "date") return el("input", { ...common, type: "date", value: value ?? "" });
  if (f.type === "bool") return el("input", { ...common, type: "checkbox", checked: !!value });
  if (LONG_TEXT.has(f.name) || (f.max_length || 0) > 200) {
    const area = el("textarea", { ...common, maxlength: f.max_length, rows: "3" });
    area.value = value ?? "";
    return area;
  }
  return el("input", { ...common, type: "text", maxlength: f.max_length, value: value ?? "",
    autocapitalize: f.name === "code" ? "characters" : null });
}

/** Fill `container` with the fields, showing `values`. */
export function buildForm(container, fields, values = {}) {
  container.replaceChildren();
  for (const f of fields) {
    const caption = el("span", { class: "caption", text: label(f.label) + (f.required ? " *" : "") });
    const box = el(f.enum && f.enum.length <= MAX_BUTTONS ? "fieldset" : "label", { class: "field", "data-name": f.name });
    if (box.tagName === "FIELDSET") box.append(el("legend", {}, caption)); else box.append(caption);
    box.append(input(f, values[f.name]), el("span", { class: "error" }));
    container.append(box);
  }
}

function rawValue(container, f) {
  if (f.enum && f.enum.length <= MAX_BUTTONS) {
    const checked = container.querySelector(`input[name="${f.name}"]:checked`);
    return checked ? checked.value : "";
  }
  const node = container.querySelector(`[name="${f.name}"]`);
  if (f.type === "bool") return node.checked;
  return node.value.trim();
}

/** The values typed in, converted to their types, and the problems found ({field, reason}). */
export function readForm(container, fields) {
  const values = {};
  const errors = [];
  for (const f of fields) {
    let v = rawValue(container, f);
    if (v === "" || v === null) {
      if (f.required) errors.push({ field: f.name, reason: t("required") });
      values[f.name] = null;
      continue;
    }
    if (f.type === "int" || f.type === "float") {
      v = Number(v);
      const bad = !Number.isFinite(v) || (f.type === "int" && !Number.isInteger(v))
        || (f.ge !== undefined && v < f.ge) || (f.le !== undefined && v > f.le) || (f.gt !== undefined && v <= f.gt);
      if (bad) errors.push({ field: f.name, reason: `${t("range")} (${f.ge ?? f.gt ?? "…"} – ${f.le ?? "…"})` });
    }
    values[f.name] = v;
  }
  return { values, errors };
}

/** Show problems next to their fields (and clear the others); returns the lines for fields not in the form. */
export function showErrors(container, errors, describe) {
  for (const span of container.querySelectorAll(".field > .error")) span.textContent = "";
  const elsewhere = [];
  for (const e of errors) {
    const key = String(e.field || "").split(".").pop();
    const span = container.querySelector(`.field[data-name="${key}"] > .error`);
    if (span) span.textContent = e.reason; else elsewhere.push(describe(e));
  }
  const first = container.querySelector(".field > .error:not(:empty)");
  if (first) first.parentElement.scrollIntoView({ block: "center" });
  return elsewhere;
}
