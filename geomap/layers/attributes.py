"""The parts a layer is declared with: attributes (:class:`Attr`), enum values (:class:`Choice`)
map style (:class:`Style`) and what citizens may report about an asset (:class:`ReportCategory`). :mod:`geomap.layers.base` puts them together into a :class:`Layer`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

AttrKind = Literal["text", "int", "float", "date", "enum", "ref"]
GeometryType = Literal["Point", "MultiPolygon"]


@dataclass(frozen=True)
class Choice:
    """One allowed value of an enum attribute: the stored value, its labels, and optionally the
    colour maps draw it in (pages fall back to a neutral grey for a value without one)."""

    value: str
    vi: str
    en: str
    color: str | None = None

    def label(self, lang: str = "vi") -> str:
        """The value's label in ``lang``."""
        return self.en if lang == "en" else self.vi


@dataclass(frozen=True)
class Attr:
    """One attribute (column) of a layer.

    ``public`` attributes appear in public responses, pages, tiles and exports; the others only
    for roles allowed to see them. ``server`` attributes are computed by the database and can
    never be written by a client. A ``ref`` attribute holds the id of an asset of ``ref_layer``;
    with ``within_ref`` this asset's geometry must lie inside the referenced one, and a missing
    reference is filled in by containment.
    """

    name: str
    kind: AttrKind
    vi: str
    en: str
    required: bool = False
    public: bool = True
    choices: tuple[Choice, ...] = ()
    ge: float | None = None
    le: float | None = None
    gt: float | None = None
    max_length: int | None = 200
    filterable: bool = False
    ref_layer: str | None = None
    within_ref: bool = False
    server: bool = False
    farmer_writable: bool = False
    pattern: str | None = None

    @property
    def values(self) -> tuple[str, ...]:
        """Allowed stored values of an enum attribute."""
        return tuple(c.value for c in self.choices)

    def label(self, lang: str = "vi") -> str:
        """The attribute's label in ``lang`` (``vi`` or ``en``)."""
        return self.en if lang == "en" else self.vi

    def choice_label(self, value: str | None, lang: str = "vi") -> str | None:
        """Label of a stored enum value (the value itself when unknown)."""
        for c in self.choices:
            if c.value == value:
                return c.en if lang == "en" else c.vi
        return value


@dataclass(frozen=True)
class Style:
    """How a layer looks on the map."""

    color: str
    icon: str
    radius: int = 6
    color_by: str | None = None  # an enum attribute whose values' colours points are drawn in


@dataclass(frozen=True)
class ReportCategory:
    """A kind of problem citizens may report about a layer's assets (phản ánh hiện trường).

    ``duplicate_radius_m``: an open report of the same category within this distance is the same
    problem ("me too") when the report names no asset. ``sets_value``: when the owning team
    confirms the report, the asset's ``sets_field`` takes this value (e.g. a wifi point becomes
    ``hong``), and gets its old value back when the report is fixed or rejected.
    """

    code: str
    vi: str
    en: str
    duplicate_radius_m: float = 50.0
    sets_value: str | None = None
    sets_field: str = "status"

    def label(self, lang: str = "vi") -> str:
        """The category's label in ``lang``."""
        return self.en if lang == "en" else self.vi


#: "Something else": every layer offers it after its own categories.
OTHER_REPORT = ReportCategory("khac", "Khác", "Other")
