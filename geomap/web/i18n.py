"""Page text in Vietnamese (default) and English; ``?lang=en`` or Accept-Language switches."""

from __future__ import annotations

from fastapi import Request

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
        "vi": "Cách đăng ký: tình nguyện viên của tổ công nghệ số đứng tại cây, mở ứng dụng gắn thẻ và tạo tài sản mới với mã {code} (API: POST /api/v1/layers/durian_trees/features với \"code\": \"{code}\"). Sau đó quét lại mã này để xem trang của tài sản.",
        "en": "To register: a volunteer of the community digital technology team, standing at the tree, creates a new asset with code {code} in the tagging app (API: POST /api/v1/layers/durian_trees/features with \"code\": \"{code}\"). Scan this code again afterwards to see the asset's page.",
    },
    "orchard": {"vi": "Vườn", "en": "Orchard"},
    "area": {"vi": "Diện tích", "en": "Area"},
    "density": {"vi": "Mật độ", "en": "Density"},
    "trees": {"vi": "Số cây", "en": "Trees"},
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
    "language": {"vi": "English", "en": "Tiếng Việt"},
    "farm_code": {"vi": "Mã vườn (cây sầu riêng)", "en": "Farm code (durian trees)"},
    "download_data": {"vi": "Tải dữ liệu", "en": "Download data"},
}


def pick_lang(request: Request) -> str:
    """``vi`` unless ``?lang=en`` or the browser prefers English."""
    lang = request.query_params.get("lang")
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
