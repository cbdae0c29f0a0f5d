"""State replicas share: seen event ids, bot message -> conversation links, shareable answers.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "seen_events",
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("event_id", sa.String(255), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("platform", "event_id", name="pk_seen_events"),
    )
    op.create_index("ix_seen_events_at", "seen_events", ["at"])
    op.create_table(
        "message_links",
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("message_id", sa.String(64), nullable=False),
        sa.Column("conversation_key", sa.String(255), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("platform", "message_id", name="pk_message_links"),
    )
    op.create_index("ix_message_links_at", "message_links", ["at"])
    op.create_index("ix_message_links_conversation_key", "message_links", ["conversation_key"])
    op.create_table(
        "shared_answers",
        sa.Column("answer_id", sa.String(64), primary_key=True),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("asker", sa.String(255), nullable=False),
        sa.Column("question", sa.Text, nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_shared_answers_at", "shared_answers", ["at"])
    op.create_index("ix_shared_answers_asker", "shared_answers", ["platform", "asker"])


def downgrade() -> None:
    op.drop_table("shared_answers")
    op.drop_table("message_links")
    op.drop_table("seen_events")
