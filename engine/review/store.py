"""The review store: what people decide about clues, in a relational database through SQLAlchemy.

SQLite by default (``sqlite:///<runs>/review.db``, WAL journal, foreign keys on — set on every new
connection), PostgreSQL by URL (``postgresql://…``; psycopg 3). The schema is built and upgraded by the
Alembic migrations in ``engine/review/migrations`` when the store is opened; the tables below mirror
the newest revision and are what the code queries (a test checks that the two agree).

Example::

    store = open_store(resolve_url(None, Path("runs")))
    with store.engine.begin() as conn:
        audit(conn, "admin", "publish", {"run_id": "..."})
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Connection, Engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
HEAD = "0005"
STORE_ENV = "LSM_STORE"

metadata = sa.MetaData()

clues = sa.Table(
    "clues", metadata,
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
    # 回头看 (revision 0003): "failed" (整改未落实: still persisting or reopened after a recommendation's
    # deadline) or "rectified" (resolved in a run after the deadline); NULL: not followed up
    sa.Column("rectification", sa.String(16)),
    sa.Index("ix_clues_model_score", "model_id", "score"),
    sa.Index("ix_clues_score", "score"),
    sa.Index("ix_clues_status", "status"),
    sa.Index("ix_clues_subject_id", "subject_id"),
    sa.Index("ix_clues_rectification", "rectification"),
    # revision 0004: covers the per-model ranking of the recommended filter and the QC sample (a narrow
    # scan instead of the wide rows, evidence included)
    sa.Index("ix_clues_model_rank", "model_id", sa.desc("score"), "clue_id", "status", "lifecycle", "subject_id"),
    # revision 0005: the queue's filter options (models, rules, counties) from one narrow index scan
    sa.Index("ix_clues_facets", "model_id", "rule_id", "county"),
)

decision_events = sa.Table(
    "decision_events", metadata,
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

users = sa.Table(
    "users", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(100), nullable=False, unique=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("password_hash", sa.Text, nullable=False),
    sa.Column("models", sa.Text),       # JSON list of model ids; NULL: every model
    sa.Column("counties", sa.Text),     # JSON list of counties (区县); NULL: every county
    sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("failed_logins", sa.Integer, nullable=False, server_default="0"),
    sa.Column("locked_until", sa.DateTime),
    sa.Column("created_at", sa.DateTime, nullable=False),
)

api_tokens = sa.Table(
    "api_tokens", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("revoked", sa.Boolean, nullable=False, server_default=sa.false()),
)

audit_log = sa.Table(
    "audit", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("ts", sa.DateTime, nullable=False, index=True),
    sa.Column("user", sa.String(100)),
    sa.Column("action", sa.String(32), nullable=False, index=True),
    sa.Column("details", sa.Text),
)

suppressions = sa.Table(
    "suppressions", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("model_id", sa.String(100), nullable=False),
    sa.Column("subject_id", sa.String(200), nullable=False),
    sa.Column("until", sa.Date, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("user", sa.String(100), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    # lifted early (revision 0004): the row stays, with who lifted it and when
    sa.Column("lifted_at", sa.DateTime),
    sa.Column("lifted_by", sa.String(100)),
    sa.Index("ix_suppressions_model_subject", "model_id", "subject_id"),
)

# Per-model settings (revision 0004): the share (percent) of the model's open clues marked 优先核查
# (recommended); NULL or no row: none of its clues are recommended.
model_settings = sa.Table(
    "model_settings", metadata,
    sa.Column("model_id", sa.String(100), primary_key=True),
    sa.Column("recommended_percent", sa.Float),
    sa.Column("updated_by", sa.String(100), nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)


recommendations = sa.Table(
    "recommendations", metadata,
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

# What the queue's search finds a clue by: its subject's name (kind "name", matched as a substring) and every
# ID number of its subject and evidence (kind "id", matched whole) — a narrow indexed table, so a search
# never scans the clues' evidence. Rewritten for each clue a run publishes.
clue_search = sa.Table(
    "clue_search", metadata,
    sa.Column("clue_id", sa.String(64), sa.ForeignKey("clues.clue_id"), primary_key=True),
    sa.Column("kind", sa.String(8), primary_key=True),
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Index("ix_clue_search_key", "kind", "key", "clue_id"),
)

recommendation_clues = sa.Table(
    "recommendation_clues", metadata,
    sa.Column("recommendation_id", sa.Integer, sa.ForeignKey("recommendations.id"), primary_key=True),
    sa.Column("clue_id", sa.String(64), sa.ForeignKey("clues.clue_id"), primary_key=True, index=True),
)

transfers = sa.Table(
    "transfers", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("clue_id", sa.String(64), sa.ForeignKey("clues.clue_id"), nullable=False, index=True),
    sa.Column("to_agency", sa.String(16), nullable=False),
    sa.Column("case_number", sa.String(200), nullable=False),
    sa.Column("transferred_on", sa.Date, nullable=False),
    sa.Column("note", sa.Text),
    sa.Column("created_by", sa.String(100), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
)


def utcnow() -> dt.datetime:
    """Timestamps are stored as naive UTC (the same on SQLite and PostgreSQL)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def resolve_url(store: str | None, runs_dir: Path) -> str:
    """``--store`` first, then ``LSM_STORE``, then ``sqlite:///<runs_dir>/review.db``."""
    url = store or os.environ.get(STORE_ENV)
    if url:
        return url
    runs_dir.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{(runs_dir / 'review.db').resolve()}"


def store_configured(store: str | None) -> bool:
    return bool(store or os.environ.get(STORE_ENV))


def _engine(url: str) -> Engine:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    engine = sa.create_engine(url, future=True, pool_pre_ping=True)
    if engine.dialect.name == "sqlite":
        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=10000")
            cur.close()
    return engine


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Run the Alembic migrations up to ``revision`` on this engine (programmatically, no ini file)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


@dataclass
class Store:
    url: str
    engine: Engine

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def dispose(self) -> None:
        self.engine.dispose()


def open_store(url: str, migrate: bool = True, revision: str = "head") -> Store:
    """Connect, and bring the schema up to the newest revision (an upgrade never drops review data)."""
    engine = _engine(url)
    if migrate:
        upgrade(engine, revision)
    return Store(url, engine)


def audit(conn: Connection, user: str | None, action: str, details: dict | None = None) -> None:
    """Append one audit row (the audit table is append-only: nothing in the service updates or deletes it).
    ``details`` must never hold a full ID number (callers pass masked values or counts)."""
    conn.execute(sa.insert(audit_log).values(
        ts=utcnow(), user=user, action=action,
        details=json.dumps(details or {}, ensure_ascii=False, default=str)))
