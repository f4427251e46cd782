"""Điểm wifi công cộng — free public wifi points, mostly at village cultural houses."""

from geomap.layers.base import Attr, Choice, Layer, ReportCategory, Style

PROVIDERS = (
    Choice("vnpt", "VNPT", "VNPT"),
    Choice("viettel", "Viettel", "Viettel"),
    Choice("mobifone", "MobiFone", "MobiFone"),
    Choice("fpt", "FPT", "FPT"),
    Choice("khac", "Khác", "Other"),
)

LAYER = Layer(
    name="wifi_points",
    geometry="Point",
    vi="Điểm wifi công cộng",
    en="Public wifi points",
    description_vi="Điểm wifi miễn phí tại nhà văn hóa thôn/xóm do đoàn viên thanh niên lắp đặt.",
    description_en="Free wifi points at village cultural houses built by youth union members.",
    attributes=(
        Attr("venue", "text", "Địa điểm", "Venue", required=True),
        Attr("ssid", "text", "Tên mạng (SSID)", "SSID", max_length=32),
        Attr("provider", "enum", "Nhà mạng", "Provider", choices=PROVIDERS, filterable=True),
        Attr("installed_on", "date", "Ngày lắp đặt", "Installed on", filterable=True),
        Attr("built_by", "text", "Đơn vị thực hiện", "Built by"),
    ),
    style=Style(color="#1565c0", icon="wifi"),
    min_spacing_m=1.0,
    report_categories=(
        ReportCategory("mat_ket_noi", "Mất kết nối", "No connection", sets_value="hong"),
        ReportCategory("hong_thiet_bi", "Hỏng thiết bị", "Broken equipment", sets_value="hong"),
        ReportCategory("cham", "Mạng chậm", "Slow connection"),
        ReportCategory("mat_thiet_bi", "Mất thiết bị", "Equipment missing", sets_value="hong"),
    ),
)
