"""geomap_fold skips normalize() for text that is already NFC (nearly all of it: the loader and the
API store NFC), with the same result for every input; the search indexes built on it stay valid

``normalize(x, NFC)`` costs 3.5 s per million codes and names; ``x IS NFC NORMALIZED`` answers most
text by Unicode's quick check. Building the trigram search index of a 1M-tree load takes the fold
of every code and name; so do the province and commune filters and a volunteer's working area.

Revision ID: 0009
Revises: 0008
"""
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_FOLD = ("CREATE OR REPLACE FUNCTION geomap_fold(text) RETURNS text "
         "LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT "
         "AS $$ SELECT lower(public.unaccent('public.unaccent'::regdictionary, {})) $$")


def upgrade() -> None:
    op.execute(_FOLD.format("CASE WHEN $1 IS NFC NORMALIZED THEN $1 ELSE normalize($1, NFC) END"))


def downgrade() -> None:
    op.execute(_FOLD.format("normalize($1, NFC)"))
