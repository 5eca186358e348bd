"""Triage: each model's recommended share (the top share of its open clues marked 优先核查), and
suppressions that can be lifted early (who lifted, when; a lifted row is kept), and an index covering
the per-model ranking by score.

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
        "model_settings",
        sa.Column("model_id", sa.String(100), primary_key=True),
        sa.Column("recommended_percent", sa.Float),
        sa.Column("updated_by", sa.String(100), nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_clues_model_rank", "clues",
                    ["model_id", sa.desc("score"), "clue_id", "status", "lifecycle", "subject_id"])
    op.add_column("suppressions", sa.Column("lifted_at", sa.DateTime))
    op.add_column("suppressions", sa.Column("lifted_by", sa.String(100)))


def downgrade() -> None:
    with op.batch_alter_table("suppressions") as batch:
        batch.drop_column("lifted_by")
        batch.drop_column("lifted_at")
    op.drop_table("model_settings")
    op.drop_index("ix_clues_model_rank", "clues")
