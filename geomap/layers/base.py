"""What a layer is: its table, geometry, typed attributes with vi/en labels, and map style.

A layer module declares one :class:`Layer`; :mod:`geomap.layers.registry` lists them. The
database tables, validation models, API, map, tiles and import/export all read these objects,
so nothing else needs to know which layers exist.
"""

from __future__ import annotations

from dataclasses import dataclass

from geomap.layers.attributes import OTHER_REPORT, Attr, AttrKind, Choice, GeometryType, ReportCategory, Style
from geomap.layers.common import COMMON_ATTRIBUTES

__all__ = ["Attr", "AttrKind", "Choice", "GeometryType", "Layer", "ReportCategory", "Style"]

@dataclass(frozen=True)
class Layer:
    """One asset layer: a PostGIS table with the common columns plus ``attributes``."""

    name: str
    geometry: GeometryType
    vi: str
    en: str
    description_vi: str
    description_en: str
    attributes: tuple[Attr, ...]
    style: Style
    min_spacing_m: float = 1.0
    #: Worst GPS accuracy (m) accepted for this layer's assets; None = the global
    #: GEOMAP_GPS_ACCURACY_MAX_M. The stricter of the two applies (see geomap/services/feature_input.py).
    gps_accuracy_max_m: float | None = None
    taggable_by_default: bool = True
    #: Assets a farmer account owns (farms): the farmer reads their private attributes, and so those
    #: of assets that reference them (the farm's trees) — see geomap/services/permissions.py.
    farmer_owned: bool = False
    #: What citizens may report about this layer's assets; "khac" (other) is added to every layer.
    report_categories: tuple[ReportCategory, ...] = ()

    @property
    def table(self) -> str:
        """Name of the PostGIS table."""
        return self.name

    def attr(self, name: str) -> Attr:
        """The attribute called ``name`` (KeyError when unknown)."""
        found = self.find(name)
        if found is None:
            raise KeyError(name)
        return found

    def find(self, name: str) -> Attr | None:
        """The attribute called ``name``, or None."""
        return next((a for a in self.all_attributes if a.name == name), None)

    @property
    def all_attributes(self) -> tuple[Attr, ...]:
        """Common attributes followed by this layer's own."""
        return COMMON_ATTRIBUTES + self.attributes

    @property
    def public_attributes(self) -> tuple[Attr, ...]:
        """Attributes anyone may read."""
        return tuple(a for a in self.all_attributes if a.public)

    @property
    def writable_attributes(self) -> tuple[Attr, ...]:
        """Attributes a client may send (server-owned ones excluded)."""
        return tuple(a for a in self.all_attributes if not a.server)

    @property
    def ref_attributes(self) -> tuple[Attr, ...]:
        """Attributes that reference another layer."""
        return tuple(a for a in self.attributes if a.kind == "ref")

    @property
    def all_report_categories(self) -> tuple[ReportCategory, ...]:
        """This layer's report categories followed by the common "khac"."""
        own = tuple(c for c in self.report_categories if c.code != OTHER_REPORT.code)
        return own + (OTHER_REPORT,)

    def report_category(self, code: str) -> ReportCategory | None:
        """The report category called ``code`` (e.g. ``mat_ket_noi``), or None."""
        return next((c for c in self.all_report_categories if c.code == code), None)

    def label(self, lang: str = "vi") -> str:
        """The layer's title in ``lang``."""
        return self.en if lang == "en" else self.vi
