"""The 检察建议 → 整改 → 回头看 loop: recommendations over confirmed clues of one model, transfers (移送)
per clue, the agency's reply, and each clue's follow-up result (``clues.rectification``).

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
        "recommendations",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("model_id", sa.String(100), nullable=False, index=True),
        sa.Column("agency", sa.Text, nullable=False),
        sa.Column("issued_on", sa.Date, nullable=False),
        sa.Column("deadline", sa.Date, nullable=False, index=True),
        sa.Column("note", sa.Text),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("reply_on", sa.Date),
        sa.Column("reply_text", sa.Text),
        sa.Column("reply_by", sa.String(100)),
    )
    op.create_table(
        "recommendation_clues",
        sa.Column("recommendation_id", sa.Integer, sa.ForeignKey("recommendations.id"), primary_key=True),
        sa.Column("clue_id", sa.String(64), sa.ForeignKey("clues.clue_id"), primary_key=True, index=True),
    )
    op.create_table(
        "transfers",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("clue_id", sa.String(64), sa.ForeignKey("clues.clue_id"), nullable=False, index=True),
        sa.Column("to_agency", sa.String(16), nullable=False),
        sa.Column("case_number", sa.String(200), nullable=False),
        sa.Column("transferred_on", sa.Date, nullable=False),
        sa.Column("note", sa.Text),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.add_column("clues", sa.Column("rectification", sa.String(16)))
    op.create_index("ix_clues_rectification", "clues", ["rectification"])


def downgrade() -> None:
    op.drop_index("ix_clues_rectification", "clues")
    with op.batch_alter_table("clues") as batch:
        batch.drop_column("rectification")
    op.drop_table("transfers")
    op.drop_table("recommendation_clues")
    op.drop_table("recommendations")
