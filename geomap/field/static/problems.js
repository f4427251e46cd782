// The server's problem+json in plain words for the volunteer, with the form's own labels.
// Pure functions (no DOM) so they can be tested in Node.

// The server's reasons (geomap's own words and pydantic's) in the volunteer's words; a reason none
// of these knows says "not valid" in Vietnamese rather than showing English on a Vietnamese form.
const REASONS = [
  [/required|missing/i, { vi: "chưa điền (bắt buộc)", en: "is required" }],
  [/not one of|unknown value|allowed:|should be '/i, { vi: "giá trị không có trong danh sách", en: "is not one of the choices" }],
  [/at most \d+ characters|too long/i, { vi: "quá dài", en: "is too long" }],
  [/must be (≥|>=|greater)|greater than|at least|too small/i, { vi: "nhỏ hơn mức cho phép", en: "is below the allowed range" }],
  [/must be (≤|<=|less)|less than|at most|too large|larger than/i, { vi: "lớn hơn mức cho phép", en: "is above the allowed range" }],
  [/valid (number|integer|float|decimal)/i, { vi: "phải là một số", en: "must be a number" }],
  [/valid (date|datetime)|date/i, { vi: "ngày chưa đúng dạng", en: "is not a valid date" }],
  [/pattern|letters|characters/i, { vi: "chỉ dùng chữ không dấu, số, dấu chấm, gạch ngang", en: "has characters that are not allowed" }],
  [/accuracy/i, { vi: "sai số GPS quá lớn", en: "GPS accuracy is too poor" }],
  [/outside|working area|not in/i, { vi: "nằm ngoài địa bàn của tổ", en: "is outside the team's working area" }],
  [/already (belongs|used|taken)|taken/i, { vi: "đã được dùng cho tài sản khác", en: "is already used by another asset" }],
];
const NOT_VALID = "giá trị chưa hợp lệ";

const STATUS = {
  401: { vi: "Phiên đăng nhập đã hết hạn: hãy đăng nhập lại (bản ghi vẫn được giữ).", en: "Your sign-in expired: sign in again (the record is kept)." },
  403: { vi: "Tài khoản không có quyền ghi lớp này hoặc ở địa bàn này.", en: "Your account may not write this layer or area." },
  404: { vi: "Không tìm thấy tài sản trên máy chủ (có thể đã bị xóa).", en: "The asset was not found on the server (deleted?)." },
  409: { vi: "Trùng với dữ liệu đã có.", en: "It conflicts with existing data." },
  412: { vi: "Tài sản đã được người khác sửa trong lúc bạn sửa: chọn giữ giá trị nào.", en: "Someone else changed this asset meanwhile: choose which values to keep." },
  413: { vi: "Ảnh hoặc dữ liệu quá lớn.", en: "The photo or data is too large." },
  422: { vi: "Dữ liệu chưa hợp lệ.", en: "Some values are not valid." },
  428: { vi: "Thiếu phiên bản của tài sản; hãy mở lại tài sản.", en: "The asset's version is missing; open the asset again." },
};

/** Label of field `name` in `layer` (from /api/v1/layers), or the name itself. */
export function fieldLabel(layer, name, lang = "vi") {
  if (name === "geometry" || name === "position") return lang === "vi" ? "Vị trí" : "Position";
  if (name === "file") return lang === "vi" ? "Ảnh" : "Photo";
  const parts = String(name || "").split(".");
  const key = parts[parts.length - 1];
  const field = layer && layer.fields ? layer.fields.find((f) => f.name === key) : null;
  return field ? field.label[lang] || field.label.vi : key;
}

function known(text, lang) {
  for (const [re, words] of REASONS) if (re.test(text || "")) return words[lang];
  return null;
}

function reason(text, lang) {
  return known(text, lang) ?? (lang === "vi" ? NOT_VALID : text || "");
}

/** Lines to show for a problem: a sentence for the status, then one line per field. */
export function explain(problem, layer, lang = "vi") {
  if (!problem) return [];
  const lines = [];
  if (problem.status === 409 && problem.nearby) {
    const n = problem.nearby;
    lines.push(lang === "vi"
      ? `Đã có tài sản ${n.code || ""} cách đây ${Number(n.distance_m).toFixed(1)} m. Có phải cùng một tài sản?`
      : `Asset ${n.code || ""} is ${Number(n.distance_m).toFixed(1)} m away. Is it the same asset?`);
    return lines;
  }
  const head = STATUS[problem.status];
  lines.push(head ? head[lang] : (lang === "vi" ? `Máy chủ từ chối (mã ${problem.status}).` : `Refused by the server (${problem.status}).`));
  for (const e of problem.errors || []) {
    lines.push(`${fieldLabel(layer, e.field, lang)}: ${reason(e.reason, lang)}`);
  }
  if (!(problem.errors || []).length && problem.status !== 412 && problem.detail) {
    const r = known(problem.detail, lang) ?? (lang === "en" ? problem.detail : null);
    if (r) lines.push(r);
  }
  return lines;
}
