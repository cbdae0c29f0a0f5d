"""The index pointer (serving generation, compare-and-set by version) and retired generations.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "index_pointer",
        sa.Column("store_key", sa.String(255), nullable=False),
        sa.Column("active", sa.String(255), nullable=False),
        sa.Column("previous", sa.String(255), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("moved_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("store_key", name="pk_index_pointer"),
    )
    op.create_table(
        "index_retired",
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("store_key", sa.String(255), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_index_retired"),
    )


def downgrade() -> None:
    op.drop_table("index_retired")
    op.drop_table("index_pointer")
