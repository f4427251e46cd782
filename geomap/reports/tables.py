"""The tables of citizen reports: reports, their history and photos, teams' report settings
(auto-publish, webhook) and the webhook delivery log. :func:`geomap.tables.build_metadata` adds
them, so Alembic compares them like every other table (migration 0006)."""

from __future__ import annotations

from geoalchemy2 import Geometry
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

#: Every state of a report, in the order it is normally handled.
STATES = ("open", "acknowledged", "in_progress", "fixed", "closed", "rejected")


def _states_check() -> CheckConstraint:
    return CheckConstraint("state IN (" + ", ".join(f"'{s}'" for s in STATES) + ")", name="state_enum")


def report_tables(metadata: MetaData) -> None:
    """Add the report tables to ``metadata``."""
    Table(
        "reports",
        metadata,
        Column("id", UUID(as_uuid=False), primary_key=True, server_default=text("gen_random_uuid()")),
        Column("client_id", Text),  # the reporter's idempotency key (Idempotency-Key or client_id)
        Column("request_hash", Text, nullable=False),
        Column("layer", Text, nullable=False),
        Column("category", Text, nullable=False),
        Column("asset_id", UUID(as_uuid=False)),
        Column("asset_code", Text),
        Column("description", Text),
        Column("media_url", Text),  # an Open311 client's link to its own photo (shown once published)
        Column("state", Text, nullable=False, server_default="open"),
        Column("public_reason", Text),
        Column("visible", Boolean, nullable=False, server_default=text("false")),
        Column("interest_count", Integer, nullable=False, server_default="1"),
        Column("team_codes", ARRAY(Text), nullable=False, server_default="{}"),
        Column("follow_token", Text, nullable=False),
        # Personal data: never on a public surface (pages, API, OGC, tiles, downloads, Open311).
        Column("reporter_name", Text),
        Column("reporter_phone", Text),
        Column("reporter_email", Text),
        Column("source", Text, nullable=False, server_default="api"),
        Column("asset_value_before", Text),  # the asset's value before a confirmed report changed it
        Column("asset_value_set", Boolean, nullable=False, server_default=text("false")),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("geom", Geometry("POINT", srid=4326, spatial_index=False, nullable=False), nullable=False),
        UniqueConstraint("client_id"),
        UniqueConstraint("follow_token"),
        _states_check(),
        Index("ix_reports_geom", "geom", postgresql_using="gist"),
        Index("ix_reports_asset", "layer", "asset_id"),
        Index("ix_reports_created_at", "created_at"),
    )
    Table(
        "report_history",
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("report_id", UUID(as_uuid=False), ForeignKey("reports.id", ondelete="CASCADE"), nullable=False),
        Column("action", Text, nullable=False),
        Column("from_state", Text),
        Column("to_state", Text),
        Column("actor", Text, nullable=False),
        Column("public_reason", Text),
        Column("at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        # Who submitted (create / me_too), for the rate limits; private.
        Column("client_addr", Text),
        Column("device_id", Text),
        CheckConstraint("action IN ('create', 'me_too', 'transition', 'publish', 'hide')", name="action_enum"),
        Index("ix_report_history_report", "report_id", "id"),
        Index("ix_report_history_addr", "client_addr", "at"),
        Index("ix_report_history_device", "device_id", "at"),
    )
    _photo_and_team_tables(metadata)


def _photo_and_team_tables(metadata: MetaData) -> None:
    Table(
        "report_followers",
        metadata,
        # A "me too" reporter's own follow link: the report's progress; its text and photos only
        # once published (they are the first reporter's). One per device and report. What they
        # wrote and their contact are for the owning team, as the first reporter's are.
        Column("token", Text, primary_key=True),
        Column("report_id", UUID(as_uuid=False), ForeignKey("reports.id", ondelete="CASCADE"), nullable=False, index=True),
        Column("device_id", Text),
        Column("description", Text),
        # Personal data: never on a public surface.
        Column("reporter_name", Text),
        Column("reporter_phone", Text),
        Column("reporter_email", Text),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
    Table(
        "report_photos",
        metadata,
        Column("id", UUID(as_uuid=False), primary_key=True, server_default=text("gen_random_uuid()")),
        Column("report_id", UUID(as_uuid=False), ForeignKey("reports.id", ondelete="CASCADE"), nullable=False, index=True),
        Column("content_type", Text, nullable=False),
        Column("bytes", Integer, nullable=False),
        Column("width", Integer, nullable=False),
        Column("height", Integer, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
    Table(
        "team_report_settings",
        metadata,
        Column("team_code", Text, ForeignKey("teams.code", ondelete="CASCADE"), primary_key=True),
        Column("auto_publish", Boolean, nullable=False, server_default=text("false")),
        Column("webhook_url", Text),
        Column("webhook_secret", Text),
        Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
    Table(
        "webhook_deliveries",
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("team_code", Text, ForeignKey("teams.code", ondelete="CASCADE"), nullable=False),
        Column("report_id", UUID(as_uuid=False), ForeignKey("reports.id", ondelete="CASCADE"), nullable=False),
        Column("event", Text, nullable=False),
        Column("payload", JSONB, nullable=False),
        Column("status", Text, nullable=False, server_default="pending"),
        Column("attempts", Integer, nullable=False, server_default="0"),
        Column("next_attempt_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("last_status_code", Integer),
        Column("last_error", Text),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("delivered_at", DateTime(timezone=True)),
        CheckConstraint("status IN ('pending', 'delivered', 'failed')", name="status_enum"),
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
    )
