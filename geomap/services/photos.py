"""Photos of assets: type checked by their bytes, re-encoded without EXIF (no GPS), thumbnailed.

Decoding is what costs memory (about 4 bytes per pixel, several copies while re-encoding), not
the upload's size: a 116 KiB PNG can declare 6000×6000 pixels. So the pixel count is read from
the header before anything is decoded and bounded (``GEOMAP_PHOTO_MAX_PIXELS``, 16 megapixels
by default: a phone's 12-megapixel photo fits), and at most :data:`DECODERS` photos are decoded
at once in a process.

Files live under ``$GEOMAP_HOME/photos/<photo id>.<ext>`` with names geomap makes, never
names a client sends, so no path can escape that folder.
"""

from __future__ import annotations

import io
import threading
import uuid
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import Connection, text

from geomap.auth import Principal
from geomap.errors import Conflict, FieldProblem, Forbidden, InvalidInput, NotFound
from geomap.layers.base import Layer
from geomap.layers.registry import get_layer
from geomap.services import permissions
from geomap.services.features import fetch_row

MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 16_000_000
DECODERS = 2
THUMB = 320
_decoding = threading.BoundedSemaphore(DECODERS)
FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png")}


def photo_dir(home: Path) -> Path:
    """Folder that holds the photo files."""
    path = Path(home) / "photos"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _decode(data: bytes, max_pixels: int = MAX_PIXELS) -> tuple[Image.Image, str]:
    if len(data) > MAX_BYTES:
        raise InvalidInput([FieldProblem("file", f"larger than {MAX_BYTES // (1024 * 1024)} MB")])
    if not data:
        raise InvalidInput([FieldProblem("file", "is empty")])
    try:
        with Image.open(io.BytesIO(data)) as probe:
            fmt = probe.format
            if fmt not in FORMATS:
                raise InvalidInput([FieldProblem("file", f"is {fmt or 'not an image'}; send a JPEG or PNG photo")])
            if probe.width * probe.height > max_pixels:  # from the header: nothing decoded yet
                raise InvalidInput([FieldProblem("file", _too_many_pixels(probe.width, probe.height, max_pixels))])
            probe.verify()
        image = Image.open(io.BytesIO(data))
        image.load()
    except InvalidInput:
        raise
    except Image.DecompressionBombError:
        raise InvalidInput([FieldProblem("file", "has too many pixels (a decompression bomb?); too large to accept")]) from None
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, ValueError) as exc:
        raise InvalidInput([FieldProblem("file", f"is not a readable JPEG or PNG image ({type(exc).__name__})")]) from None
    return image, fmt


def _too_many_pixels(width: int, height: int, max_pixels: int) -> str:
    return (f"{width}×{height} pixels ({width * height / 1e6:.1f} megapixels) is too large: at most "
            f"{max_pixels / 1e6:g} megapixels are accepted; resize the photo first")


def _check_can_write(conn: Connection, layer: Layer, principal: Principal, row) -> None:
    permissions.require_signed_in(principal)
    if principal.role == "farmer" and not permissions.owns(principal, layer, row):
        raise Forbidden("farmers may add photos to their own farms' assets only")
    if principal.role == "volunteer":
        permissions.require_in_team_area(conn, principal, layer, [permissions.area_item(row)])


def add_photo(conn: Connection, home: Path, layer: Layer, asset_id: str, principal: Principal, data: bytes,
              *, max_pixels: int = MAX_PIXELS) -> dict:
    """Store a photo of an asset; return its description."""
    return put_photo(conn, home, layer, asset_id, principal, data, photo_id=str(uuid.uuid4()), max_pixels=max_pixels)[0]


def put_photo(conn: Connection, home: Path, layer: Layer, asset_id: str, principal: Principal, data: bytes,
              *, photo_id: str, max_pixels: int = MAX_PIXELS) -> tuple[dict, bool]:
    """Store a photo under a client-chosen id, once: a retry of the same id for the same asset
    returns the stored photo (and False); the id on another asset is a :class:`Conflict`."""
    row = fetch_row(conn, layer, asset_id, principal)
    _check_can_write(conn, layer, principal, row)
    try:
        photo_id = str(uuid.UUID(photo_id))
    except ValueError:
        raise InvalidInput([FieldProblem("photo_id", "is not a UUID")]) from None
    conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:id))"), {"id": photo_id})  # in-flight retries wait
    existing = conn.execute(
        text("SELECT layer, asset_id::text, content_type, width, height FROM photos WHERE id = :id"), {"id": photo_id}
    ).first()
    if existing is not None:
        if (existing.layer, existing.asset_id) != (layer.name, str(row["id"])):
            raise Conflict("this photo id is already used by another asset's photo; use a new one")
        return describe(photo_id, layer.name, existing.content_type, existing.width, existing.height), False
    folder = photo_dir(home)
    with _decoding:
        fmt, clean = _store(data, max_pixels, folder, photo_id)
    content_type, ext = FORMATS[fmt]
    size = (folder / f"{photo_id}.{ext}").stat().st_size
    conn.execute(
        text("INSERT INTO photos (id, layer, asset_id, content_type, bytes, width, height, created_by) "
             "VALUES (:id, :l, :a, :t, :b, :w, :h, :by)"),
        {"id": photo_id, "l": layer.name, "a": asset_id, "t": content_type, "b": size, "w": clean.width,
         "h": clean.height, "by": principal.actor},
    )
    return describe(photo_id, layer.name, content_type, clean.width, clean.height), True


def _store(data: bytes, max_pixels: int, folder: Path, photo_id: str) -> tuple[str, Image.Image]:
    """Decode, drop EXIF, write the photo and its thumbnail; return the format and the clean image."""
    image, fmt = _decode(data, max_pixels)
    image = ImageOps.exif_transpose(image)  # keep the orientation, then drop all EXIF (GPS included)
    clean = image.convert("RGB") if fmt == "JPEG" else image
    clean.save(folder / f"{photo_id}.{FORMATS[fmt][1]}", format=fmt, **({"quality": 88} if fmt == "JPEG" else {}))
    thumb = clean.copy()
    thumb.thumbnail((THUMB, THUMB))
    thumb.convert("RGB").save(folder / f"{photo_id}.thumb.jpg", format="JPEG", quality=80)
    return fmt, clean


def store_clean(data: bytes, folder: Path, photo_id: str, max_pixels: int = MAX_PIXELS) -> tuple[str, Image.Image]:
    """Check a photo with the bounds of asset photos (type by its bytes, size, megapixels), drop
    its EXIF (GPS included) and write it and its thumbnail under ``folder`` as ``<photo_id>.*``;
    return its format and the clean image. Used by citizen reports."""
    with _decoding:
        return _store(data, max_pixels, folder, photo_id)


def describe(photo_id: str, layer: str, content_type: str, width: int, height: int) -> dict:
    """A photo as the API lists it."""
    ext = "png" if content_type == "image/png" else "jpg"
    return {"id": photo_id, "layer": layer, "content_type": content_type, "width": width, "height": height,
            "url": f"/api/v1/photos/{photo_id}.{ext}", "thumbnail_url": f"/api/v1/photos/{photo_id}.thumb.jpg"}


def list_photos(conn: Connection, layer: Layer, asset_id: str, principal: Principal) -> list[dict]:
    """Photos of an asset the principal may see."""
    fetch_row(conn, layer, asset_id, principal)
    rows = conn.execute(
        text("SELECT id::text, content_type, width, height FROM photos WHERE layer = :l AND asset_id = :a "
             "AND deleted_at IS NULL ORDER BY created_at"),
        {"l": layer.name, "a": asset_id},
    ).all()
    return [describe(r.id, layer.name, r.content_type, r.width, r.height) for r in rows]


def photo_file(conn: Connection, home: Path, name: str, principal: Principal) -> tuple[Path, str]:
    """The file behind ``/api/v1/photos/<name>`` (``<uuid>.jpg|png`` or ``<uuid>.thumb.jpg``)."""
    stem, _, ext = name.partition(".")
    try:
        photo_id = str(uuid.UUID(stem))
    except ValueError:
        raise NotFound("no such photo") from None
    row = conn.execute(
        text("SELECT layer, asset_id::text, content_type FROM photos WHERE id = :id AND deleted_at IS NULL"), {"id": photo_id}
    ).first()
    if row is None:
        raise NotFound("no such photo")

    fetch_row(conn, get_layer(row.layer), row.asset_id, principal)  # the asset must be visible
    return stored_file(photo_dir(home), photo_id, row.content_type, ext)


def stored_file(folder: Path, photo_id: str, content_type: str, ext: str) -> tuple[Path, str]:
    """The file (and its media type) of a stored photo asked for with extension ``ext``: its own
    (``jpg``/``png``) or ``thumb.jpg``; any other is NotFound."""
    own_ext = "png" if content_type == "image/png" else "jpg"
    if ext == "thumb.jpg":
        return folder / f"{photo_id}.thumb.jpg", "image/jpeg"
    if ext == own_ext:
        return folder / f"{photo_id}.{own_ext}", content_type
    raise NotFound("no such photo")
