"""initial layers and history

Revision ID: 0001
Revises: 
Create Date: 2026-11-22 08:58:53.574483
"""
from alembic import op
import geoalchemy2
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from geoalchemy2 import Geometry

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.create_table('asset_history',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('layer', sa.Text(), nullable=False),
    sa.Column('asset_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('action', sa.Text(), nullable=False),
    sa.Column('actor', sa.Text(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('changes', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.CheckConstraint("action IN ('create', 'update', 'delete', 'restore', 'review')", name=op.f('ck_asset_history_action_enum')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_asset_history'))
    )
    op.create_index('ix_asset_history_asset', 'asset_history', ['layer', 'asset_id', 'version'], unique=False)
    op.create_geospatial_table('border_markers',
    sa.Column('id', sa.UUID(as_uuid=False), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('code', sa.Text(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('status', sa.Text(), nullable=True),
    sa.Column('province', sa.Text(), nullable=False),
    sa.Column('commune', sa.Text(), nullable=False),
    sa.Column('village', sa.Text(), nullable=True),
    sa.Column('team_code', sa.Text(), nullable=True),
    sa.Column('gps_accuracy_m', sa.Double(), nullable=True),
    sa.Column('marker_number', sa.Text(), nullable=False),
    sa.Column('marker_type', sa.Text(), nullable=False),
    sa.Column('border_line', sa.Text(), nullable=False),
    sa.Column('condition', sa.Text(), nullable=True),
    sa.Column('year_placed', sa.Integer(), nullable=True),
    sa.Column('review_state', sa.Text(), server_default='approved', nullable=False),
    sa.Column('review_comment', sa.Text(), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('created_by', sa.Text(), server_default='system', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_by', sa.Text(), server_default='system', nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('geom', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.CheckConstraint("border_line IN ('viet_nam_lao', 'viet_nam_campuchia', 'viet_nam_trung_quoc')", name=op.f('ck_border_markers_border_line_enum')),
    sa.CheckConstraint("condition IN ('tot', 'hu_hong_nhe', 'hu_hong_nang')", name=op.f('ck_border_markers_condition_enum')),
    sa.CheckConstraint("marker_type IN ('moc_chinh', 'moc_phu', 'coc_dau')", name=op.f('ck_border_markers_marker_type_enum')),
    sa.CheckConstraint("review_state IN ('received', 'has_issues', 'approved', 'rejected')", name=op.f('ck_border_markers_review_state_enum')),
    sa.CheckConstraint("status IN ('hoat_dong', 'hong', 'du_kien', 'ngung')", name=op.f('ck_border_markers_status_enum')),
    sa.CheckConstraint('ST_IsValid(geom)', name=op.f('ck_border_markers_geom_valid')),
    sa.CheckConstraint('gps_accuracy_m <= 10000', name=op.f('ck_border_markers_gps_accuracy_m_le')),
    sa.CheckConstraint('gps_accuracy_m >= 0', name=op.f('ck_border_markers_gps_accuracy_m_ge')),
    sa.CheckConstraint('year_placed <= 2100', name=op.f('ck_border_markers_year_placed_le')),
    sa.CheckConstraint('year_placed >= 1900', name=op.f('ck_border_markers_year_placed_ge')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_border_markers')),
    sa.UniqueConstraint('code', name=op.f('uq_border_markers_code'))
    )
    op.create_geospatial_index('ix_border_markers_geom', 'border_markers', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index('ix_border_markers_updated_at', 'border_markers', ['updated_at'], unique=False)
    op.create_geospatial_table('digital_libraries',
    sa.Column('id', sa.UUID(as_uuid=False), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('code', sa.Text(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('status', sa.Text(), nullable=True),
    sa.Column('province', sa.Text(), nullable=False),
    sa.Column('commune', sa.Text(), nullable=False),
    sa.Column('village', sa.Text(), nullable=True),
    sa.Column('team_code', sa.Text(), nullable=True),
    sa.Column('gps_accuracy_m', sa.Double(), nullable=True),
    sa.Column('venue', sa.Text(), nullable=False),
    sa.Column('devices', sa.Integer(), nullable=True),
    sa.Column('digital_titles', sa.Integer(), nullable=True),
    sa.Column('opening_hours', sa.Text(), nullable=True),
    sa.Column('review_state', sa.Text(), server_default='approved', nullable=False),
    sa.Column('review_comment', sa.Text(), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('created_by', sa.Text(), server_default='system', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_by', sa.Text(), server_default='system', nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('geom', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.CheckConstraint("review_state IN ('received', 'has_issues', 'approved', 'rejected')", name=op.f('ck_digital_libraries_review_state_enum')),
    sa.CheckConstraint("status IN ('hoat_dong', 'hong', 'du_kien', 'ngung')", name=op.f('ck_digital_libraries_status_enum')),
    sa.CheckConstraint('ST_IsValid(geom)', name=op.f('ck_digital_libraries_geom_valid')),
    sa.CheckConstraint('devices <= 10000', name=op.f('ck_digital_libraries_devices_le')),
    sa.CheckConstraint('devices >= 0', name=op.f('ck_digital_libraries_devices_ge')),
    sa.CheckConstraint('digital_titles <= 10000000', name=op.f('ck_digital_libraries_digital_titles_le')),
    sa.CheckConstraint('digital_titles >= 0', name=op.f('ck_digital_libraries_digital_titles_ge')),
    sa.CheckConstraint('gps_accuracy_m <= 10000', name=op.f('ck_digital_libraries_gps_accuracy_m_le')),
    sa.CheckConstraint('gps_accuracy_m >= 0', name=op.f('ck_digital_libraries_gps_accuracy_m_ge')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_digital_libraries')),
    sa.UniqueConstraint('code', name=op.f('uq_digital_libraries_code'))
    )
    op.create_geospatial_index('ix_digital_libraries_geom', 'digital_libraries', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index('ix_digital_libraries_updated_at', 'digital_libraries', ['updated_at'], unique=False)
    op.create_geospatial_table('farms',
    sa.Column('id', sa.UUID(as_uuid=False), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('code', sa.Text(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('status', sa.Text(), nullable=True),
    sa.Column('province', sa.Text(), nullable=False),
    sa.Column('commune', sa.Text(), nullable=False),
    sa.Column('village', sa.Text(), nullable=True),
    sa.Column('team_code', sa.Text(), nullable=True),
    sa.Column('gps_accuracy_m', sa.Double(), nullable=True),
    sa.Column('owner_name', sa.Text(), nullable=False),
    sa.Column('owner_phone', sa.Text(), nullable=True),
    sa.Column('planting_area_code', sa.Text(), nullable=True),
    sa.Column('area_ha', sa.Double(), sa.Computed('ST_Area(geom::geography) / 10000.0', persisted=True), nullable=True),
    sa.Column('review_state', sa.Text(), server_default='approved', nullable=False),
    sa.Column('review_comment', sa.Text(), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('created_by', sa.Text(), server_default='system', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_by', sa.Text(), server_default='system', nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('geom', Geometry(geometry_type='MULTIPOLYGON', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.CheckConstraint("review_state IN ('received', 'has_issues', 'approved', 'rejected')", name=op.f('ck_farms_review_state_enum')),
    sa.CheckConstraint("status IN ('hoat_dong', 'hong', 'du_kien', 'ngung')", name=op.f('ck_farms_status_enum')),
    sa.CheckConstraint('ST_IsValid(geom)', name=op.f('ck_farms_geom_valid')),
    sa.CheckConstraint('gps_accuracy_m <= 10000', name=op.f('ck_farms_gps_accuracy_m_le')),
    sa.CheckConstraint('gps_accuracy_m >= 0', name=op.f('ck_farms_gps_accuracy_m_ge')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_farms')),
    sa.UniqueConstraint('code', name=op.f('uq_farms_code'))
    )
    op.create_geospatial_index('ix_farms_geom', 'farms', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index('ix_farms_updated_at', 'farms', ['updated_at'], unique=False)
    op.create_geospatial_table('heritage_sites',
    sa.Column('id', sa.UUID(as_uuid=False), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('code', sa.Text(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('status', sa.Text(), nullable=True),
    sa.Column('province', sa.Text(), nullable=False),
    sa.Column('commune', sa.Text(), nullable=False),
    sa.Column('village', sa.Text(), nullable=True),
    sa.Column('team_code', sa.Text(), nullable=True),
    sa.Column('gps_accuracy_m', sa.Double(), nullable=True),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('rank', sa.Text(), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('review_state', sa.Text(), server_default='approved', nullable=False),
    sa.Column('review_comment', sa.Text(), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('created_by', sa.Text(), server_default='system', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_by', sa.Text(), server_default='system', nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('geom', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.CheckConstraint("kind IN ('di_tich_lich_su', 'danh_thang', 'dia_chi_do')", name=op.f('ck_heritage_sites_kind_enum')),
    sa.CheckConstraint("rank IN ('quoc_gia', 'tinh')", name=op.f('ck_heritage_sites_rank_enum')),
    sa.CheckConstraint("review_state IN ('received', 'has_issues', 'approved', 'rejected')", name=op.f('ck_heritage_sites_review_state_enum')),
    sa.CheckConstraint("status IN ('hoat_dong', 'hong', 'du_kien', 'ngung')", name=op.f('ck_heritage_sites_status_enum')),
    sa.CheckConstraint('ST_IsValid(geom)', name=op.f('ck_heritage_sites_geom_valid')),
    sa.CheckConstraint('gps_accuracy_m <= 10000', name=op.f('ck_heritage_sites_gps_accuracy_m_le')),
    sa.CheckConstraint('gps_accuracy_m >= 0', name=op.f('ck_heritage_sites_gps_accuracy_m_ge')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_heritage_sites')),
    sa.UniqueConstraint('code', name=op.f('uq_heritage_sites_code'))
    )
    op.create_geospatial_index('ix_heritage_sites_geom', 'heritage_sites', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index('ix_heritage_sites_updated_at', 'heritage_sites', ['updated_at'], unique=False)
    op.create_geospatial_table('wifi_points',
    sa.Column('id', sa.UUID(as_uuid=False), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('code', sa.Text(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('status', sa.Text(), nullable=True),
    sa.Column('province', sa.Text(), nullable=False),
    sa.Column('commune', sa.Text(), nullable=False),
    sa.Column('village', sa.Text(), nullable=True),
    sa.Column('team_code', sa.Text(), nullable=True),
    sa.Column('gps_accuracy_m', sa.Double(), nullable=True),
    sa.Column('venue', sa.Text(), nullable=False),
    sa.Column('ssid', sa.Text(), nullable=True),
    sa.Column('provider', sa.Text(), nullable=True),
    sa.Column('installed_on', sa.Date(), nullable=True),
    sa.Column('built_by', sa.Text(), nullable=True),
    sa.Column('review_state', sa.Text(), server_default='approved', nullable=False),
    sa.Column('review_comment', sa.Text(), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('created_by', sa.Text(), server_default='system', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_by', sa.Text(), server_default='system', nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('geom', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.CheckConstraint("provider IN ('vnpt', 'viettel', 'mobifone', 'fpt', 'khac')", name=op.f('ck_wifi_points_provider_enum')),
    sa.CheckConstraint("review_state IN ('received', 'has_issues', 'approved', 'rejected')", name=op.f('ck_wifi_points_review_state_enum')),
    sa.CheckConstraint("status IN ('hoat_dong', 'hong', 'du_kien', 'ngung')", name=op.f('ck_wifi_points_status_enum')),
    sa.CheckConstraint('ST_IsValid(geom)', name=op.f('ck_wifi_points_geom_valid')),
    sa.CheckConstraint('gps_accuracy_m <= 10000', name=op.f('ck_wifi_points_gps_accuracy_m_le')),
    sa.CheckConstraint('gps_accuracy_m >= 0', name=op.f('ck_wifi_points_gps_accuracy_m_ge')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wifi_points')),
    sa.UniqueConstraint('code', name=op.f('uq_wifi_points_code'))
    )
    op.create_geospatial_index('ix_wifi_points_geom', 'wifi_points', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index('ix_wifi_points_updated_at', 'wifi_points', ['updated_at'], unique=False)
    op.create_geospatial_table('durian_trees',
    sa.Column('id', sa.UUID(as_uuid=False), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('code', sa.Text(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('status', sa.Text(), nullable=True),
    sa.Column('province', sa.Text(), nullable=False),
    sa.Column('commune', sa.Text(), nullable=False),
    sa.Column('village', sa.Text(), nullable=True),
    sa.Column('team_code', sa.Text(), nullable=True),
    sa.Column('gps_accuracy_m', sa.Double(), nullable=True),
    sa.Column('farm_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('variety', sa.Text(), nullable=False),
    sa.Column('planting_year', sa.Integer(), nullable=True),
    sa.Column('health', sa.Text(), nullable=True),
    sa.Column('height_m', sa.Double(), nullable=True),
    sa.Column('canopy_m', sa.Double(), nullable=True),
    sa.Column('last_yield_kg', sa.Double(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('review_state', sa.Text(), server_default='approved', nullable=False),
    sa.Column('review_comment', sa.Text(), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('created_by', sa.Text(), server_default='system', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_by', sa.Text(), server_default='system', nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('geom', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.CheckConstraint("health IN ('khoe', 'sau_benh', 'chet')", name=op.f('ck_durian_trees_health_enum')),
    sa.CheckConstraint("review_state IN ('received', 'has_issues', 'approved', 'rejected')", name=op.f('ck_durian_trees_review_state_enum')),
    sa.CheckConstraint("status IN ('hoat_dong', 'hong', 'du_kien', 'ngung')", name=op.f('ck_durian_trees_status_enum')),
    sa.CheckConstraint("variety IN ('ri6', 'monthong', 'musang_king', 'chuong_bo', 'sau_huu', 'khac')", name=op.f('ck_durian_trees_variety_enum')),
    sa.CheckConstraint('ST_IsValid(geom)', name=op.f('ck_durian_trees_geom_valid')),
    sa.CheckConstraint('canopy_m <= 40', name=op.f('ck_durian_trees_canopy_m_le')),
    sa.CheckConstraint('canopy_m > 0', name=op.f('ck_durian_trees_canopy_m_gt')),
    sa.CheckConstraint('gps_accuracy_m <= 10000', name=op.f('ck_durian_trees_gps_accuracy_m_le')),
    sa.CheckConstraint('gps_accuracy_m >= 0', name=op.f('ck_durian_trees_gps_accuracy_m_ge')),
    sa.CheckConstraint('height_m <= 50', name=op.f('ck_durian_trees_height_m_le')),
    sa.CheckConstraint('height_m > 0', name=op.f('ck_durian_trees_height_m_gt')),
    sa.CheckConstraint('last_yield_kg <= 2000', name=op.f('ck_durian_trees_last_yield_kg_le')),
    sa.CheckConstraint('last_yield_kg >= 0', name=op.f('ck_durian_trees_last_yield_kg_ge')),
    sa.CheckConstraint('planting_year <= 2100', name=op.f('ck_durian_trees_planting_year_le')),
    sa.CheckConstraint('planting_year >= 1950', name=op.f('ck_durian_trees_planting_year_ge')),
    sa.ForeignKeyConstraint(['farm_id'], ['farms.id'], name=op.f('fk_durian_trees_farm_id_farms'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_durian_trees')),
    sa.UniqueConstraint('code', name=op.f('uq_durian_trees_code'))
    )
    op.create_index(op.f('ix_durian_trees_farm_id'), 'durian_trees', ['farm_id'], unique=False)
    op.create_geospatial_index('ix_durian_trees_geom', 'durian_trees', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index('ix_durian_trees_updated_at', 'durian_trees', ['updated_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_durian_trees_updated_at', table_name='durian_trees')
    op.drop_geospatial_index('ix_durian_trees_geom', table_name='durian_trees', postgresql_using='gist', column_name='geom')
    op.drop_index(op.f('ix_durian_trees_farm_id'), table_name='durian_trees')
    op.drop_geospatial_table('durian_trees')
    op.drop_index('ix_wifi_points_updated_at', table_name='wifi_points')
    op.drop_geospatial_index('ix_wifi_points_geom', table_name='wifi_points', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('wifi_points')
    op.drop_index('ix_heritage_sites_updated_at', table_name='heritage_sites')
    op.drop_geospatial_index('ix_heritage_sites_geom', table_name='heritage_sites', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('heritage_sites')
    op.drop_index('ix_farms_updated_at', table_name='farms')
    op.drop_geospatial_index('ix_farms_geom', table_name='farms', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('farms')
    op.drop_index('ix_digital_libraries_updated_at', table_name='digital_libraries')
    op.drop_geospatial_index('ix_digital_libraries_geom', table_name='digital_libraries', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('digital_libraries')
    op.drop_index('ix_border_markers_updated_at', table_name='border_markers')
    op.drop_geospatial_index('ix_border_markers_geom', table_name='border_markers', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('border_markers')
    op.drop_index('ix_asset_history_asset', table_name='asset_history')
    op.drop_table('asset_history')
