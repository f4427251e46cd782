"""Cột mốc biên giới — border markers and reference posts."""

from geomap.layers.base import Attr, Choice, Layer, ReportCategory, Style

MARKER_TYPES = (
    Choice("moc_chinh", "Mốc chính", "Main marker"),
    Choice("moc_phu", "Mốc phụ", "Secondary marker"),
    Choice("coc_dau", "Cọc dấu", "Reference post"),
)

BORDER_LINES = (
    Choice("viet_nam_lao", "Việt Nam – Lào", "Viet Nam – Laos"),
    Choice("viet_nam_campuchia", "Việt Nam – Campuchia", "Viet Nam – Cambodia"),
    Choice("viet_nam_trung_quoc", "Việt Nam – Trung Quốc", "Viet Nam – China"),
)

CONDITIONS = (
    Choice("tot", "Tốt", "Good"),
    Choice("hu_hong_nhe", "Hư hỏng nhẹ", "Slightly damaged"),
    Choice("hu_hong_nang", "Hư hỏng nặng", "Badly damaged"),
)

LAYER = Layer(
    name="border_markers",
    geometry="Point",
    vi="Cột mốc biên giới",
    en="Border markers",
    description_vi="Cột mốc và cọc dấu trên đường biên giới, phục vụ giáo dục chủ quyền.",
    description_en="Border markers and reference posts, for education on sovereignty.",
    attributes=(
        Attr("marker_number", "text", "Số hiệu mốc", "Marker number", required=True, max_length=20, filterable=True),
        Attr("marker_type", "enum", "Loại mốc", "Marker type", required=True, choices=MARKER_TYPES, filterable=True),
        Attr("border_line", "enum", "Tuyến biên giới", "Border line", required=True, choices=BORDER_LINES, filterable=True),
        Attr("condition", "enum", "Tình trạng", "Condition", choices=CONDITIONS, filterable=True),
        Attr("year_placed", "int", "Năm cắm mốc", "Year placed", ge=1900, le=2100),
    ),
    style=Style(color="#c62828", icon="flag"),
    min_spacing_m=1.0,
    taggable_by_default=False,
    report_categories=(
        ReportCategory("hu_hong", "Hư hỏng", "Damaged", duplicate_radius_m=100.0, sets_value="hu_hong_nang",
                       sets_field="condition"),
        ReportCategory("mat", "Mất mốc", "Missing", duplicate_radius_m=100.0, sets_value="hong"),
        ReportCategory("bi_che_khuat", "Bị che khuất, cây cỏ mọc", "Overgrown or hidden", duplicate_radius_m=100.0),
    ),
)
