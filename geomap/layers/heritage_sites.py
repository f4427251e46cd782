"""Di tích – địa chỉ đỏ — historic relics, scenic sites and "red addresses" with QR signs."""

from geomap.layers.base import Attr, Choice, Layer, ReportCategory, Style

KINDS = (
    Choice("di_tich_lich_su", "Di tích lịch sử", "Historic relic"),
    Choice("danh_thang", "Danh lam thắng cảnh", "Scenic site"),
    Choice("dia_chi_do", "Địa chỉ đỏ", "Red address"),
)

RANKS = (
    Choice("quoc_gia", "Cấp quốc gia", "National"),
    Choice("tinh", "Cấp tỉnh", "Provincial"),
)

LAYER = Layer(
    name="heritage_sites",
    geometry="Point",
    vi="Di tích – địa chỉ đỏ",
    en="Heritage sites",
    description_vi="Di tích lịch sử, danh thắng và địa chỉ đỏ có biển mã QR.",
    description_en="Historic relics, scenic sites and red addresses with QR signs.",
    attributes=(
        Attr("kind", "enum", "Loại", "Kind", required=True, choices=KINDS, filterable=True),
        Attr("rank", "enum", "Xếp hạng", "Rank", choices=RANKS, filterable=True),
        Attr("description", "text", "Mô tả", "Description", max_length=10_000),
    ),
    style=Style(color="#ef6c00", icon="star"),
    min_spacing_m=1.0,
    report_categories=(
        ReportCategory("bien_qr_hong", "Biển QR hỏng", "QR sign broken"),
        ReportCategory("xuong_cap", "Xuống cấp", "Deteriorating", duplicate_radius_m=100.0),
        ReportCategory("rac_thai", "Rác thải, vệ sinh", "Litter or cleanliness"),
    ),
)
