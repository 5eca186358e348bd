"""S1 defence in depth: even SQL that slipped past the compiler is refused by the guard and by DuckDB.

The guard (engine/execute/guard.py) refuses anything but one query or one temporary table/view made
from a query over known tables. Behind it, the sealed DuckDB connection (engine/execute/connection.py)
refuses COPY, ATTACH, read_text, INSTALL/LOAD and changing its own settings — tested here by sending
them to the engine's connection directly, as if every check before had failed.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from sqlglot import exp, parse_one

from engine.execute.backend import InputsChanged, ModelRunError
from engine.execute.duckdb_backend import DuckDBBackend
from engine.execute.guard import StatementRefused, checked_sql
from engine.plan.steps import ModelPlan, RelationStep
from engine.sql import create_statement, select_all, table_ref

CANARY = Path("/tmp/lsm-s1-engine-canary")


@pytest.fixture
def backend(tmp_path):
    CANARY.unlink(missing_ok=True)
    b = DuckDBBackend.in_memory(tmp_path / "spill")
    b.create_from_arrow("ds_people", pa.table({"name": ["张伟", "李娜"], "n": [1, 2]}))
    yield b
    b.close()
    assert not CANARY.exists()


@pytest.mark.parametrize("sql", [
    f"COPY (SELECT 1) TO '{CANARY}'",
    f"ATTACH '{CANARY}' AS x",
    "INSTALL httpfs",
    "LOAD httpfs",
    "PRAGMA database_list",
    "SET enable_external_access = true",
    "SELECT 1; SELECT 2",
    "DROP TABLE ds_people",
    "INSERT INTO ds_people VALUES ('x', 3)",
    "CREATE TABLE keep AS SELECT 1",  # not temporary
    "SELECT * FROM read_text('/etc/hostname')",
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM main.ds_people",
    "SELECT * FROM secrets",
    "CREATE TEMP VIEW v AS SELECT * FROM (SELECT * FROM read_parquet('/etc/x.parquet'))",
])
def test_the_guard_refuses_every_statement_but_a_query_or_a_temporary_object(backend, sql):
    with pytest.raises(StatementRefused):
        checked_sql(parse_one(sql, read="duckdb") if ";" not in sql else exp.Command(this=sql), backend.known)


def test_the_guard_refuses_an_ast_whose_text_is_two_statements():
    sneaky = exp.select(exp.column("x; COPY (SELECT 1) TO '/tmp/x'; --"))  # an identifier is always quoted …
    assert checked_sql(sneaky).startswith('SELECT "x; COPY')
    with pytest.raises(StatementRefused):  # … but a raw node that renders as text is caught on reading back
        checked_sql(exp.Command(this="SELECT 1; COPY (SELECT 1) TO '/tmp/x'"))


def test_the_guard_accepts_the_engines_own_statements(backend):
    query = exp.select("name").from_(table_ref("ds_people", "p")).where("p.n > 1")
    sql = checked_sql(create_statement("m_x__hits", query, view=True), backend.known)
    assert sql.startswith("CREATE OR REPLACE TEMPORARY VIEW m_x__hits AS SELECT")
    backend.execute(create_statement("m_x__hits", query, view=True))
    assert backend.table("m_x__hits").to_pylist() == [{"name": "李娜"}]


@pytest.mark.parametrize("sql", [
    f"COPY (SELECT 1) TO '{CANARY}'",
    f"ATTACH '{CANARY}' AS x",
    "SELECT content FROM read_text('/etc/hostname')",
    "SELECT * FROM read_csv('/etc/passwd')",
    "INSTALL httpfs",
    "LOAD httpfs",
])
def test_the_sealed_connection_itself_refuses_file_access(backend, sql):
    backend.seal()
    with pytest.raises(duckdb.Error) as caught:
        backend.con.execute(sql)  # straight to DuckDB, as if the compiler and the guard had both failed
    assert "disabled" in str(caught.value) or "Permission" in type(caught.value).__name__


def test_a_sealed_connection_cannot_be_unsealed(backend):
    backend.seal()
    with pytest.raises(duckdb.Error):
        backend.con.execute("SET enable_external_access = true")
    with pytest.raises(duckdb.Error):
        backend.con.execute("SET lock_configuration = false")
    with pytest.raises(duckdb.Error):
        backend.con.execute(f"COPY (SELECT 1) TO '{CANARY}'")


def test_the_sealed_connection_still_spills_to_its_own_folder(tmp_path):
    b = DuckDBBackend.in_memory(tmp_path / "spill", memory_limit="64MB", threads=1)
    try:
        b.seal()
        big = pa.table({"k": pa.array(range(3_000_000), pa.int64()),
                        "v": pa.array([f"值{i % 977}-{i}" for i in range(3_000_000)])})
        b.create_from_arrow("ds_big", big)
        query = exp.select(exp.Count(this=exp.Star())).from_(
            exp.select("v").from_(table_ref("ds_big")).group_by("v").order_by("v").subquery("s"))
        assert b.rows(query) == [(3_000_000,)]
    finally:
        b.close()


def test_a_model_past_its_time_limit_fails_alone_and_the_connection_goes_on(backend):
    rows = pa.table({"a": [f"名字{i:05d}" for i in range(20_000)]})
    backend.create_from_arrow("ds_slow", rows)
    pairs = exp.select(exp.Count(this=exp.Star()).as_("n")).from_(table_ref("ds_slow", "x")).join(
        table_ref("ds_slow", "y"), on="levenshtein(x.a, y.a) < 2", join_type="inner")
    slow = ModelPlan("slow", "1", "慢", "", "", "", "person", [], steps=[RelationStep(name="m_slow__all", query=pairs)])
    with pytest.raises(ModelRunError) as caught:
        backend.run_model(slow, timeout=1.0)
    assert "time limit of 1 s" in str(caught.value)
    assert backend.rows(select_all("ds_people").limit(1)) == [("张伟", 1)]


def _staged(tmp_path: Path) -> tuple[Path, Path]:
    """A staged dataset and, next to it, its quarantine file (which no model may read)."""
    folder = tmp_path / "staging" / "datasets"
    folder.mkdir(parents=True)
    staged, quarantine = folder / "people.parquet", folder / "people.quarantine.parquet"
    duckdb.sql(f"COPY (SELECT '张伟' AS name, 1 AS n) TO '{staged}' (FORMAT parquet)")
    duckdb.sql(f"COPY (SELECT 'raw cells' AS raw) TO '{quarantine}' (FORMAT parquet)")
    return staged, quarantine


def test_a_sealed_connection_reads_exactly_the_staged_files_of_its_views(tmp_path):
    staged, quarantine = _staged(tmp_path)
    b = DuckDBBackend.in_memory(tmp_path / "spill")
    try:
        b.load_dataset("people", staged)
        b.seal()
        assert b.rows(exp.select("name", "n").from_(table_ref("ds_people"))) == [("张伟", 1)]
        for path in (quarantine, Path("/etc/hostname")):  # straight to DuckDB, as if the guard had failed
            with pytest.raises(duckdb.Error) as caught:
                b.con.execute(f"SELECT * FROM read_parquet('{path}')")
            assert "disabled" in str(caught.value)
        with pytest.raises(duckdb.Error):
            b.con.execute("SET allowed_paths = ['/etc/hostname']")
        with pytest.raises(ModelRunError):
            b.load_dataset("late", quarantine)  # nothing can be made readable once sealed
    finally:
        b.close()


def test_a_staged_file_changed_while_the_models_run_stops_the_run(tmp_path):
    staged, _ = _staged(tmp_path)
    b = DuckDBBackend.in_memory(tmp_path / "spill")
    plan = ModelPlan("m", "1", "模型", "", "", "", "person", ["people"], steps=[
        RelationStep(name="m_m__all", query=select_all("ds_people"))])
    try:
        b.load_dataset("people", staged)
        assert b.run_model(plan).num_rows == 0  # no rules: no clues …
        assert b.table("m_m__all").to_pylist() == [{"name": "张伟", "n": 1}]  # … but the step read the view
        duckdb.sql(f"COPY (SELECT 'forged' AS name, 2 AS n) TO '{staged}' (FORMAT parquet)")
        with pytest.raises(InputsChanged) as caught:
            b.run_model(plan)
        assert str(staged) in str(caught.value) and "ingest again" in str(caught.value)
    finally:
        b.close()
