"""Cây sầu riêng — durian trees, each inside its farm."""

from geomap.layers.base import Attr, Choice, Layer, ReportCategory, Style

VARIETIES = (
    Choice("ri6", "Ri6", "Ri6", color="#1565c0"),
    Choice("monthong", "Monthong (Dona)", "Monthong (Dona)", color="#6a1b9a"),
    Choice("musang_king", "Musang King", "Musang King", color="#ef6c00"),
    Choice("chuong_bo", "Chuồng Bò", "Chuong Bo", color="#00838f"),
    Choice("sau_huu", "Sáu Hữu", "Sau Huu", color="#ad1457"),
    Choice("khac", "Khác", "Other", color="#757575"),
)

HEALTH = (
    Choice("khoe", "Khỏe", "Healthy", color="#43a047"),
    Choice("sau_benh", "Sâu bệnh", "Pests/disease", color="#f9a825"),
    Choice("chet", "Chết", "Dead", color="#4e342e"),
)

#: Age classes of the orchard page (years since planting, upper bound inclusive; None = older).
AGE_CLASSES = (
    Choice("0-3", "0–3 năm", "0–3 years", color="#c5e1a5"),
    Choice("4-7", "4–7 năm", "4–7 years", color="#7cb342"),
    Choice("8-12", "8–12 năm", "8–12 years", color="#33691e"),
    Choice("13+", "13 năm trở lên", "13 years and over", color="#1b3d0f"),
)
AGE_UPPER = {"0-3": 3, "4-7": 7, "8-12": 12, "13+": None}

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
    style=Style(color="#8bc34a", icon="leaf", radius=4, color_by="health"),
    min_spacing_m=2.0,
    gps_accuracy_max_m=10.0,  # trees stand 8–10 m apart: a worse fix may land on the neighbour
    report_categories=(
        ReportCategory("sau_benh", "Sâu bệnh", "Pests or disease", duplicate_radius_m=5.0, sets_value="sau_benh",
                       sets_field="health"),
        ReportCategory("do_nga", "Đổ ngã", "Fallen", duplicate_radius_m=5.0),
        ReportCategory("chet", "Cây chết", "Dead tree", duplicate_radius_m=5.0),
    ),
)
