"""Feedback reasons and one vote per user per answer; answer sources; weekly report claims.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # What each answer cited (JSON list of {passage_id, title, section, url}) and where it
    # was asked, for the knowledge-gap report.
    op.add_column("answers", sa.Column("platform", sa.String(32), nullable=True))
    op.add_column("answers", sa.Column("sources", sa.Text(), nullable=True))
    op.add_column("feedback", sa.Column("sources", sa.Text(), nullable=True))
    op.add_column("feedback", sa.Column("reason", sa.String(32), nullable=True))
    op.add_column("feedback", sa.Column("reason_text", sa.Text(), nullable=True))
    # Clicks stored before votes were one per user: keep each user's latest click.
    feedback = sa.table(
        "feedback",
        sa.column("id", sa.Integer),
        sa.column("answer_id", sa.String),
        sa.column("platform", sa.String),
        sa.column("user", sa.String),
    )
    latest = (
        sa.select(sa.func.max(feedback.c.id))
        .group_by(feedback.c.answer_id, feedback.c.platform, feedback.c.user)
        .scalar_subquery()
    )
    op.execute(sa.delete(feedback).where(feedback.c.id.not_in(latest)))
    op.create_index("uq_feedback_vote", "feedback", ["answer_id", "platform", "user"], unique=True)
    op.create_table(
        "report_posts",
        sa.Column("period", sa.String(64), nullable=False),
        sa.Column("holder", sa.String(255), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("period", name="pk_report_posts"),
    )


def downgrade() -> None:
    op.drop_table("report_posts")
    op.drop_index("uq_feedback_vote", table_name="feedback")
    for column in ("reason_text", "reason", "sources"):
        op.drop_column("feedback", column)
    op.drop_column("answers", "sources")
    op.drop_column("answers", "platform")
