"""The registry: the domain's layers, typed attributes, Vietnamese labels, privacy flags, tables."""

from __future__ import annotations

import unicodedata

import pytest
from pydantic import ValidationError

from geomap.layers.registry import LAYERS, UnknownLayer, get_layer, layer_names
from geomap.schemas import properties_model
from geomap.tables import build_metadata

EXPECTED = {
    "farms": ("MultiPolygon", "Vườn sầu riêng"),
    "durian_trees": ("Point", "Cây sầu riêng"),
    "wifi_points": ("Point", "Điểm wifi công cộng"),
    "digital_libraries": ("Point", "Thư viện số"),
    "border_markers": ("Point", "Cột mốc biên giới"),
    "heritage_sites": ("Point", "Di tích – địa chỉ đỏ"),
}


def test_the_domain_layers_with_geometry_and_vietnamese_titles():
    # The domain's layers are there (more may be added: every check below runs on each of them).
    assert {name: (get_layer(name).geometry, get_layer(name).vi) for name in EXPECTED} == EXPECTED
    assert len(set(layer_names())) == len(LAYERS)
    for layer in LAYERS:
        assert layer.en and layer.description_vi and layer.description_en
        for attr in layer.all_attributes:
            assert attr.vi and attr.en
            assert unicodedata.is_normalized("NFC", attr.vi)
            for choice in attr.choices:
                assert choice.vi and choice.en


def test_common_fields_on_every_layer():
    common = {"code", "name", "status", "province", "commune", "village", "team_code", "gps_accuracy_m"}
    tables = build_metadata().tables
    for layer in LAYERS:
        cols = set(tables[layer.table].columns.keys())
        assert common | {"id", "version", "created_by", "created_at", "updated_by", "updated_at", "geom", "review_state"} <= cols


def test_private_and_server_owned_attributes():
    farms = get_layer("farms")
    assert {a.name for a in farms.all_attributes if not a.public} == {"owner_name", "owner_phone"}
    assert farms.attr("area_ha").server and farms.attr("area_ha") not in farms.writable_attributes
    trees = get_layer("durian_trees")
    assert trees.attr("farm_id").ref_layer == "farms" and trees.attr("farm_id").within_ref
    assert trees.attr("variety").values == ("ri6", "monthong", "musang_king", "chuong_bo", "sau_huu", "khac")
    assert trees.attr("health").choice_label("sau_benh") == "Sâu bệnh"
    assert trees.attr("health").choice_label("sau_benh", "en") == "Pests/disease"


def test_models_accept_labels_and_refuse_bad_values():
    model = properties_model(get_layer("durian_trees"))
    base = {"code": "T1", "name": "Cây", "province": "Đắk Lắk", "commune": "xã Ea Kly"}
    ok = model.model_validate({**base, "variety": "CHUỒNG BÒ", "health": unicodedata.normalize("NFD", "Sâu bệnh")})
    assert (ok.variety, ok.health) == ("chuong_bo", "sau_benh")
    for bad in ({"variety": "durio"}, {"variety": "ri6", "height_m": -1}, {"variety": "ri6", "height_m": float("nan")},
                {"variety": "ri6", "version": 3}, {"variety": "ri6", "planting_year": "old"}):
        with pytest.raises(ValidationError):
            model.model_validate({**base, **bad})


def test_unknown_layer():
    with pytest.raises(UnknownLayer, match="known layers: farms"):
        get_layer("bridges")


def _lab(hex_colour: str) -> tuple[float, float, float]:
    """sRGB ``#rrggbb`` → CIE L*a*b* (D65)."""
    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(int(hex_colour[i:i + 2], 16) / 255) for i in (1, 3, 5))
    x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883
    f = [t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116 for t in (x, y, z)]
    return 116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])


def test_the_colours_of_points_on_the_map_can_be_told_apart():
    """Every colour an asset's point can take on the public map (each point layer's own, the values
    of the attribute it is coloured by, the grey of "not recorded") differs from every other by a
    colour difference of at least 20 (CIE76 ΔE). A dead tree was drawn in nearly the red of a
    border marker (ΔE 4.7), so the legend could not tell them apart."""
    import itertools
    import math

    from geomap.web.public_map import FALLBACK_COLOR

    colours = {"not recorded": FALLBACK_COLOR}
    for layer in LAYERS:
        if layer.geometry != "Point":
            continue
        colours[layer.name] = layer.style.color
        if layer.style.color_by:
            colours.update({f"{layer.name}: {c.value}": c.color for c in layer.attr(layer.style.color_by).choices})
    close = [(a, b, round(math.dist(_lab(ca), _lab(cb)), 1))
             for (a, ca), (b, cb) in itertools.combinations(colours.items(), 2) if math.dist(_lab(ca), _lab(cb)) < 20]
    assert len(colours) >= 8 and close == []
