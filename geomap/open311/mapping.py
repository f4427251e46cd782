"""Between geomap and Open311: categories ↔ services, reports ↔ service requests.

Open311 knows two statuses. ``open`` is open, acknowledged or in progress; ``closed`` is fixed,
closed or rejected. The detailed state, its labels and the public reason travel in
``status_notes`` and ``extended_attributes`` (``geomap_state``…). A request never carries the
reporter's name, phone or e-mail.
"""

from __future__ import annotations

from geomap.reports.categories import Category, all_categories, find_category
from geomap.reports.views import ACTIVE_STATES, FINAL_STATES

STATUS = {**{s: "open" for s in ACTIVE_STATES}, **{s: "closed" for s in FINAL_STATES}}
STATES_OF = {"open": ACTIVE_STATES, "closed": FINAL_STATES}
AGENCY = "Tổ công nghệ số cộng đồng"


def service(category: Category) -> dict:
    """A category as an Open311 service."""
    layer, cat = category.layer, category.category
    return {
        "service_code": category.code,
        "service_name": f"{layer.vi}: {cat.vi}",
        "description": f"{cat.vi} ({cat.en}) — {layer.vi} / {layer.en}",
        "metadata": True,
        "type": "realtime",
        "keywords": [layer.name, cat.code, cat.en],
        "group": layer.vi,
    }


def services() -> list[dict]:
    """Every category of every layer as a service."""
    return [service(c) for c in all_categories()]


def definition(category: Category) -> dict:
    """The service definition: the optional asset code attribute (the QR code on the asset)."""
    return {
        "service_code": category.code,
        "attributes": [{
            "variable": True, "code": "asset_code", "datatype": "string", "required": False, "order": 1,
            "datatype_description": "Mã tài sản trên nhãn QR (asset code on the QR label), e.g. NB-WIFI-001",
            "description": f"Mã {category.layer.vi.lower()} (asset code)",
        }],
    }


def find_service(code: str) -> Category | None:
    """The category a ``service_code`` names."""
    return find_category(code) if "." in (code or "") else None


def _notes(report: dict) -> str:
    notes = f"{report['state_vi']} ({report['state_en']})"
    return f"{notes}: {report['public_reason']}" if report.get("public_reason") else notes


def request(report: dict, base_url: str) -> dict:
    """A public report as an Open311 service request."""
    found = find_category(report["category"])
    media = report.get("media_url")
    if report["photos"]:
        media = base_url.rstrip("/") + report["photos"][0]["url"]
    return {
        "service_request_id": report["id"],
        "status": STATUS[report["state"]],
        "status_notes": _notes(report),
        "service_name": service(found)["service_name"] if found else report["category"],
        "service_code": report["category"],
        "description": report["description"],
        "agency_responsible": AGENCY,
        "service_notice": None,
        "requested_datetime": report["created_at"],
        "updated_datetime": report["updated_at"],
        "expected_datetime": None,
        "address": report["asset"]["code"] if report["asset"] else None,
        "address_id": report["asset"]["code"] if report["asset"] else None,
        "zipcode": None,
        "lat": report["location"]["lat"],
        "long": report["location"]["lon"],
        "media_url": media,
        "extended_attributes": {"geomap_state": report["state"], "geomap_state_vi": report["state_vi"],
                                "public_reason": report["public_reason"], "interest_count": report["interest_count"],
                                "asset_code": report["asset"]["code"] if report["asset"] else None},
    }
