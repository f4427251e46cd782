"""Vườn sầu riêng — durian farms (orchards), one MultiPolygon each."""

from geomap.layers.base import Attr, Layer, ReportCategory, Style

LAYER = Layer(
    name="farms",
    geometry="MultiPolygon",
    vi="Vườn sầu riêng",
    en="Durian farms",
    description_vi="Ranh giới vườn sầu riêng, mã số vùng trồng và diện tích (ha, tính trên ellipsoid).",
    description_en="Durian orchard boundaries with planting-area code and area (ha, on the ellipsoid).",
    attributes=(
        Attr("owner_name", "text", "Chủ vườn", "Owner", required=True, public=False),
        Attr(
            "owner_phone", "text", "Số điện thoại chủ vườn", "Owner phone",
            public=False, max_length=20, pattern=r"^\+?[0-9 .-]{8,20}$",
        ),
        Attr(
            "planting_area_code", "text", "Mã số vùng trồng", "Planting-area code",
            max_length=40, filterable=True,
        ),
        Attr("area_ha", "float", "Diện tích (ha)", "Area (ha)", server=True),
    ),
    style=Style(color="#2e7d32", icon="tree"),
    min_spacing_m=0.0,
    farmer_owned=True,
    report_categories=(
        ReportCategory("ngap_ung", "Ngập úng", "Waterlogged", duplicate_radius_m=200.0),
        ReportCategory("dich_benh", "Dịch bệnh lan rộng", "Spreading disease", duplicate_radius_m=200.0),
    ),
)
