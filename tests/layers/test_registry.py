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
