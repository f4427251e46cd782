// Words of the field app, Vietnamese first. The language is chosen as on the public pages:
// ?lang=, else the one last chosen on this phone (cookie geomap_lang, shared with the pages),
// else English only when the phone prefers it. It is chosen here, not by the server, because
// the service worker may answer /field from its cache.
export const COOKIE = "geomap_lang";

/** The language for a page at `search` with `cookie`, on a browser preferring `preferred`. */
export function chooseLang(search, cookie, preferred) {
  const asked = new URLSearchParams(search).get("lang");
  if (asked === "vi" || asked === "en") return asked;
  const kept = new RegExp("(?:^|;\\s*)" + COOKIE + "=(vi|en)(?:;|$)").exec(cookie || "");
  if (kept) return kept[1];
  return (preferred || "").toLowerCase().startsWith("en") ? "en" : "vi";
}

export const lang = typeof location === "undefined" ? "vi"
  : chooseLang(location.search, document.cookie, navigator.language);

/** Remember `chosen` for this phone's next visit (the pages read the same cookie). */
export function keepLang(chosen) {
  document.cookie = `${COOKIE}=${chosen}; path=/; max-age=${365 * 86400}; SameSite=Lax`;
}

const WORDS = {
  app_title: ["Sổ thực địa", "Field book"],
  signin: ["Đăng nhập", "Sign in"], username: ["Tên đăng nhập", "Username"], password: ["Mật khẩu", "Password"],
  or_token: ["Hoặc dán mã truy cập (token) do quản trị viên cấp", "Or paste an access token from an administrator"],
  token: ["Mã truy cập", "Access token"], signout: ["Đăng xuất", "Sign out"],
  signin_failed: ["Đăng nhập không được: kiểm tra tên và mật khẩu.", "Sign-in failed: check the username and password."],
  token_failed: ["Mã truy cập không dùng được (sai hoặc đã hết hạn).", "The token does not work (wrong or expired)."],
  need_network: ["Cần có mạng để đăng nhập lần đầu.", "The first sign-in needs a network."],
  no_imagery: ["Không tải được ảnh nền", "No background imagery"],
  server_failed: ["Máy chủ chưa trả lời được: thử lại sau ít phút.", "The server could not answer: try again in a few minutes."],
  capture: ["Ghi mới", "New"], scan: ["Quét mã", "Scan"], work: ["Việc của tôi", "My work"],
  vertex_gps: ["Thêm vị trí GPS làm đỉnh", "Add my GPS position as a vertex"], undo: ["Hoàn tác đỉnh cuối", "Undo last vertex"],
  shape_hint: ["Chạm bản đồ hoặc đi quanh ranh giới để thêm đỉnh.", "Tap the map or walk the boundary to add vertices."],
  vertices: ["đỉnh", "vertices"], need_shape: ["Ranh giới cần ít nhất 3 đỉnh.", "A boundary needs at least 3 vertices."],
  choose_layer: ["Chọn lớp để ghi", "Choose a layer"], position: ["Vị trí", "Position"],
  waiting_gps: ["Đang chờ GPS…", "Waiting for GPS…"], accuracy: ["Sai số", "Accuracy"],
  fixes: ["lần đo", "fixes"], gps_moved: ["đã di chuyển, đo lại", "moved, measuring again"], poor: ["Vị trí kém — vẫn lưu (đánh dấu)", "Poor position — save anyway (marked)"],
  place_on_map: ["Đặt điểm trên bản đồ", "Place on the map"], placed: ["Đặt tay trên bản đồ", "Placed by hand"],
  tap_map: ["Chạm vào bản đồ để đặt điểm.", "Tap the map to place the point."],
  photos: ["Ảnh", "Photos"], take_photo: ["Chụp ảnh", "Take a photo"], save: ["Lưu", "Save"], cancel: ["Hủy", "Cancel"],
  saved: ["Đã lưu trên máy; sẽ gửi khi có mạng.", "Saved on the phone; it will be sent when online."],
  gps_not_ready: ["Chưa có vị trí đủ chính xác: chờ GPS, đánh dấu vị trí kém hoặc đặt trên bản đồ.",
    "No accurate position yet: wait for GPS, mark it poor or place it on the map."],
  gps_too_poor: ["Sai số quá lớn để lưu bằng GPS: hãy đặt điểm trên bản đồ.", "Too inaccurate to save by GPS: place it on the map."],
  required: ["chưa điền (bắt buộc)", "is required"], range: ["ngoài khoảng cho phép", "is out of range"],
  online: ["Có mạng", "Online"], offline: ["Mất mạng — vẫn ghi được", "Offline — you can still capture"],
  waiting: ["Đang chờ gửi", "Waiting"], sending: ["Đang gửi", "Sending"], sent: ["Đã gửi", "Sent"],
  attention: ["Cần xử lý", "Needs attention"], send_now: ["Gửi ngay", "Send now"],
  export: ["Xuất bản ghi chưa gửi (tệp JSON)", "Export unsent records (JSON file)"],
  today: ["Hôm nay", "Today"], queue: ["Chưa gửi", "Not sent yet"], flagged: ["Người duyệt báo cần sửa", "Flagged by reviewers"],
  nothing: ["Không có gì.", "Nothing."], edit: ["Sửa", "Edit"], resend: ["Gửi lại", "Send again"],
  same_asset: ["Cùng tài sản này — cập nhật nó", "The same asset — update it"],
  new_asset: ["Tài sản khác — vẫn tạo mới", "A different asset — create it anyway"],
  conflict_title: ["Hai phiên bản khác nhau — chọn giá trị giữ lại", "Two versions differ — choose what to keep"],
  field: ["Trường", "Field"], mine: ["Của bạn", "Yours"], theirs: ["Trên máy chủ", "On the server"],
  keep_choice: ["Gửi theo lựa chọn", "Send my choice"], photos_sent: ["ảnh đã gửi", "photos sent"],
  scan_hint: ["Hướng camera vào nhãn QR.", "Point the camera at the QR label."],
  no_camera: ["Không mở được camera.", "The camera could not be opened."],
  unknown_code: ["Mã chưa có trên bản đồ: đã điền vào ô Mã để ghi mới.", "Code not on the map yet: filled in as the code of a new asset."],
  editing: ["Sửa tài sản", "Editing"], opening: ["Đang mở…", "Opening…"],
  open_failed: ["Không mở được tài sản (cần có mạng).", "Could not open the asset (needs a network)."],
  team: ["Tổ", "Team"], poor_mark: ["vị trí kém", "poor position"], no_layers: ["Tài khoản chưa được giao lớp nào.", "No layers are assigned to this account."],
  comment: ["Nhận xét", "Comment"], signin_again: ["Hãy đăng nhập lại để gửi tiếp (bản ghi vẫn được giữ).", "Sign in again to keep sending (records are kept)."],
  outside_area: ["Vị trí này nằm ngoài địa bàn của tổ: máy chủ sẽ không nhận. Kiểm tra GPS hoặc đặt điểm trên bản đồ.",
    "This position is outside the team's working area: the server will refuse it. Check the GPS or place it on the map."],
  kept_position: ["Giữ vị trí đã ghi", "Keeping the recorded position"],
  saved_online: ["Đã lưu trên máy; đang gửi…", "Saved on the phone; sending…"],
  nearby_warn: ["Đã có tài sản rất gần điểm này:", "There is an asset very close to this point:"],
};

/** The word for `key` in the page's language. */
export function t(key) {
  const w = WORDS[key];
  return w ? w[lang === "en" ? 1 : 0] : key;
}

/** A vi/en label object in the page's language. */
export function label(obj) {
  return obj ? obj[lang] || obj.vi : "";
}
