"""lsm publish: new, persisting, resolved, changed since decision, idempotence; the CLI; nightly."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from engine.review.publish import publish_run
from engine.review.store import audit_log, clues, decision_events, open_store
from tests.review.runbuilder import clue, write_run

LSM = Path(os.environ.get("VIRTUAL_ENV", Path(__file__).resolve().parents[2] / ".venv")) / "bin" / "lsm"


def _rows(store, table=clues):
    with store.engine.connect() as conn:
        return {r.clue_id: r._asdict() for r in conn.execute(sa.select(table))}


def _decide(store, clue_id, status="confirmed"):
    with store.engine.begin() as conn:
        conn.execute(sa.update(clues).where(clues.c.clue_id == clue_id)
                     .values(status=status, version=clues.c.version + 1, assignee="zhang"))
        conn.execute(sa.insert(decision_events).values(
            clue_id=clue_id, ts=dt.datetime(2024, 7, 1), user="zhang", previous_status="pending",
            new_status=status, version=2))


def test_publish_lifecycle(store, tmp_path):
    runs = tmp_path / "runs"
    first = publish_run(store, write_run(runs, "r1", [
        clue("a"), clue("b", amount="500.00"), clue("c", score=10), clue("x", model_id="m_other")]))
    assert (first.inserted, first.updated, first.resolved) == (4, 0, 0)
    rows = _rows(store)
    assert rows["a"]["county"] == "锦江区" and rows["a"]["legal_basis"] == "《社会救助暂行办法》第十三条"
    assert rows["a"]["status"] == "pending" and rows["a"]["version"] == 1 and rows["a"]["lifecycle"] == "new"
    assert rows["a"]["subject_id"] == "510104198001010014"  # the store keeps the full number

    _decide(store, "a")
    _decide(store, "b")
    # r2: a persists with a larger amount, b persists unchanged, c is gone, d is new; m_other did not run.
    second = publish_run(store, write_run(runs, "r2", [
        clue("a", amount="1500.00", score=95), clue("b", amount="500.00"), clue("d")],
        states={"a": "persisting", "b": "persisting"}, models=["m_dibao"]))
    assert (second.inserted, second.updated, second.resolved, second.changed_since_decision) == (1, 2, 1, 1)
    rows = _rows(store)
    assert rows["a"]["status"] == "confirmed" and rows["a"]["version"] == 2 and rows["a"]["assignee"] == "zhang"
    assert float(rows["a"]["amount"]) == 1500.0 and rows["a"]["score"] == 95 and rows["a"]["lifecycle"] == "persisting"
    assert rows["a"]["changed_since_decision"] is True and rows["a"]["first_run"] == "r1"
    assert rows["a"]["last_run"] == "r2"
    assert rows["b"]["changed_since_decision"] is False
    assert rows["c"]["lifecycle"] == "resolved"          # kept, never deleted
    assert rows["x"]["lifecycle"] == "new"               # its model did not run in r2
    assert rows["d"]["lifecycle"] == "new"
    with store.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(decision_events)).scalar_one() == 2

    # c comes back: reopened
    publish_run(store, write_run(runs, "r3", [clue("a", amount="1500.00", score=95), clue("c", score=10)],
                                 states={"a": "persisting", "c": "reopened"}, models=["m_dibao"]))
    rows = _rows(store)
    assert rows["c"]["lifecycle"] == "reopened" and rows["b"]["lifecycle"] == "resolved"


def test_republishing_changes_nothing(store, tmp_path):
    run = write_run(tmp_path / "runs", "r1", [clue("a"), clue("b", amount="20.50", score=12.5)])
    publish_run(store, run)
    _decide(store, "a")
    before = _rows(store), _rows(store, decision_events)
    again = publish_run(store, run)
    assert (again.inserted, again.resolved, again.changed_since_decision) == (0, 0, 0)
    assert (_rows(store), _rows(store, decision_events)) == before
    with store.engine.connect() as conn:
        actions = conn.execute(sa.select(audit_log.c.action)).scalars().all()
    assert actions == ["publish", "publish"]


def test_cli_publish_and_nightly_flag(tmp_path):
    runs = tmp_path / "runs"
    run = write_run(runs, "r1", [clue("a"), clue("b")])
    proc = subprocess.run([str(LSM), "publish", str(run), "--json"], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["inserted"] == 2
    store = open_store(f"sqlite:///{runs / 'review.db'}")   # the default: review.db in the runs directory
    assert set(_rows(store)) == {"a", "b"}
    store.dispose()
    bad = subprocess.run([str(LSM), "publish", str(tmp_path)], capture_output=True, text=True, check=False)
    assert bad.returncode == 2
    helptext = subprocess.run([str(LSM), "nightly", "--help"], capture_output=True, text=True, check=False).stdout
    assert "--store" in helptext


@pytest.mark.postgres
def test_publish_leaves_postgres_statistics_current(postgres_server, tmp_path):
    """The planner's row counts describe the published store (VACUUM ANALYZE after the publish), so
    the queue's ranking is not planned for an empty table."""
    store = open_store(postgres_server.create_database("review_stats_" + uuid.uuid4().hex[:8]))
    rows = [clue(f"s{i}", subject_id=f"51010419800101{i:03d}4", score=float(i)) for i in range(300)]
    publish_run(store, write_run(tmp_path / "runs", "r1", rows))
    with store.engine.connect() as conn:
        counted = dict(conn.exec_driver_sql(
            "select relname, reltuples from pg_class where relname in ('clues', 'clue_search')").all())
    store.dispose()
    # each clue: its name, its own ID and the one other ID of the builder's evidence
    assert counted == {"clues": 300, "clue_search": 900}
