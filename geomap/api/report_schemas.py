"""Response models of the report routes (OpenAPI), public and team shapes (geomap/reports/views.py)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

State = Literal["open", "acknowledged", "in_progress", "fixed", "closed", "rejected"]


class AssetRef(BaseModel):
    """The reported asset."""

    id: str
    code: str | None


class Location(BaseModel):
    """Where the problem is (WGS 84)."""

    lon: float
    lat: float


class ReportPhoto(BaseModel):
    """A report's photo (EXIF removed)."""

    id: str
    content_type: str
    width: int
    height: int
    url: str
    thumbnail_url: str


class ReportEvent(BaseModel):
    """One step of a report's history (``actor`` only in the team view)."""

    action: Literal["create", "me_too", "transition", "publish", "hide"]
    from_state: State | None
    to_state: State | None
    public_reason: str | None
    at: str
    actor: str | None = None


class ReportPublic(BaseModel):
    """A report as anyone reads it: never the reporter's contact."""

    id: str
    category: str
    category_vi: str
    category_en: str
    layer: str
    asset: AssetRef | None
    description: str | None
    media_url: str | None
    state: State
    state_vi: str
    state_en: str
    public_reason: str | None
    interest_count: int
    location: Location
    created_at: str
    updated_at: str
    photos: list[ReportPhoto]
    history: list[ReportEvent]


class Reporter(BaseModel):
    """The reporter's contact (personal data: the owning team and administrators only)."""

    name: str | None
    phone: str | None
    email: str | None


class Confirmation(BaseModel):
    """What a later reporter of the same problem ("me too") wrote, and their contact (team only)."""

    at: str
    description: str | None
    reporter: Reporter


class ReportTeam(ReportPublic):
    """A report as its owning team and administrators read it."""

    visible: bool
    team_codes: list[str]
    source: str
    reporter: Reporter
    confirmations: list[Confirmation] = []


class ReportCreated(BaseModel):
    """The answer to a report: what happened, the follow link, the report."""

    outcome: Literal["created", "replayed", "me_too"]
    follow_token: str
    follow_url: str
    report: ReportPublic


class Similar(BaseModel):
    """The open report a new one would join."""

    id: str
    state: State
    state_vi: str
    state_en: str
    interest_count: int
    created_at: str
    public: bool


class SimilarOut(BaseModel):
    """``similar`` is null when the report would be a new one."""

    similar: Similar | None
