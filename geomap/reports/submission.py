"""What a reporter sends, checked before anything is written: :class:`ReportInput` and
:func:`check_input`, which names every field at fault (category, asset, location, text, contact)."""

from __future__ import annotations

import hashlib
import json
import math
import re
import unicodedata
from dataclasses import asdict, dataclass
from typing import Mapping

import numpy as np
from sqlalchemy import Connection, text

from geomap.codes import locate
from geomap.errors import FieldProblem, InvalidInput
from geomap.geometry import extent_problem, in_vietnam
from geomap.layers.registry import get_layer
from geomap.reports.categories import Category, find_category
from geomap.sql import PUBLIC_VISIBLE, literal, q

MAX_DESCRIPTION = 2000
MAX_NAME = 100
PHONE = re.compile(r"^\+?[0-9 .()-]{8,20}$")
EMAIL = re.compile(r"^[^@\s<>\"']{1,64}@[^@\s<>\"']{1,190}\.[^@\s<>\"'.]{2,}$")
CLIENT_ID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")
_CONTROL = {"Cc", "Cf", "Cs", "Co"}


@dataclass(frozen=True)
class ReportInput:
    """A citizen's report as submitted. ``category`` is ``<layer>.<code>``, or a bare code when
    the asset says which layer; the place is the asset (``asset_code`` or ``asset_id``) and/or
    ``lon``/``lat``. Name, phone and e-mail are personal data: stored, never shown publicly."""

    category: str | None
    description: str | None = None
    asset_code: str | None = None
    asset_id: str | None = None
    lon: float | None = None
    lat: float | None = None
    reporter_name: str | None = None
    reporter_phone: str | None = None
    reporter_email: str | None = None
    media_url: str | None = None  # Open311: a link to the reporter's photo elsewhere (http/https)
    client_id: str | None = None  # idempotency: a retry with the same id and content answers the same report
    device_id: str | None = None  # the reporting phone's own random id (rate limits, one "me too" per device)
    client_addr: str = "unknown"
    source: str = "api"

    def request_hash(self) -> str:
        """Digest of what the reporter asked for (not who or from where): retries compare it."""
        keep = {k: v for k, v in asdict(self).items() if k not in ("client_id", "device_id", "client_addr", "source")}
        return hashlib.sha256(json.dumps(keep, sort_keys=True, default=str).encode()).hexdigest()


@dataclass(frozen=True)
class Checked:
    """A valid report: its category, the asset (if any) and the point, as the database will store them."""

    data: ReportInput
    category: Category
    asset: Mapping | None  # id, code, team_code, ewkb (of the asset's geometry)
    lon: float
    lat: float


def clean_text(value: str | None, field: str, limit: int, problems: list[FieldProblem]) -> str | None:
    """Strip and NFC-normalise; refuse control characters (other than line breaks and tabs) and
    over-long text. Markup is kept as typed: every page escapes it, CSV neutralises it."""
    if value is None:
        return None
    if not isinstance(value, str):
        problems.append(FieldProblem(field, "must be text"))
        return None
    # A browser sends a form's line breaks as CRLF: one character each, as the page counted them.
    value = unicodedata.normalize("NFC", value.replace("\r\n", "\n").strip())
    if any(unicodedata.category(ch) in _CONTROL and ch not in "\n\t\r" for ch in value):
        problems.append(FieldProblem(field, "contains control characters"))
    if len(value) > limit:
        problems.append(FieldProblem(field, f"is {len(value)} characters long; at most {limit} are allowed"))
    return value or None


def _check_contact(data: ReportInput, problems: list[FieldProblem]) -> dict:
    name = clean_text(data.reporter_name, "reporter_name", MAX_NAME, problems)
    phone = clean_text(data.reporter_phone, "reporter_phone", 20, problems)
    email = clean_text(data.reporter_email, "reporter_email", 254, problems)
    if phone and not PHONE.match(phone):
        problems.append(FieldProblem("reporter_phone", "is not a phone number (digits, spaces, + . - only, 8–20 long)"))
    if email and not EMAIL.match(email):
        problems.append(FieldProblem("reporter_email", "is not an e-mail address"))
    return {"reporter_name": name, "reporter_phone": phone, "reporter_email": email}


def _find_asset(conn: Connection, data: ReportInput, problems: list[FieldProblem]) -> Mapping | None:
    if not data.asset_code and not data.asset_id:
        return None
    layer_name, asset_id, field = None, data.asset_id, "asset_id"
    if data.asset_code:
        field = "asset_code"
        located = locate(conn, str(data.asset_code))
        if located is None:
            problems.append(FieldProblem(field, f"no asset has code {str(data.asset_code)[:64]!r}"))
            return None
        layer_name, asset_id = located.layer, located.asset_id
    else:
        category = find_category(data.category)
        layer_name = category.layer.name if category else None
        if layer_name is None:
            problems.append(FieldProblem("asset_id", "name the category as <layer>.<category> to report by asset id"))
            return None
    layer = get_layer(layer_name)
    sql = (f"SELECT id::text AS id, code, team_code, ST_AsEWKB(geom) AS ewkb, ST_X(ST_PointOnSurface(geom)) AS lon, "
           f"ST_Y(ST_PointOnSurface(geom)) AS lat, {literal(layer.name)} AS layer FROM {q(layer.table)} "
           f"WHERE id = CAST(:id AS uuid) AND {PUBLIC_VISIBLE}")
    try:
        row = conn.execute(text(sql), {"id": str(asset_id)}).mappings().first() if is_uuid(asset_id) else None
    except ValueError:
        row = None
    if row is None:
        problems.append(FieldProblem(field, "no such asset"))
    return row


def is_uuid(value) -> bool:
    return bool(re.fullmatch(r"[0-9a-fA-F-]{32,36}", str(value or "")))


def _check_point(data: ReportInput, asset: Mapping | None, problems: list[FieldProblem]) -> tuple[float, float] | None:
    if data.lon is None and data.lat is None:
        if asset is None:
            problems.append(FieldProblem("location", "give the asset (asset_code) or where the problem is (lon, lat)"))
            return None
        return asset["lon"], asset["lat"]
    problem = check_point(data.lon, data.lat)
    if problem is not None:
        problems.append(problem)
        return None
    return float(data.lon), float(data.lat)  # type: ignore[arg-type]


def check_point(lon, lat) -> FieldProblem | None:
    """Why ``lon``/``lat`` (numbers, or text from a form) is not a place in Viet Nam; None if it is."""
    try:
        x, y = float(lon), float(lat)
    except (TypeError, ValueError):
        return FieldProblem("location", "lon and lat must both be numbers")
    if not (math.isfinite(x) and math.isfinite(y)):
        return FieldProblem("location", "lon and lat must be finite numbers")
    if not bool(in_vietnam(np.array([x]), np.array([y]))[0]):
        return extent_problem(x, y, field="location")
    return None


def check_input(conn: Connection, data: ReportInput) -> tuple[Checked, dict]:
    """Check a report; return it with its cleaned text fields, or raise :class:`InvalidInput`
    naming every field at fault. Reads only."""
    problems: list[FieldProblem] = []
    if data.client_id is not None and not CLIENT_ID.match(str(data.client_id)):
        problems.append(FieldProblem("client_id", "must be 8–128 letters, digits or . _ : -  (a UUID is best)"))
    if data.device_id is not None and not CLIENT_ID.match(str(data.device_id)):
        problems.append(FieldProblem("device_id", "must be 8–128 letters, digits or . _ : -"))
    asset = _find_asset(conn, data, problems)
    category = find_category(data.category, asset["layer"] if asset else None)
    if category is None:
        reason = "is required" if not data.category else f"{str(data.category)[:80]!r} is not a report category"
        if data.category and asset is not None:
            reason += f" of layer {asset['layer']}"
        problems.append(FieldProblem("category", reason + " (see /api/v1/reports/categories)"))
    fields = {"description": clean_text(data.description, "description", MAX_DESCRIPTION, problems)}
    fields.update(_check_contact(data, problems))
    fields["media_url"] = clean_text(data.media_url, "media_url", 500, problems)
    if fields["media_url"] and not re.match(r"^https?://[^\s<>\"']+$", fields["media_url"]):
        problems.append(FieldProblem("media_url", "must be an http:// or https:// URL"))
    if category is not None and category.category.code == "khac" and not fields["description"]:
        problems.append(FieldProblem("description", "is required for the category 'khác' (other): say what is wrong"))
    point = _check_point(data, asset, problems)
    if problems:
        raise InvalidInput(problems)
    assert category is not None and point is not None
    return Checked(data, category, asset, point[0], point[1]), fields
