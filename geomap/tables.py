"""SQLAlchemy tables built from the layer registry, plus the shared bookkeeping tables.

Alembic compares this metadata with the database (``geomap db revision --autogenerate``), so a
new layer module yields its migration without hand-written DDL.
"""

from __future__ import annotations

from functools import lru_cache

from geoalchemy2 import Geometry
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Computed,
    Column,
    Date,
    DateTime,
    Double,
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

from geomap.layers.base import Attr, Layer
from geomap.layers.common import REVIEW_STATES
from geomap.layers.registry import LAYERS
from geomap.reports.tables import report_tables

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: Expressions of generated columns. geography area uses the WGS84 spheroid (ha on the ellipsoid).
SERVER_COMPUTED = {"area_ha": "ST_Area(geom::geography) / 10000.0"}

_SQL_TYPES = {"text": Text, "int": Integer, "float": Double, "date": Date, "enum": Text}


def _quote_list(values: tuple[str, ...]) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


def _attr_column(layer: Layer, attr: Attr) -> tuple[Column, list[CheckConstraint]]:
    checks: list[CheckConstraint] = []
    if attr.kind == "ref":
        col = Column(
            attr.name,
            UUID(as_uuid=False),
            ForeignKey(f"{attr.ref_layer}.id", ondelete="RESTRICT"),
            nullable=not (attr.required or attr.within_ref),
            index=True,
        )
        return col, checks
    if attr.server:
        # Server-computed attributes are generated columns: the database keeps them right.
        return Column(attr.name, Double, Computed(SERVER_COMPUTED[attr.name], persisted=True)), checks
    col = Column(attr.name, _SQL_TYPES[attr.kind], nullable=not attr.required)
    if attr.kind == "enum":
        checks.append(CheckConstraint(f"{attr.name} IN ({_quote_list(attr.values)})", name=f"{attr.name}_enum"))
    for op, bound in ((">=", attr.ge), ("<=", attr.le), (">", attr.gt)):
        if bound is not None and attr.kind in ("int", "float"):
            suffix = {">=": "ge", "<=": "le", ">": "gt"}[op]
            checks.append(CheckConstraint(f"{attr.name} {op} {bound}", name=f"{attr.name}_{suffix}"))
    return col, checks


def layer_table(layer: Layer, metadata: MetaData) -> Table:
    """The PostGIS table of one layer: common bookkeeping columns + the layer's attributes."""
    columns: list = [
        Column("id", UUID(as_uuid=False), primary_key=True, server_default=text("gen_random_uuid()")),
    ]
    constraints: list = []
    for attr in layer.all_attributes:
        col, checks = _attr_column(layer, attr)
        columns.append(col)
        constraints.extend(checks)
    columns += [
        Column("review_state", Text, nullable=False, server_default="approved"),
        Column("review_comment", Text),
        Column("version", Integer, nullable=False, server_default="1"),
        Column("created_by", Text, nullable=False, server_default="system"),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("updated_by", Text, nullable=False, server_default="system"),
        Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("deleted_at", DateTime(timezone=True)),
        Column(
            "geom",
            Geometry(layer.geometry.upper(), srid=4326, spatial_index=False, nullable=False),
            nullable=False,
        ),
    ]
    constraints += [
        UniqueConstraint("code"),
        CheckConstraint(
            f"review_state IN ({_quote_list(tuple(c.value for c in REVIEW_STATES))})", name="review_state_enum"
        ),
        CheckConstraint("ST_IsValid(geom)", name="geom_valid"),
        Index(f"ix_{layer.table}_geom", "geom", postgresql_using="gist"),
        Index(f"ix_{layer.table}_updated_at", "updated_at"),
        # Diacritics-insensitive search on code and name (geomap_fold is created by migration 0002).
        Index(
            f"ix_{layer.table}_search",
            text("geomap_fold(code || ' ' || name) gin_trgm_ops"),
            postgresql_using="gin",
        ),
    ]
    return Table(layer.table, metadata, *columns, *constraints)


@lru_cache(maxsize=1)
def build_metadata() -> MetaData:
    """Metadata of every geomap table (layers from the registry, then bookkeeping tables)."""
    metadata = MetaData(naming_convention=NAMING)
    for layer in LAYERS:
        layer_table(layer, metadata)
    Table(
        "asset_history",
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("layer", Text, nullable=False),
        Column("asset_id", UUID(as_uuid=False), nullable=False),
        Column("version", Integer, nullable=False),
        Column("action", Text, nullable=False),
        Column("actor", Text, nullable=False),
        Column("at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("changes", JSONB, nullable=False),
        CheckConstraint("action IN ('create', 'update', 'delete', 'restore', 'review')", name="action_enum"),
        Index("ix_asset_history_asset", "layer", "asset_id", "version"),
    )
    _account_tables(metadata)
    _write_tables(metadata)
    report_tables(metadata)
    return metadata


def _account_tables(metadata: MetaData) -> None:
    """Teams, users, credentials, write receipts (idempotency) and photos."""
    Table(
        "teams",
        metadata,
        Column("code", Text, primary_key=True),
        Column("name", Text, nullable=False),
        Column("provinces", ARRAY(Text), nullable=False, server_default="{}"),
        Column("communes", ARRAY(Text), nullable=False, server_default="{}"),
        Column("layers", ARRAY(Text), nullable=False, server_default="{}"),
        Column("area", Geometry("MULTIPOLYGON", srid=4326, spatial_index=False)),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
    Table(
        "users",
        metadata,
        Column("id", UUID(as_uuid=False), primary_key=True, server_default=text("gen_random_uuid()")),
        Column("username", Text, nullable=False),
        Column("display_name", Text),
        Column("role", Text, nullable=False),
        Column("team_code", Text, ForeignKey("teams.code", ondelete="RESTRICT")),
        Column("password_hash", Text),
        Column("active", Boolean, nullable=False, server_default=text("true")),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        UniqueConstraint("username"),
        CheckConstraint("role IN ('admin', 'volunteer', 'farmer')", name="role_enum"),
    )
    Table(
        "user_farms",
        metadata,
        Column("user_id", UUID(as_uuid=False), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
        Column("farm_id", UUID(as_uuid=False), ForeignKey("farms.id", ondelete="CASCADE"), primary_key=True),
    )
    Table(
        "credentials",
        metadata,
        Column("id", UUID(as_uuid=False), primary_key=True, server_default=text("gen_random_uuid()")),
        Column("user_id", UUID(as_uuid=False), ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
        Column("kind", Text, nullable=False),
        Column("secret_hash", Text, nullable=False),
        Column("label", Text),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("expires_at", DateTime(timezone=True)),
        Column("revoked_at", DateTime(timezone=True)),
        UniqueConstraint("secret_hash"),
        CheckConstraint("kind IN ('token', 'session')", name="kind_enum"),
    )
    Table(
        "write_receipts",
        metadata,
        Column("key", Text, primary_key=True),
        Column("request_hash", Text, nullable=False),
        Column("layer", Text, nullable=False),
        Column("asset_ids", ARRAY(UUID(as_uuid=False)), nullable=False),
        Column("status", Integer, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )



def _write_tables(metadata: MetaData) -> None:
    """Photos, issued label codes, the codes of all layers (one namespace), read fences."""
    Table(
        "photos",
        metadata,
        Column("id", UUID(as_uuid=False), primary_key=True, server_default=text("gen_random_uuid()")),
        Column("layer", Text, nullable=False),
        Column("asset_id", UUID(as_uuid=False), nullable=False),
        Column("content_type", Text, nullable=False),
        Column("bytes", Integer, nullable=False),
        Column("width", Integer, nullable=False),
        Column("height", Integer, nullable=False),
        Column("created_by", Text, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("deleted_at", DateTime(timezone=True)),
        Index("ix_photos_asset", "layer", "asset_id"),
    )
    Table(
        "issued_codes",
        metadata,
        Column("code", Text, primary_key=True),
        Column("layer", Text, nullable=False),
        Column("farm_id", UUID(as_uuid=False), ForeignKey("farms.id", ondelete="CASCADE")),
        Column("issued_by", Text, nullable=False),
        Column("issued_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
    Table(
        # Every asset's code, whatever its layer: a printed QR label names exactly one asset. Kept by
        # the trigger geomap_claim_code() on each layer table (geomap/codes.py); the key is the
        # lower-cased code, so codes are also unique regardless of case.
        "asset_codes",
        metadata,
        Column("code_key", Text, primary_key=True),
        Column("code", Text, nullable=False),
        Column("layer", Text, nullable=False),
        Column("asset_id", UUID(as_uuid=False), nullable=False),
        Index("ix_asset_codes_asset", "asset_id"),
    )
    Table(
        # Files the loader has loaded, with a fingerprint of their layer's state after the load: a
        # reload of the same file into the same state changes nothing and is answered at once
        # (geomap/io/fingerprint.py).
        "loaded_files",
        metadata,
        Column("digest", Text, primary_key=True),
        Column("results", JSONB, nullable=False),
        Column("state", Text, nullable=False),
        Column("at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
    Table(
        # Read-your-own-writes with replicas (geomap/replicas.py): each user's last write position.
        # Unlogged: not replicated, not worth a WAL record, and losing it in a crash only means a
        # read may briefly go to the primary.
        "read_fences",
        metadata,
        Column("user_id", UUID(as_uuid=False), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
        Column("lsn", Text, nullable=False),
        Column("at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        prefixes=["UNLOGGED"],
    )


def table_of(layer: Layer) -> Table:
    """The SQLAlchemy table of ``layer``."""
    return build_metadata().tables[layer.table]
