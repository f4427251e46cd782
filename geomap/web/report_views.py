"""What the citizen-report pages show, assembled from :mod:`geomap.reports` (routes only render these):
the form's categories, a report with its history in the page's language, an asset's public
reports, the team queue's rows, and the form's errors as plain messages."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import Connection

from geomap.errors import FieldProblem, InvalidInput, NotFound
from geomap.layers.base import Layer
from geomap.reports import create, photos, queries
from geomap.reports.categories import all_categories
from geomap.reports.handling import NEEDS_REASON, NEXT
from geomap.reports.queries import ReportFilters
from geomap.reports.submission import ReportInput
from geomap.web.i18n import local_time, translator

RECENT_FIXED_DAYS = 30
MAX_PHOTOS = photos.MAX_PHOTOS
SHOWN_STATES = ("open", "acknowledged", "in_progress", "fixed")


@dataclass
class FormValues:
    """What the reporter typed, kept when the form comes back with a message."""

    category: str = ""
    description: str = ""
    reporter_name: str = ""
    reporter_phone: str = ""
    reporter_email: str = ""
    client_id: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    message: str | None = None
    photos_dropped: bool = False  # photos were chosen: a browser cannot keep them when the form comes back


def form_categories(layer: Layer, lang: str) -> list[tuple[str, str]]:
    """The layer's report categories (then "Khác"), as (code, label in ``lang``)."""
    return [(c.code, c.en if lang == "en" else c.vi) for c in layer.all_report_categories]


def place_categories(lang: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """Every layer's report categories, for a report at a spot: (layer label, [(``<layer>.<code>``,
    label)]) in ``lang``."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for category in all_categories():
        label = category.category.en if lang == "en" else category.category.vi
        groups.setdefault(category.layer.label(lang), []).append((category.code, label))
    return list(groups.items())


def category_label(report: dict, lang: str) -> str:
    """A report's category in ``lang``."""
    return report["category_en"] if lang == "en" else report["category_vi"]


def history_lines(report: dict, lang: str) -> list[dict]:
    """A report's history as the follow page and the queue list it: time, what happened, public reason."""
    t = translator(lang)
    lines = []
    for entry in report["history"]:
        if entry["action"] == "transition" and entry["to_state"]:
            what = t(f"state_{entry['to_state']}")
        else:
            what = t(f"hist_{entry['action']}")
        lines.append({"at": local_time(entry["at"]), "what": what, "reason": entry.get("public_reason"),
                      "actor": entry.get("actor")})
    return lines


def report_page_view(report: dict, lang: str, token: str | None = None) -> dict:
    """A report with its labels, times and photo links in ``lang`` (``token`` opens unpublished photos)."""
    suffix = f"?token={token}" if token else ""
    return {**report, "category_label": category_label(report, lang), "state_label": translator(lang)(f"state_{report['state']}"),
            "created_local": local_time(report["created_at"]), "updated_local": local_time(report["updated_at"]),
            "lines": history_lines(report, lang),
            "photo_links": [(p["url"] + suffix, p["thumbnail_url"] + suffix) for p in report["photos"]]}


def asset_reports(conn: Connection, code: str, lang: str, now: dt.datetime | None = None) -> list[dict]:
    """The asset's public reports that are open, or fixed in the last :data:`RECENT_FIXED_DAYS` days."""
    now = now or dt.datetime.now(dt.timezone.utc)
    found = queries.list_reports(conn, ReportFilters(asset_code=code, states=SHOWN_STATES, limit=50))
    recent = [r for r in found if r["state"] != "fixed"
              or now - dt.datetime.fromisoformat(r["updated_at"]) <= dt.timedelta(days=RECENT_FIXED_DAYS)]
    return [report_page_view(r, lang) for r in recent]


def is_public(conn: Connection, report_id: str) -> bool:
    """Whether the report is published (shown on the map and the asset page)."""
    try:
        queries.get_report_public(conn, report_id)
    except NotFound:
        return False
    return True


def field_messages(exc: InvalidInput, lang: str) -> dict[str, str]:
    """The form's problems as one plain message per field, in ``lang`` (never the English detail)."""
    t = translator(lang)
    out: dict[str, str] = {}
    for problem in exc.problems:
        name = problem.field
        if name == "description" and "required" in problem.reason:
            out[name] = t("err_description_required")
        elif name in ("category", "description", "reporter_name", "reporter_phone", "reporter_email", "file"):
            out.setdefault(name, t(f"err_{name}"))
        elif name == "photos":
            out[name] = t("err_photos_count")
        elif name in ("location", "lon", "lat"):
            out["location"] = t("err_location")
        else:
            out.setdefault("form", t("err_other"))
    return out


def submit_report(conn: Connection, home, data: ReportInput, pictures: list[bytes], limits: create.Limits,
                  max_pixels: int) -> create.Created:
    """Create the report and store its photos in the caller's transaction (all or nothing). A "me
    too" on an existing report adds no photos: that report is someone else's."""
    if len(pictures) > MAX_PHOTOS:
        raise InvalidInput([photo_count_problem()])
    done = create.create_report(conn, data, limits)
    if done.outcome != "created":
        return done
    stored: list[str] = []
    try:
        for picture in pictures:
            stored.append(photos.add_report_photo(conn, home, done.report["id"], picture, token=done.follow_token,
                                                  max_pixels=max_pixels)["id"])
    except Exception:
        folder = photos.report_photo_dir(home)  # the transaction rolls back: leave no files behind either
        for photo_id in stored:
            for path in folder.glob(f"{photo_id}.*"):
                path.unlink(missing_ok=True)
        raise
    return done


def photo_count_problem() -> FieldProblem:
    """The problem of a form with too many photos."""
    return FieldProblem("photos", f"at most {MAX_PHOTOS} photos")


def queue_rows(reports: list[dict], lang: str) -> list[dict]:
    """The team queue: each report with its labels and the states it may move to next."""
    t = translator(lang)
    rows = []
    for report in reports:
        view = report_page_view(report, lang)
        view["next_states"] = [(s, t(f"state_{s}")) for s in ("acknowledged", "in_progress", "fixed", "closed", "rejected")
                               if s in NEXT.get(report["state"], set())]
        rows.append(view)
    return rows


def needs_reason(state: str) -> bool:
    """Whether moving to ``state`` needs a public reason."""
    return state in NEEDS_REASON
