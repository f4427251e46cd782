"""Thư viện số — digital libraries at village cultural houses."""

from geomap.layers.base import Attr, Layer, ReportCategory, Style

LAYER = Layer(
    name="digital_libraries",
    geometry="Point",
    vi="Thư viện số",
    en="Digital libraries",
    description_vi="Thư viện số cộng đồng: số thiết bị, số đầu sách điện tử, giờ mở cửa.",
    description_en="Community digital libraries: devices, digital titles, opening hours.",
    attributes=(
        Attr("venue", "text", "Địa điểm", "Venue", required=True),
        Attr("devices", "int", "Số thiết bị", "Devices", ge=0, le=10_000, filterable=True),
        Attr("digital_titles", "int", "Số đầu sách số", "Digital titles", ge=0, le=10_000_000),
        Attr("opening_hours", "text", "Giờ mở cửa", "Opening hours", max_length=200),
    ),
    style=Style(color="#6a1b9a", icon="book"),
    min_spacing_m=1.0,
    report_categories=(
        ReportCategory("dong_cua", "Đóng cửa ngoài giờ", "Closed during opening hours"),
        ReportCategory("hong_thiet_bi", "Hỏng thiết bị", "Broken equipment", sets_value="hong"),
        ReportCategory("mat_ket_noi", "Mất kết nối mạng", "No internet connection", sets_value="hong"),
    ),
)
