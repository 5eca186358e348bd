"""The first schema: clues, decision events, users, API tokens, audit.

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
    op.create_table(
        "clues",
        sa.Column("clue_id", sa.String(64), primary_key=True),
        sa.Column("model_id", sa.String(100), nullable=False),
        sa.Column("rule_id", sa.String(100), nullable=False),
        sa.Column("rank", sa.Integer, nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("confidence", sa.Float),
        sa.Column("subject_type", sa.String(50)),
        sa.Column("subject_id", sa.String(200)),
        sa.Column("subject_name", sa.Text),
        sa.Column("amount", sa.Numeric(18, 2)),
        sa.Column("period_start", sa.Date),
        sa.Column("period_end", sa.Date),
        sa.Column("county", sa.String(100)),
        sa.Column("summary", sa.Text),
        sa.Column("legal_basis", sa.Text),
        sa.Column("evidence", sa.Text),
        sa.Column("lifecycle", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="pending"),
        sa.Column("assignee", sa.String(100)),
        sa.Column("recovered_amount", sa.Numeric(18, 2)),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("changed_since_decision", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("first_run", sa.String(64), nullable=False),
        sa.Column("last_run", sa.String(64), nullable=False),
    )
    op.create_index("ix_clues_model_score", "clues", ["model_id", "score"])
    op.create_index("ix_clues_score", "clues", ["score"])
    op.create_index("ix_clues_status", "clues", ["status"])
    op.create_index("ix_clues_subject_id", "clues", ["subject_id"])
    op.create_table(
        "decision_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("clue_id", sa.String(64), sa.ForeignKey("clues.clue_id"), nullable=False, index=True),
        sa.Column("ts", sa.DateTime, nullable=False),
        sa.Column("user", sa.String(100), nullable=False),
        sa.Column("previous_status", sa.String(16), nullable=False),
        sa.Column("new_status", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(32)),
        sa.Column("note", sa.Text),
        sa.Column("recovered_amount", sa.Numeric(18, 2)),
        sa.Column("assignee", sa.String(100)),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("models", sa.Text),
        sa.Column("counties", sa.Text),
        sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("failed_logins", sa.Integer, nullable=False, server_default="0"),
        sa.Column("locked_until", sa.DateTime),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("revoked", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "audit",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("ts", sa.DateTime, nullable=False, index=True),
        sa.Column("user", sa.String(100)),
        sa.Column("action", sa.String(32), nullable=False, index=True),
        sa.Column("details", sa.Text),
    )


def downgrade() -> None:
    for table in ("audit", "api_tokens", "users", "decision_events", "clues"):
        op.drop_table(table)
