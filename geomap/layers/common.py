"""Attributes every asset carries, whatever its layer.

Columns that are pure bookkeeping (id, version, created/updated by and at, review state,
deleted_at, geometry) are declared in :mod:`geomap.tables`; the attributes here are the ones a
user reads and writes.
"""

from __future__ import annotations

from geomap.layers.attributes import Attr, Choice

STATUS = (
    Choice("hoat_dong", "Hoạt động", "In service"),
    Choice("hong", "Hỏng", "Broken"),
    Choice("du_kien", "Dự kiến", "Planned"),
    Choice("ngung", "Ngừng hoạt động", "Retired"),
)

REVIEW_STATES = (
    Choice("received", "Đã tiếp nhận", "Received"),
    Choice("has_issues", "Cần xem lại", "Has issues"),
    Choice("approved", "Đã duyệt", "Approved"),
    Choice("rejected", "Từ chối", "Rejected"),
)

CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"

COMMON_ATTRIBUTES: tuple[Attr, ...] = (
    Attr("code", "text", "Mã", "Code", required=True, max_length=64, pattern=CODE_PATTERN),
    Attr("name", "text", "Tên", "Name", required=True),
    Attr("status", "enum", "Trạng thái", "Status", choices=STATUS, filterable=True),
    Attr("province", "text", "Tỉnh/thành phố", "Province", required=True, filterable=True),
    Attr("commune", "text", "Xã/phường", "Commune", required=True, filterable=True),
    Attr("village", "text", "Thôn/xóm", "Village"),
    Attr("team_code", "text", "Tổ công nghệ số", "Tagging team", max_length=64),
    Attr("gps_accuracy_m", "float", "Sai số GPS (m)", "GPS accuracy (m)", ge=0, le=10_000),
)

#: Bookkeeping columns a client may never set (they are refused, not dropped).
SERVER_OWNED = (
    "version",
    "created_by",
    "created_at",
    "updated_by",
    "updated_at",
    "deleted_at",
    "review_state",
    "review_comment",
)
