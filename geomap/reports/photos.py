"""Photos of a report: at most :data:`MAX_PHOTOS`, checked and cleaned exactly like asset photos
(type by bytes, ≤ 10 MB, megapixel cap, EXIF and GPS removed), stored under
``$GEOMAP_HOME/report-photos/``. The reporter adds them with the follow token; the owning team
and administrators may add them too."""

from __future__ import annotations

import uuid
from pathlib import Path

from sqlalchemy import Connection, text

from geomap.auth import PUBLIC, Principal
from geomap.errors import FieldProblem, Forbidden, InvalidInput, NotFound
from geomap.reports.handling import may_handle
from geomap.reports.submission import is_uuid
from geomap.reports.views import photos_of
from geomap.services.photos import FORMATS, MAX_PIXELS, store_clean, stored_file

MAX_PHOTOS = 3


def report_photo_dir(home: Path) -> Path:
    """Folder of report photos."""
    path = Path(home) / "report-photos"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _report_for_write(conn: Connection, report_id: str, token: str | None, principal: Principal):
    row = conn.execute(text("SELECT id::text AS id, follow_token, team_codes FROM reports WHERE id = CAST(:id AS uuid) "
                            "FOR UPDATE"), {"id": report_id}).first() if is_uuid(report_id) else None
    if row is None:
        raise NotFound(f"no report has id {report_id}")
    if not (token and token == row.follow_token) and not may_handle(principal, row.team_codes):
        raise Forbidden("add photos with the report's follow link (token), or as its team")
    return row


def add_report_photo(conn: Connection, home: Path, report_id: str, data: bytes, *, token: str | None = None,
                     principal: Principal = PUBLIC, max_pixels: int = MAX_PIXELS) -> dict:
    """Add a photo to a report (the reporter's follow ``token``, or a team member/admin
    ``principal``); return the photo as listed. InvalidInput names ``file`` (type, size, pixels,
    a fourth photo); nothing is stored on error."""
    row = _report_for_write(conn, report_id, token, principal)
    count = conn.execute(text("SELECT count(*) FROM report_photos WHERE report_id = :r"), {"r": row.id}).scalar_one()
    if count >= MAX_PHOTOS:
        raise InvalidInput([FieldProblem("file", f"a report has at most {MAX_PHOTOS} photos")])
    photo_id = str(uuid.uuid4())
    folder = report_photo_dir(home)
    fmt, clean = store_clean(data, folder, photo_id, max_pixels)
    content_type, ext = FORMATS[fmt]
    conn.execute(text("INSERT INTO report_photos (id, report_id, content_type, bytes, width, height) "
                      "VALUES (:id, :r, :t, :b, :w, :h)"),
                 {"id": photo_id, "r": row.id, "t": content_type, "b": (folder / f"{photo_id}.{ext}").stat().st_size,
                  "w": clean.width, "h": clean.height})
    return next(p for p in photos_of(conn, row.id) if p["id"] == photo_id)


def report_photo_file(conn: Connection, home: Path, report_id: str, name: str, *, token: str | None = None,
                      principal: Principal = PUBLIC) -> tuple[Path, str]:
    """The file of ``/api/v1/reports/<id>/photos/<name>``: a published report's photo for anyone;
    an unpublished one's with the follow token or for its team."""
    stem, _, ext = name.partition(".")
    row = conn.execute(text(
        "SELECT p.id::text AS id, p.content_type, r.visible, r.follow_token, r.team_codes FROM report_photos p "
        "JOIN reports r ON r.id = p.report_id WHERE p.id = CAST(:p AS uuid) AND r.id = CAST(:r AS uuid)"),
        {"p": stem, "r": report_id}).first() if is_uuid(stem) and is_uuid(report_id) else None
    allowed = row is not None and (row.visible or (token and token == row.follow_token) or may_handle(principal, row.team_codes))
    if not allowed:
        raise NotFound("no such photo")
    return stored_file(report_photo_dir(home), row.id, row.content_type, ext)
