"""The store: migrations, SQLite pragmas, upgrades that keep data, the schema matching the code."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from engine.review.publish import publish_run
from engine.review.store import HEAD, clue_search, clues, current_revision, metadata, open_store, upgrade
from engine.review.users import add_user, check_login
from tests.review.runbuilder import clue, write_run


def test_sqlite_pragmas(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'r.db'}")
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    store.dispose()


DESC_INDEXES = {"ix_clues_model_rank": ["model_id", "score", "clue_id", "status", "lifecycle", "subject_id"]}


def test_schema_matches_code(store):
    assert current_revision(store.engine) == HEAD
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
        if store.dialect == "sqlite":
            # Alembic does not reflect a descending column of a SQLite index (it reports the index removed and
            # added again): check those with PRAGMA index_xinfo instead — same columns, score descending.
            diff = [d for d in diff if not (d[0] in ("add_index", "remove_index") and d[1].name in DESC_INDEXES)]
            for name, columns in DESC_INDEXES.items():
                info = conn.exec_driver_sql(f"PRAGMA index_xinfo({name})").all()
                keys = [(r[2], r[3]) for r in info if r[5]]     # (column, desc) of the key columns
                assert keys == [(c, int(c == "score")) for c in columns]
    assert diff == []


def test_upgrade_from_first_revision_keeps_data(store_url, tmp_path):
    old = open_store(store_url, revision="0001")
    assert current_revision(old.engine) == "0001"
    with old.engine.connect() as conn:
        assert not sa.inspect(conn).has_table("suppressions")
    publish_run(old, write_run(tmp_path / "runs", "r1", [clue("c1"), clue("c2", score=50)]))
    add_user(old, "zhang", "prosecutor", "password-1")
    old.dispose()

    upgraded = open_store(store_url)
    assert current_revision(upgraded.engine) == HEAD
    with upgraded.engine.connect() as conn:
        assert sa.inspect(conn).has_table("suppressions") and sa.inspect(conn).has_table("model_settings")
        assert {"lifted_at", "lifted_by"} <= {c["name"] for c in sa.inspect(conn).get_columns("suppressions")}
        assert sorted(conn.execute(sa.select(clues.c.clue_id)).scalars()) == ["c1", "c2"]
        # revision 0005 indexed the clues already there for the search: the subject's name and every ID number
        keys = conn.execute(sa.select(clue_search.c.clue_id, clue_search.c.kind, clue_search.c.key)
                            .order_by(clue_search.c.clue_id, clue_search.c.kind, clue_search.c.key)).all()
        assert [tuple(k) for k in keys] == [
            (c, kind, key) for c in ("c1", "c2") for kind, key in
            (("id", "510104198001010014"), ("id", "510105199001010023"), ("name", "张伟"))]
    user, why = check_login(upgraded, "zhang", "password-1")
    assert why == "ok" and user.role == "prosecutor"
    upgrade(upgraded.engine)  # idempotent at head
    upgraded.dispose()
