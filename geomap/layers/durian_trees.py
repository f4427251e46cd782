"""Cây sầu riêng — durian trees, each inside its farm."""

from geomap.layers.base import Attr, Choice, Layer, Style

VARIETIES = (
    Choice("ri6", "Ri6", "Ri6"),
    Choice("monthong", "Monthong (Dona)", "Monthong (Dona)"),
    Choice("musang_king", "Musang King", "Musang King"),
    Choice("chuong_bo", "Chuồng Bò", "Chuong Bo"),
    Choice("sau_huu", "Sáu Hữu", "Sau Huu"),
    Choice("khac", "Khác", "Other"),
)

HEALTH = (
    Choice("khoe", "Khỏe", "Healthy"),
    Choice("sau_benh", "Sâu bệnh", "Pests/disease"),
    Choice("chet", "Chết", "Dead"),
)

LAYER = Layer(
    name="durian_trees",
    geometry="Point",
    vi="Cây sầu riêng",
    en="Durian trees",
    description_vi="Từng cây sầu riêng trong vườn: giống, năm trồng, tình trạng, chiều cao, năng suất.",
    description_en="Individual durian trees: variety, planting year, health, height, yield.",
    attributes=(
        Attr("farm_id", "ref", "Vườn", "Farm", ref_layer="farms", within_ref=True, filterable=True),
        Attr("variety", "enum", "Giống", "Variety", required=True, choices=VARIETIES, filterable=True),
        Attr("planting_year", "int", "Năm trồng", "Planting year", ge=1950, le=2100, filterable=True),
        Attr("health", "enum", "Tình trạng", "Health", choices=HEALTH, filterable=True, farmer_writable=True),
        Attr("height_m", "float", "Chiều cao (m)", "Height (m)", gt=0, le=50, farmer_writable=True),
        Attr("canopy_m", "float", "Đường kính tán (m)", "Canopy diameter (m)", gt=0, le=40, farmer_writable=True),
        Attr("last_yield_kg", "float", "Năng suất vụ trước (kg)", "Last yield (kg)", ge=0, le=2000, farmer_writable=True),
        Attr("notes", "text", "Ghi chú", "Notes", max_length=2000, farmer_writable=True),
    ),
    style=Style(color="#8bc34a", icon="leaf", radius=4),
    min_spacing_m=2.0,
)
