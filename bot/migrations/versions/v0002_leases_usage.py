"""Leases, who asked each turn (for forget/my-data), token usage, indexes for retention.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "leases",
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("holder", sa.String(255), nullable=False),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.add_column("turns", sa.Column("asker", sa.String(255), nullable=True))
    op.add_column("answers", sa.Column("prompt_tokens", sa.Integer, nullable=True))
    op.add_column("answers", sa.Column("completion_tokens", sa.Integer, nullable=True))
    op.create_index("ix_turns_asker", "turns", ["platform", "asker"])
    op.create_index("ix_turns_at", "turns", ["at"])
    op.create_index("ix_answers_at", "answers", ["at"])
    op.create_index("ix_feedback_at", "feedback", ["at"])


def downgrade() -> None:
    op.drop_index("ix_feedback_at", "feedback")
    op.drop_index("ix_answers_at", "answers")
    op.drop_index("ix_turns_at", "turns")
    op.drop_index("ix_turns_asker", "turns")
    with op.batch_alter_table("answers") as batch:
        batch.drop_column("completion_tokens")
        batch.drop_column("prompt_tokens")
    with op.batch_alter_table("turns") as batch:
        batch.drop_column("asker")
    op.drop_table("leases")
