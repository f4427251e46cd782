"""Page text in Vietnamese (default) and English; ``?lang=en`` or Accept-Language switches."""

from __future__ import annotations

import datetime as dt

from fastapi import Request

from geomap.web.report_strings import REPORT_STRINGS, STATE_NAMES

#: Vietnam's time (UTC+7, no daylight saving), in which pages show times.
VIETNAM = dt.timezone(dt.timedelta(hours=7))

STRINGS: dict[str, dict[str, str]] = {
    "title": {"vi": "Bản đồ tài sản số cộng đồng", "en": "Community digital asset map"},
    "filters": {"vi": "Bộ lọc", "en": "Filters"},
    "layers": {"vi": "Lớp", "en": "Layers"},
    "all": {"vi": "Tất cả", "en": "All"},
    "search": {"vi": "Tìm mã hoặc tên", "en": "Search code or name"},
    "apply": {"vi": "Lọc", "en": "Apply"},
    "clear": {"vi": "Xóa lọc", "en": "Clear"},
    "legend": {"vi": "Chú giải", "en": "Legend"},
    "zoom_in": {"vi": "tài sản — phóng to để xem từng điểm", "en": "assets — zoom in to see each one"},
    "details": {"vi": "Xem chi tiết", "en": "Details"},
    "code": {"vi": "Mã", "en": "Code"},
    "attributes": {"vi": "Thông tin", "en": "Attributes"},
    "history": {"vi": "Lịch sử chỉnh sửa", "en": "Edit history"},
    "photos": {"vi": "Ảnh", "en": "Photos"},
    "no_photos": {"vi": "Chưa có ảnh.", "en": "No photos yet."},
    "qr": {"vi": "Mã QR", "en": "QR code"},
    "download": {"vi": "Tải về", "en": "Download"},
    "not_registered": {"vi": "Mã chưa được đăng ký", "en": "Code not registered yet"},
    "not_registered_issued": {
        "vi": "Mã {code} đã được in trên nhãn nhưng chưa gắn với tài sản nào.",
        "en": "Code {code} has been printed on a label but is not attached to an asset yet.",
    },
    "not_registered_unknown": {
        "vi": "Không tìm thấy tài sản nào có mã {code}.",
        "en": "No asset has code {code}.",
    },
    "how_to_register": {
        "vi": "Cách đăng ký: tình nguyện viên của tổ công nghệ số đứng tại cây, mở ứng dụng thực địa, quét mã {code} và lưu cây mới. Sau đó quét lại mã này để xem trang của cây.",
        "en": "To register: a volunteer of the community digital technology team, standing at the tree, opens the field app, scans code {code} and saves the new tree. Scan this code again afterwards to see the tree's page.",
    },
    "orchard": {"vi": "Vườn", "en": "Orchard"},
    "area": {"vi": "Diện tích", "en": "Area"},
    "density": {"vi": "Mật độ", "en": "Density"},
    "trees": {"vi": "cây", "en": "trees"},
    "trees_per_ha": {"vi": "cây/ha", "en": "trees/ha"},
    "color_by": {"vi": "Tô màu theo", "en": "Colour by"},
    "health": {"vi": "tình trạng", "en": "health"},
    "variety": {"vi": "giống", "en": "variety"},
    "age": {"vi": "tuổi cây", "en": "age"},
    "by_variety": {"vi": "Theo giống", "en": "By variety"},
    "by_health": {"vi": "Theo tình trạng", "en": "By health"},
    "by_age": {"vi": "Theo tuổi (năm)", "en": "By age (years)"},
    "tree_list": {"vi": "Danh sách cây", "en": "Trees"},
    "owner": {"vi": "Chủ vườn", "en": "Owner"},
    "private_note": {"vi": "Thông tin riêng (chỉ chủ vườn thấy)", "en": "Private (visible to the owner only)"},
    "update_health": {"vi": "Cập nhật", "en": "Update"},
    "saved": {"vi": "Đã lưu", "en": "Saved"},
    "labels": {"vi": "In nhãn QR", "en": "Print QR labels"},
    "labels_title": {"vi": "Nhãn QR vườn", "en": "QR labels for farm"},
    "print": {"vi": "In", "en": "Print"},
    "sign_in": {"vi": "Đăng nhập", "en": "Sign in"},
    "sign_out": {"vi": "Đăng xuất", "en": "Sign out"},
    "username": {"vi": "Tên đăng nhập", "en": "Username"},
    "password": {"vi": "Mật khẩu", "en": "Password"},
    "map": {"vi": "Bản đồ", "en": "Map"},
    "layer": {"vi": "Lớp", "en": "Layer"},
    "created": {"vi": "tạo", "en": "created"},
    "update": {"vi": "sửa", "en": "edited"},
    "delete": {"vi": "xóa", "en": "deleted"},
    "restore": {"vi": "khôi phục", "en": "restored"},
    "review": {"vi": "duyệt", "en": "reviewed"},
    "create": {"vi": "tạo", "en": "created"},
    "actor_volunteer": {"vi": "tình nguyện viên", "en": "a volunteer"},
    "actor_farmer": {"vi": "chủ vườn", "en": "the farmer"},
    "actor_admin": {"vi": "quản trị viên", "en": "an administrator"},
    "actor_system": {"vi": "nhập dữ liệu", "en": "data import"},
    "field_geom": {"vi": "Vị trí", "en": "Location"},
    "field_report": {"vi": "Sự cố", "en": "Report"},
    "language": {"vi": "English", "en": "Tiếng Việt"},
    "farm_code": {"vi": "Mã vườn (cây sầu riêng)", "en": "Farm code (durian trees)"},
    "download_data": {"vi": "Tải dữ liệu", "en": "Download data"},
    "no_imagery": {"vi": "Không tải được ảnh nền (mất mạng?) — dùng bản đồ đường viền.", "en": "No background imagery (offline?) — outline map shown."},
    "hoang_sa": {"vi": "Quần đảo Hoàng Sa (Việt Nam)", "en": "Hoang Sa archipelago (Viet Nam)"},
    "truong_sa": {"vi": "Quần đảo Trường Sa (Việt Nam)", "en": "Truong Sa archipelago (Viet Nam)"},
    "find": {"vi": "Tìm", "en": "Find"},
    "menu": {"vi": "Lớp & bộ lọc", "en": "Layers & filters"},
    "close": {"vi": "Đóng", "en": "Close"},
    "locate": {"vi": "Vị trí của tôi", "en": "My location"},
    "locate_failed": {"vi": "Không lấy được vị trí (hãy bật định vị).", "en": "Could not get your location (turn location on)."},
    "my_orchard": {"vi": "Vườn của tôi", "en": "My orchard"},
    "results": {"vi": "Kết quả tìm kiếm", "en": "Search results"},
    "no_results": {"vi": "Không tìm thấy kết quả.", "en": "Nothing found."},
    "searching": {"vi": "Đang tìm…", "en": "Searching…"},
    "search_failed": {"vi": "Không tìm được (mất mạng?).", "en": "Search failed (offline?)."},
    "show_on_map": {"vi": "Xem trên bản đồ", "en": "Show on map"},
    "open_in_maps": {"vi": "Mở trong ứng dụng bản đồ", "en": "Open in the maps app"},
    "loading_map": {"vi": "Đang tải bản đồ…", "en": "Loading the map…"},
    "map_failed": {"vi": "Không tải được dữ liệu bản đồ. Kiểm tra kết nối rồi tải lại trang.", "en": "Could not load the map data. Check the connection and reload."},
    "show_more": {"vi": "Xem thêm", "en": "Show more"},
    "filter_trees": {"vi": "Lọc theo mã cây", "en": "Filter by tree code"},
    "saving": {"vi": "Đang lưu…", "en": "Saving…"},
    "save_offline": {"vi": "Không có mạng — chưa lưu. Hãy bấm lại khi có sóng.", "en": "Offline — not saved. Press again when you have signal."},
    "save_412": {"vi": "Cây này vừa được người khác sửa. Tải lại trang để xem bản mới nhất.", "en": "Someone else just changed this tree. Reload to see the latest."},
    "save_401": {"vi": "Phiên đăng nhập đã hết hạn. Hãy đăng nhập lại.", "en": "Your session has expired. Please sign in again."},
    "save_403": {"vi": "Bạn không có quyền sửa cây này.", "en": "You may not edit this tree."},
    "save_422": {"vi": "Giá trị không hợp lệ.", "en": "That value is not allowed."},
    "save_429": {"vi": "Lưu quá nhiều lần. Đợi một phút rồi thử lại.", "en": "Too many saves. Wait a minute and try again."},
    "save_error": {"vi": "Máy chủ đang lỗi, chưa lưu. Thử lại sau.", "en": "Server error, not saved. Try again later."},
    "age_unknown": {"vi": "Chưa rõ năm trồng", "en": "Planting year unknown"},
    "issue_labels": {"vi": "Cấp mã nhãn mới", "en": "Issue new label codes"},
    "issue_count": {"vi": "Số nhãn mới", "en": "How many new labels"},
    "issue_button": {"vi": "Cấp mã và in", "en": "Issue and print"},
    "print_new_only": {"vi": "Chỉ in các mã vừa cấp", "en": "Printing just the new codes"},
    "print_all": {"vi": "In nhãn cho mọi cây", "en": "Labels for every tree"},
    "loopback_link_warning": {"vi": "Lưu ý: đường dẫn này ({url}) chỉ mở được trên máy chủ này, vì máy chủ chưa được đặt địa chỉ công khai (GEOMAP_PUBLIC_URL).", "en": "Note: this link ({url}) only opens on this server, because the server has no public address set (GEOMAP_PUBLIC_URL)."},
    "loopback_warning": {"vi": "Cảnh báo: mã QR đang trỏ tới {url} — địa chỉ chỉ dùng được trên máy chủ này. Đặt GEOMAP_PUBLIC_URL là địa chỉ công khai trước khi in.", "en": "Warning: the QR codes point at {url}, which only works on this server. Set GEOMAP_PUBLIC_URL to the public address before printing."},
    "sheet_hint": {"vi": "Khổ A4, 3 × 7 = 21 nhãn (70 × 42,3 mm) mỗi trang.", "en": "A4, 3 × 7 = 21 labels (70 × 42.3 mm) per page."},
    "register_in_field_app": {"vi": "Mở ứng dụng thực địa để gắn mã này", "en": "Open the field app to tag this code"},
    "back_to_map": {"vi": "Về bản đồ", "en": "Back to the map"},
    "error_title": {"vi": "Không mở được trang", "en": "This page could not be opened"},
    "login_failed": {"vi": "Sai tên đăng nhập hoặc mật khẩu.", "en": "Wrong username or password."},
    "view_orchard": {"vi": "Xem vườn (bản đồ cây)", "en": "View the orchard (tree map)"},
}

STRINGS.update(REPORT_STRINGS)
STRINGS.update({f"state_{k}": v for k, v in STATE_NAMES.items()})

ERRORS: dict[int, dict[str, str]] = {
    400: {"vi": "Yêu cầu không hợp lệ.", "en": "The request is not valid."},
    401: {"vi": "Bạn cần đăng nhập để làm việc này.", "en": "You need to sign in to do this."},
    403: {"vi": "Tài khoản của bạn không có quyền làm việc này.", "en": "Your account may not do this."},
    404: {"vi": "Không tìm thấy trang hoặc mã này.", "en": "This page or code was not found."},
    409: {"vi": "Dữ liệu vừa thay đổi. Tải lại trang rồi thử lại.", "en": "The data just changed. Reload and try again."},
    422: {"vi": "Giá trị nhập vào không hợp lệ.", "en": "A value you entered is not valid."},
}


def error_text(status: int, lang: str) -> str:
    """A plain message for an error page (never the API's English detail)."""
    entry = ERRORS.get(status) or ERRORS[400]
    return entry[lang] if lang in entry else entry["vi"]


#: Remembers a language chosen on a page (``?lang=``), so the next QR code scanned opens in it.
LANG_COOKIE = "geomap_lang"


def pick_lang(request: Request) -> str:
    """``?lang=``, else the language last chosen on this browser, else ``vi`` unless the browser
    prefers English."""
    for lang in (request.query_params.get("lang"), request.cookies.get(LANG_COOKIE)):
        if lang in ("vi", "en"):
            return lang
    accept = request.headers.get("accept-language", "").lower()
    first = accept.split(",")[0].strip()
    return "en" if first.startswith("en") else "vi"


def translator(lang: str):
    """``t(key, **fmt)`` for ``lang``."""

    def t(key: str, **fmt) -> str:
        text = STRINGS.get(key, {}).get(lang) or STRINGS.get(key, {}).get("vi") or key
        return text.format(**fmt) if fmt else text

    return t



def local_time(value: str | None) -> str:
    """An ISO time as ``dd/mm/yyyy HH:MM`` in Vietnam's time (UTC+7), as every page shows times."""
    if not value:
        return ""
    when = dt.datetime.fromisoformat(value)
    when = when if when.tzinfo else when.replace(tzinfo=dt.timezone.utc)
    return when.astimezone(VIETNAM).strftime("%d/%m/%Y %H:%M")


def js_strings(lang: str, keys: tuple[str, ...]) -> dict[str, str]:
    """The page strings a script needs, in ``lang``."""
    t = translator(lang)
    return {k: t(k) for k in keys}
