"""The search table: each clue's subject name and every ID number of its subject and evidence, indexed,
so that the queue's name and ID search never scans the evidence (existing clues are indexed here); and
an index the queue's filter options (models, rules, counties) are read from.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import polars as pl
import sqlalchemy as sa
from alembic import op

from engine.review.search_keys import search_keys

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

BATCH = 5000


def upgrade() -> None:
    table = op.create_table(
        "clue_search",
        sa.Column("clue_id", sa.String(64), sa.ForeignKey("clues.clue_id"), primary_key=True),
        sa.Column("kind", sa.String(8), primary_key=True),
        sa.Column("key", sa.String(200), primary_key=True),
    )
    op.create_index("ix_clue_search_key", "clue_search", ["kind", "key", "clue_id"])
    op.create_index("ix_clues_facets", "clues", ["model_id", "rule_id", "county"])
    conn = op.get_bind()
    clues = sa.table("clues", sa.column("clue_id"), sa.column("subject_id"), sa.column("subject_name"),
                     sa.column("evidence"))
    result = conn.execute(sa.select(clues.c.clue_id, clues.c.subject_id, clues.c.subject_name, clues.c.evidence)
                          .execution_options(yield_per=BATCH))   # on the statement: the connection stays as it is
    for rows in result.partitions():
        frame = pl.DataFrame([tuple(r) for r in rows], orient="row",
                             schema={"clue_id": pl.String, "subject_id": pl.String, "subject_name": pl.String,
                                     "evidence": pl.String})
        keys = search_keys(frame)
        if keys.height:
            conn.execute(table.insert(), keys.to_dicts())


def downgrade() -> None:
    op.drop_index("ix_clues_facets", "clues")
    op.drop_index("ix_clue_search_key", "clue_search")
    op.drop_table("clue_search")
