"""Request and response models of the HTTP API (what OpenAPI documents)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_serializer

from geomap.schemas import no_nul

from geomap.services.creates import MAX_BATCH

SafeStr = Annotated[str, AfterValidator(no_nul)]


class FeatureIn(BaseModel):
    """A GeoJSON Feature to create. ``id`` may be chosen by the client (offline capture)."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["Feature"]
    id: uuid.UUID | None = None
    geometry: dict[str, Any] | None
    properties: dict[str, Any]
    bbox: list[float] | None = None


class FeatureCollectionIn(BaseModel):
    """Up to 5,000 features created all or nothing."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["FeatureCollection"]
    features: list[dict[str, Any]] = Field(min_length=1, max_length=MAX_BATCH)


class FeaturePatch(BaseModel):
    """A JSON Merge Patch of an asset: changed properties (null clears) and/or a new geometry."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["Feature"] | None = None
    id: uuid.UUID | None = None
    properties: dict[str, Any] | None = None
    geometry: dict[str, Any] | None = None


class ReviewIn(BaseModel):
    """A review decision."""

    model_config = ConfigDict(extra="forbid")
    state: Literal["received", "has_issues", "approved", "rejected"]
    comment: SafeStr | None = Field(default=None, max_length=2000)


class Feature(BaseModel):
    """A GeoJSON Feature as geomap returns it."""

    type: Literal["Feature"] = "Feature"
    id: str
    geometry: dict[str, Any]
    properties: dict[str, Any]
    searchRank: int | None = Field(None, description="With sort=relevance: 0 the code typed whole, 1 the name typed "
                                                     "whole, 2 the words standing as words, 3 the rest")

    @model_serializer(mode="wrap")
    def _without_empty_rank(self, handler) -> dict[str, Any]:
        """``searchRank`` only in a ranked search's answer."""
        data = handler(self)
        if data.get("searchRank") is None:
            data.pop("searchRank", None)
        return data


class FeatureCollection(BaseModel):
    """A page of features; ``links`` has ``next`` while more remain."""

    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[Feature]
    numberReturned: int
    links: list[dict[str, str]]


class HistoryEntry(BaseModel):
    """One change of an asset."""

    version: int
    action: str
    actor: str
    at: str
    changes: dict[str, dict[str, Any]]


class LoginIn(BaseModel):
    """Password sign-in."""

    model_config = ConfigDict(extra="forbid")
    username: SafeStr = Field(min_length=1, max_length=100)
    password: SafeStr = Field(min_length=1, max_length=200)
