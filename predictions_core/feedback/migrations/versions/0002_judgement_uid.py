"""A stable id per judgement, so that an import never adds the same judgement twice.

`uid` travels with a judgement through `predictions feedback export` / `import` (SQLite ↔
PostgreSQL, backups); a unique index makes a second import of the same file add nothing.
Judgements made before this revision get a fresh random uid here, once, under the migration
lock.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add `uid`, fill it for existing judgements, index it uniquely."""
    with op.batch_alter_table("judgements") as batch:
        batch.add_column(sa.Column("uid", sa.Text(), nullable=True))
    connection = op.get_bind()
    table = sa.table("judgements", sa.column("id", sa.BigInteger), sa.column("uid", sa.Text))
    ids = connection.execute(sa.select(table.c.id).where(table.c.uid.is_(None))).scalars()
    rows = [{"row_id": row_id, "new_uid": str(uuid.uuid4())} for row_id in ids]
    if rows:
        update = table.update().where(table.c.id == sa.bindparam("row_id"))
        connection.execute(update.values(uid=sa.bindparam("new_uid")), rows)
    op.create_index("judgements_uid", "judgements", ["uid"], unique=True)


def downgrade() -> None:
    """Drop `uid` and its index."""
    op.drop_index("judgements_uid", table_name="judgements")
    with op.batch_alter_table("judgements") as batch:
        batch.drop_column("uid")
