"""Escalations to mentors ("Ask a mentor") and the mentor replies relayed back.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "escalations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("asker", sa.String(255), nullable=False),
        sa.Column("shown_name", sa.String(255), nullable=True),
        sa.Column("relay_channel", sa.String(64), nullable=False),
        sa.Column("relay_thread", sa.String(64), nullable=True),
        sa.Column("answer_id", sa.String(64), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("sources", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("mentors_post", sa.String(128), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("platform", "asker", "answer_id", name="uq_escalations_asker_answer"),
        sa.UniqueConstraint("platform", "mentors_post", name="uq_escalations_mentors_post"),
    )
    op.create_index("ix_escalations_at", "escalations", ["at"])
    op.create_table(
        "escalation_replies",
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("message_id", sa.String(64), nullable=False),
        sa.Column("escalation_id", sa.Integer(), nullable=False),
        sa.Column("mentor", sa.String(255), nullable=False),
        sa.Column("mentor_name", sa.String(255), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("platform", "message_id", name="pk_escalation_replies"),
    )
    op.create_index("ix_escalation_replies_at", "escalation_replies", ["at"])
    op.create_index("ix_escalation_replies_escalation_id", "escalation_replies", ["escalation_id"])


def downgrade() -> None:
    op.drop_table("escalation_replies")
    op.drop_table("escalations")
