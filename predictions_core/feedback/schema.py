"""The `judgements` table as SQLAlchemy Core sees it, for building queries.

The table itself is made and changed only by the migrations in `feedback/migrations/versions`;
this description must match their newest revision (tests/test_feedback_migrations.py checks).
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

judgements = sa.Table(
    "judgements",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
    sa.Column("concept_id", sa.Text(), nullable=False),
    sa.Column("classifier_id", sa.Text(), nullable=False),
    sa.Column("passage_id", sa.Text(), nullable=False),
    sa.Column("passage_text", sa.Text(), nullable=False),
    sa.Column("predicted_spans", sa.Text(), nullable=False),
    sa.Column("passage_metadata", sa.Text(), nullable=False),
    sa.Column("verdict", sa.Text(), nullable=False),
    sa.Column("note", sa.Text(), nullable=False),
    sa.Column("reviewer", sa.Text(), nullable=False),
    sa.Column("created_at", sa.Text(), nullable=False),
    sa.Column("uid", sa.Text(), nullable=True),
)

# what a judgement is, without the row id of one database: the columns an export carries
RECORD_COLUMNS = (
    "uid",
    "concept_id",
    "classifier_id",
    "passage_id",
    "passage_text",
    "predicted_spans",
    "passage_metadata",
    "verdict",
    "note",
    "reviewer",
    "created_at",
)
# what `history` / `list_judgements` show (the store's return shape before migrations)
SHOWN_COLUMNS = ("id", *RECORD_COLUMNS[1:])
