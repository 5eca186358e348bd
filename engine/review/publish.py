"""``lsm publish RUN_DIR``: one run's clues into the review store, in one transaction.

Keyed by the stable ``clue_id``: new clues are inserted; persisting ones keep their status, decisions
and version and take the new run's evidence, score, rank and lifecycle; clues of the models this run
completed that are absent from it become ``resolved`` (never deleted); a decided clue (status not
``pending``) whose amount or period changed is flagged ``changed_since_decision``. Publishing the same
run again changes nothing.

回头看 (follow-up) runs in the same transaction: every clue under a 检察建议 whose reply deadline is
before ``as_of`` (default today) is checked against this run — still ``persisting`` or ``reopened`` in it:
``rectification = 'failed'`` (整改未落实); ``resolved``: ``'rectified'`` (rectified by data). The rows go in as one bulk ``INSERT … ON CONFLICT DO UPDATE`` (SQLite and
PostgreSQL dialect inserts, executemany); parameters are built column by column from Arrow, never by a
Python loop over clues.

Suppressions (暂缓) are keyed by model and subject, so they carry over to a later run's clues by
themselves; the result counts this run's clues that are suppressed.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from engine.review.queries import suppressed_clause
from engine.review.search_keys import search_keys
from engine.review.store import Store, audit, clue_search, clues, recommendation_clues, recommendations

# Columns a new run overwrites on a clue that is already in the store (decisions stay untouched).
EVIDENCE_COLUMNS = ("model_id", "rule_id", "rank", "score", "confidence", "subject_type", "subject_id",
                    "subject_name", "amount", "period_start", "period_end", "county", "summary",
                    "legal_basis", "evidence", "lifecycle", "last_run")
LIFECYCLES = ("new", "persisting", "reopened", "resolved")
BATCH = 5000


@dataclass
class PublishResult:
    run_id: str
    clues: int
    inserted: int
    updated: int
    resolved: int
    changed_since_decision: int
    rectification_failed: int = 0
    rectified: int = 0
    suppressed: int = 0         # clues of this run whose model and subject are suppressed (out of the queue)

    def to_json(self) -> dict:
        return self.__dict__.copy()


def read_run(run_dir: Path) -> tuple[str, list[str], pa.Table]:
    """(run_id, the models this run completed, one Arrow table of store rows)."""
    run_dir = Path(run_dir).resolve()
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    run_id = manifest["run_id"]
    completed = [m["id"] for m in manifest.get("models", []) if m.get("status") == "ok"]
    frame = pl.read_parquet(run_dir / "clues.parquet")
    states_path = run_dir / "clue_states.parquet"
    if states_path.exists():
        states = pl.read_parquet(states_path).select("clue_id", pl.col("state").alias("lifecycle"))
        frame = frame.join(states, on="clue_id", how="left")
    else:
        frame = frame.with_columns(lifecycle=pl.lit(None, pl.String))
    frame = frame.with_columns(
        lifecycle=pl.when(pl.col("lifecycle").is_in(["new", "persisting", "reopened"]))
        .then(pl.col("lifecycle")).otherwise(pl.lit("new")),
        # A clue's county (区县) comes from its evidence where the model's sources carry one.
        county=pl.col("evidence").str.json_path_match("$.sources[*].fields.county"),
        legal_basis=pl.col("evidence").str.json_path_match("$.legal_basis"),
        first_run=pl.lit(run_id), last_run=pl.lit(run_id),
    )
    columns = ["clue_id", *EVIDENCE_COLUMNS, "first_run"]
    return run_id, completed, frame.select(columns).to_arrow()


def _upsert(dialect: str):
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(clues)
    new = stmt.excluded
    decided = clues.c.status != "pending"
    changed = sa.or_(clues.c.amount.is_distinct_from(new.amount),
                     clues.c.period_start.is_distinct_from(new.period_start),
                     clues.c.period_end.is_distinct_from(new.period_end))
    updates = {name: getattr(new, name) for name in EVIDENCE_COLUMNS}
    updates["changed_since_decision"] = sa.case((sa.and_(decided, changed), sa.true()),
                                                else_=clues.c.changed_since_decision)
    return stmt.on_conflict_do_update(index_elements=[clues.c.clue_id], set_=updates)


def write_search_keys(conn, table: pa.Table) -> None:
    """Replace the search keys (``clue_search``) of this run's clues: names and ID numbers."""
    if not sa.inspect(conn).has_table("clue_search"):      # a store before revision 0005 (tests of old revisions)
        return
    frame = pl.from_arrow(table.select(["clue_id", "subject_id", "subject_name", "evidence"]))
    ids = frame.get_column("clue_id").to_list()
    for start in range(0, len(ids), BATCH):
        conn.execute(sa.delete(clue_search).where(clue_search.c.clue_id.in_(ids[start:start + BATCH])))
    keys = search_keys(frame)
    for start in range(0, keys.height, BATCH):
        conn.execute(clue_search.insert(), keys.slice(start, BATCH).to_dicts())


def follow_up(conn, run_id: str, as_of: dt.date) -> tuple[int, int]:
    """回头看: (clues flagged 整改未落实, clues rectified by data) among those under a recommendation
    whose deadline has passed."""
    if not sa.inspect(conn).has_table("recommendations"):   # a store not yet upgraded (tests of old revisions)
        return 0, 0
    overdue = (sa.select(recommendation_clues.c.clue_id)
               .join(recommendations, recommendations.c.id == recommendation_clues.c.recommendation_id)
               .where(recommendations.c.deadline < as_of))
    failed = conn.execute(
        sa.update(clues).where(clues.c.clue_id.in_(overdue), clues.c.last_run == run_id,
                               clues.c.lifecycle.in_(("persisting", "reopened")))
        .values(rectification="failed")).rowcount
    rectified = conn.execute(
        sa.update(clues).where(clues.c.clue_id.in_(overdue), clues.c.lifecycle == "resolved")
        .values(rectification="rectified")).rowcount
    return failed, rectified


def suppressed_in_run(conn, run_id: str, as_of: dt.date) -> int:
    """How many of this run's clues fall under a suppression still running on ``as_of``: a suppression is
    keyed by model and subject, not by clue, so a later run's clue on the same subject stays out of the
    queue until the date without anything being copied."""
    if not sa.inspect(conn).has_table("model_settings"):    # a store before revision 0004 (tests of old revisions)
        return 0
    return conn.execute(sa.select(sa.func.count()).select_from(clues)
                        .where(clues.c.last_run == run_id, clues.c.lifecycle != "resolved",
                               suppressed_clause(as_of))).scalar_one()


def publish_run(store: Store, run_dir: Path, user: str | None = None, as_of: dt.date | None = None) -> PublishResult:
    run_id, completed, table = read_run(run_dir)
    ids = table.column("clue_id").to_pylist()
    with store.engine.begin() as conn:
        existing = set()
        for start in range(0, len(ids), BATCH):
            chunk = ids[start:start + BATCH]
            existing.update(conn.execute(sa.select(clues.c.clue_id).where(clues.c.clue_id.in_(chunk))).scalars())
        flagged_before = conn.execute(sa.select(sa.func.count()).select_from(clues)
                                      .where(clues.c.changed_since_decision)).scalar_one()
        stmt = _upsert(store.dialect)
        for start in range(0, table.num_rows, BATCH):
            # executemany parameters straight from Arrow (its own columnar → row conversion)
            conn.execute(stmt, table.slice(start, BATCH).to_pylist())
        write_search_keys(conn, table)
        resolved = conn.execute(
            sa.update(clues)
            .where(clues.c.model_id.in_(completed), clues.c.last_run != run_id, clues.c.lifecycle != "resolved")
            .values(lifecycle="resolved")).rowcount if completed else 0
        flagged_after = conn.execute(sa.select(sa.func.count()).select_from(clues)
                                     .where(clues.c.changed_since_decision)).scalar_one()
        failed, rectified = follow_up(conn, run_id, as_of or dt.date.today())
        result = PublishResult(run_id=run_id, clues=len(ids), inserted=len(ids) - len(existing),
                               updated=len(existing), resolved=resolved,
                               changed_since_decision=flagged_after - flagged_before,
                               rectification_failed=failed, rectified=rectified,
                               suppressed=suppressed_in_run(conn, run_id, as_of or dt.date.today()))
        audit(conn, user, "publish", {**result.to_json(), "run_dir": str(Path(run_dir).resolve())})
    refresh_statistics(store)
    return result


def refresh_statistics(store: Store) -> None:
    """PostgreSQL plans the queue from table statistics and answers its index-only scans from the
    visibility map; right after a bulk publish both still describe the store before it (autovacuum
    catches up only later): a plan made for one row where there are thousands re-ran the ranking per row
    (5 s a page), and every "index-only" read went to the table. So vacuum and analyse the tables the
    queue reads once the publish has committed (VACUUM cannot run inside a transaction)."""
    if store.dialect != "postgresql":
        return
    with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in ("clues", "clue_search"):
            if sa.inspect(conn).has_table(table):
                conn.exec_driver_sql(f"VACUUM (ANALYZE) {table}")
