"""accounts, receipts, photos, search

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 09:10:06.306082
"""
from alembic import op
import geoalchemy2
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from geoalchemy2 import Geometry

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


LAYERS = ("farms", "durian_trees", "wifi_points", "digital_libraries", "border_markers", "heritage_sites")


def upgrade() -> None:
    # Diacritics-insensitive search: "Dong Huong" finds "Đồng Hướng".
    op.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute(
        "CREATE OR REPLACE FUNCTION geomap_fold(text) RETURNS text "
        "LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT "
        "AS $$ SELECT lower(public.unaccent('public.unaccent'::regdictionary, normalize($1, NFC))) $$"
    )
    for layer in LAYERS:
        op.execute(
            f"CREATE INDEX ix_{layer}_search ON {layer} USING gin (geomap_fold(code || ' ' || name) gin_trgm_ops)"
        )
    op.create_table('photos',
    sa.Column('id', sa.UUID(as_uuid=False), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('layer', sa.Text(), nullable=False),
    sa.Column('asset_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('content_type', sa.Text(), nullable=False),
    sa.Column('bytes', sa.Integer(), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_photos'))
    )
    op.create_index('ix_photos_asset', 'photos', ['layer', 'asset_id'], unique=False)
    op.create_geospatial_table('teams',
    sa.Column('code', sa.Text(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('provinces', postgresql.ARRAY(sa.Text()), server_default='{}', nullable=False),
    sa.Column('communes', postgresql.ARRAY(sa.Text()), server_default='{}', nullable=False),
    sa.Column('layers', postgresql.ARRAY(sa.Text()), server_default='{}', nullable=False),
    sa.Column('area', Geometry(geometry_type='MULTIPOLYGON', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry'), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_teams'))
    )
    op.create_table('write_receipts',
    sa.Column('key', sa.Text(), nullable=False),
    sa.Column('request_hash', sa.Text(), nullable=False),
    sa.Column('layer', sa.Text(), nullable=False),
    sa.Column('asset_ids', postgresql.ARRAY(sa.UUID(as_uuid=False)), nullable=False),
    sa.Column('status', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_write_receipts'))
    )
    op.create_table('users',
    sa.Column('id', sa.UUID(as_uuid=False), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('username', sa.Text(), nullable=False),
    sa.Column('display_name', sa.Text(), nullable=True),
    sa.Column('role', sa.Text(), nullable=False),
    sa.Column('team_code', sa.Text(), nullable=True),
    sa.Column('password_hash', sa.Text(), nullable=True),
    sa.Column('active', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("role IN ('admin', 'volunteer', 'farmer')", name=op.f('ck_users_role_enum')),
    sa.ForeignKeyConstraint(['team_code'], ['teams.code'], name=op.f('fk_users_team_code_teams'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    op.create_table('credentials',
    sa.Column('id', sa.UUID(as_uuid=False), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('user_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('secret_hash', sa.Text(), nullable=False),
    sa.Column('label', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("kind IN ('token', 'session')", name=op.f('ck_credentials_kind_enum')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_credentials_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credentials')),
    sa.UniqueConstraint('secret_hash', name=op.f('uq_credentials_secret_hash'))
    )
    op.create_index(op.f('ix_credentials_user_id'), 'credentials', ['user_id'], unique=False)
    op.create_table('user_farms',
    sa.Column('user_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('farm_id', sa.UUID(as_uuid=False), nullable=False),
    sa.ForeignKeyConstraint(['farm_id'], ['farms.id'], name=op.f('fk_user_farms_farm_id_farms'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_farms_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'farm_id', name=op.f('pk_user_farms'))
    )


def downgrade() -> None:
    for layer in LAYERS:
        op.execute(f"DROP INDEX IF EXISTS ix_{layer}_search")
    op.execute("DROP FUNCTION IF EXISTS geomap_fold(text)")
    # ### commands auto generated by Alembic - please adjust! ###
    op.drop_table('user_farms')
    op.drop_index(op.f('ix_credentials_user_id'), table_name='credentials')
    op.drop_table('credentials')
    op.drop_table('users')
    op.drop_table('write_receipts')
    op.drop_geospatial_table('teams')
    op.drop_index('ix_photos_asset', table_name='photos')
    op.drop_table('photos')
