"""Judgements, as the store wrote them before migrations existed.

An existing database of that code is stamped at this revision rather than upgraded through it
(`feedback.engines`), so this schema must stay exactly that code's: one row per judgement, the
passage as it was judged (text, predicted spans and metadata as JSON text), the verdict, an
optional note and reviewer ("" when anonymous), and the time in ISO UTC.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the `judgements` table and its lookup index."""
    op.create_table(
        "judgements",
        # BIGINT on PostgreSQL; on SQLite the rowid itself (`INTEGER PRIMARY KEY AUTOINCREMENT`)
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
        sa.CheckConstraint(
            "verdict IN ('correct', 'incorrect', 'unsure')", name="judgements_verdict"
        ),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "judgements_by_passage",
        "judgements",
        ["concept_id", "classifier_id", "passage_id", "reviewer", "id"],
    )


def downgrade() -> None:
    """Drop the table (and every judgement in it)."""
    op.drop_table("judgements")
