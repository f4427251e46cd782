"""The coordinate reference systems geomap speaks, as data, and how to move coordinates between them.

Storage is WGS 84 (EPSG:4326). Government and cadastral data in Vietnam come in VN-2000: geographic
(EPSG:4756), UTM 48N/49N (EPSG:3405/3406) and the provincial 3° transverse-Mercator zones (scale
0.9999, a province's own central meridian). PROJ's database holds every one of those zones as an
EPSG code (5896-5899, 9205-9218), so none needs a custom definition.

VN-2000 ↔ WGS 84 always uses the Ministry's 7-parameter transformation (Quyết định 05/2007/QĐ-BTNMT,
EPSG "VN-2000 to WGS 84 (2)", TOWGS84 -191.90441429, -39.30318279, -111.45032835, 0.00928836,
-0.01975479, 0.00427372, 0.252906278 in position-vector form), never PROJ's Mekong-delta-only
alternative: :func:`transformer` fixes the area of interest to the whole of Vietnam.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np
import pyproj
import shapely
from pyproj.aoi import AreaOfInterest

from geomap.errors import FieldProblem, InvalidInput

OGC_EPSG = "http://www.opengis.net/def/crs/EPSG/0/"
CRS84_URI = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
VIETNAM = AreaOfInterest(102.14, 8.33, 109.53, 23.4)
MINISTRY_OPERATION = "VN-2000 to WGS 84 (2)"
MINISTRY_TOWGS84 = (-191.90441429, -39.30318279, -111.45032835, 0.00928836, -0.01975479, 0.00427372, 0.252906278)


@dataclass(frozen=True)
class CrsEntry:
    """One supported CRS: its OGC URI, EPSG code (4326 for CRS84), name, and axis order."""

    uri: str
    epsg: int
    name: str
    lat_first: bool = False  # EPSG:4326/4756 in URI form are latitude, longitude

    @property
    def short(self) -> str:
        """``EPSG:nnnn`` or ``CRS84``."""
        return "CRS84" if self.uri == CRS84_URI else f"EPSG:{self.epsg}"

    @property
    def geographic(self) -> bool:
        """True when coordinates are degrees."""
        return self.epsg in (4326, 4756)


# Central meridian (degrees) → provinces that use it, for the names people look for in QGIS.
PROVINCE_HINTS = {105.0: "Hà Nội, Ninh Bình", 105.75: "TP. Hồ Chí Minh", 107.75: "Quảng Nam, Đà Nẵng", 108.5: "Đắk Lắk"}
TM3_CODES = (5896, 5897, 5898, 5899, *range(9205, 9219))


def _dms(degrees: float) -> str:
    whole, minutes = int(degrees), round((degrees - int(degrees)) * 60)
    return f"{whole}°{minutes:02d}′"


def _tm3_entry(code: int) -> CrsEntry:
    params = pyproj.CRS.from_epsg(code).coordinate_operation.params
    meridian = next(p.value for p in params if p.name == "Longitude of natural origin")
    hint = PROVINCE_HINTS.get(meridian)
    name = f"VN-2000 / TM-3 {_dms(meridian)}" + (f" ({hint})" if hint else "")
    return CrsEntry(OGC_EPSG + str(code), code, name)


def _registry() -> tuple[CrsEntry, ...]:
    fixed = (
        CrsEntry(CRS84_URI, 4326, "WGS 84 (lon, lat)"),
        CrsEntry(OGC_EPSG + "4326", 4326, "WGS 84 (lat, lon)", lat_first=True),
        CrsEntry(OGC_EPSG + "3857", 3857, "WGS 84 / Pseudo-Mercator"),
        CrsEntry(OGC_EPSG + "4756", 4756, "VN-2000 (lat, lon)", lat_first=True),
        CrsEntry(OGC_EPSG + "3405", 3405, "VN-2000 / UTM zone 48N"),
        CrsEntry(OGC_EPSG + "3406", 3406, "VN-2000 / UTM zone 49N"),
    )
    tm3 = sorted((_tm3_entry(code) for code in TM3_CODES), key=lambda e: e.name)
    return fixed + tuple(tm3)


SUPPORTED: tuple[CrsEntry, ...] = _registry()
STORAGE = SUPPORTED[0]
_BY_URI = {e.uri: e for e in SUPPORTED}


def supported_uris() -> list[str]:
    """Every supported CRS as an OGC URI, CRS84 first."""
    return [e.uri for e in SUPPORTED]


def resolve(value: str | None, field: str = "crs") -> CrsEntry:
    """The entry for a URI, ``EPSG:nnnn``, a bare code or ``CRS84``; :class:`InvalidInput` otherwise.

    Short forms (``EPSG:4326``, ``4326``) mean traditional GIS order (x = longitude/easting), as
    files and the /api/v1 routes use; only the URI form of EPSG:4326/4756 is latitude first.
    """
    if value is None or value.strip() == "":
        return STORAGE
    text = value.strip().strip("<>")
    if text in _BY_URI:
        return _BY_URI[text]
    upper = text.upper()
    if upper in ("CRS84", "OGC:CRS84", "WGS84"):
        return STORAGE
    code = upper.removeprefix("EPSG:")
    if code.isdigit():
        if int(code) == 4326:
            return STORAGE
        entry = next((e for e in SUPPORTED if e.epsg == int(code)), None)
        if entry is not None:
            return replace(entry, lat_first=False)
    names = ", ".join(e.short for e in SUPPORTED)
    raise InvalidInput([FieldProblem(field, f"unsupported CRS '{value[:80]}'; supported: {names} (or their {OGC_EPSG}… URIs)")])


def entry_for(crs: pyproj.CRS | None) -> CrsEntry | None:
    """The registry entry for a CRS read from a file (its EPSG code), or None."""
    if crs is None:
        return None
    code = crs.to_epsg(min_confidence=70)
    return resolve(str(code)) if code is not None and any(e.epsg == code for e in SUPPORTED) else None


@lru_cache(maxsize=64)
def transformer(source: int | str, target: int | str) -> pyproj.Transformer:
    """An x/y-ordered transformer; VN-2000 ↔ WGS 84 goes through the Ministry's parameters."""
    group = pyproj.transformer.TransformerGroup(
        pyproj.CRS.from_user_input(source), pyproj.CRS.from_user_input(target), always_xy=True, area_of_interest=VIETNAM
    )
    if not group.transformers:
        raise ValueError(f"no transformation from {source} to {target}")
    ministry = [t for t in group.transformers if MINISTRY_OPERATION in t.description]
    return (ministry or group.transformers)[0]


def reproject(geoms: np.ndarray, source: int | str, target: int | str) -> np.ndarray:
    """Shapely geometries from ``source`` to ``target`` (x = longitude/easting on both sides)."""
    if pyproj.CRS.from_user_input(source) == pyproj.CRS.from_user_input(target):
        return geoms
    t = transformer(source, target)

    def move(coords: np.ndarray) -> np.ndarray:
        x, y = t.transform(coords[:, 0], coords[:, 1], errcheck=True)
        return np.column_stack([x, y])

    return shapely.transform(geoms, move)


def swap_axes(geoms: np.ndarray) -> np.ndarray:
    """Geometries with x and y exchanged (for lat-first CRS URIs)."""
    return shapely.transform(geoms, lambda c: c[:, ::-1].copy())


def looks_like_degrees(geoms: np.ndarray) -> bool:
    """True when every finite coordinate fits longitude/latitude ranges (validation refuses the others)."""
    coords = shapely.get_coordinates(geoms)
    coords = coords[np.isfinite(coords).all(axis=1)]
    if len(coords) == 0:
        return True
    return bool(np.all(np.abs(coords[:, 0]) <= 180) and np.all(np.abs(coords[:, 1]) <= 90))


def content_crs(entry: CrsEntry) -> str:
    """The ``Content-Crs`` header value: the URI in angle brackets."""
    return f"<{entry.uri}>"
