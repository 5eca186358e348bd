"""Datasets served from PostgreSQL (``connections.yaml``), against a real server started for the session.

The sample data's 低保 payments (25 monthly CSV files in three encodings and two header languages)
are loaded into a PostgreSQL table as the raw cells they hold; a data root that serves
``dibao_payments`` from that table instead of the files gives exactly the same clues, accounting and
quarantine. An unreachable server, a missing table or an unset variable is a clear error for that
dataset alone; a hostile ``connections.yaml`` is refused, located.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import psycopg
import pyarrow.parquet as pq
import pytest
from conftest import REPO, SAMPLE_AS_OF, run_lsm
from psycopg import sql

from connectors.files import discover, open_file
from engine.ingest.ingest import Staging, ingest, map_headers
from engine.spec.catalog import load_catalogue
from engine.spec.errors import SpecError

pytestmark = pytest.mark.postgres
CATALOGUE = load_catalogue(REPO / "models" / "sources.yaml")
DIBAO = CATALOGUE.dataset("dibao_payments")


def _load_raw_cells(dsn: str, files: list[Path]) -> int:
    """Every file's raw cells, mapped to the canonical columns, into one table of text columns."""
    columns = list(DIBAO.column_names)
    rows = []
    for path in files:
        raw = open_file(path)
        mapping = map_headers(raw.headers, DIBAO)
        cells = raw.table.to_pydict()
        for i in range(raw.table.num_rows):
            row = tuple(cells[f"c{mapping.columns[c]}"][i] for c in columns)
            if any(v.strip() for v in row):  # blank lines are not rows, in a file or a table
                rows.append(row)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE TABLE public.dibao_payments ({})").format(
            sql.SQL(", ").join(sql.SQL("{} text").format(sql.Identifier(c)) for c in columns)))
        with conn.cursor().copy(sql.SQL("COPY public.dibao_payments ({}) FROM STDIN").format(
                sql.SQL(", ").join(sql.Identifier(c) for c in columns))) as copy:
            for row in rows:
                copy.write_row(row)
    return len(rows)


@pytest.fixture(scope="module")
def agency_db(postgres_server, sample_root):
    dsn = postgres_server.create_database("agency")
    files = discover(sample_root, DIBAO.file_patterns)
    assert len(files) > 20
    rows = _load_raw_cells(dsn, files)
    return dsn, rows


def _root_with_connections(sample_root: Path, target: Path, connections: str) -> Path:
    shutil.copytree(sample_root, target, ignore=shutil.ignore_patterns("dibao_payments*"))
    (target / "connections.yaml").write_text(connections, encoding="utf-8")
    return target


CONNECTIONS = "datasets:\n  dibao_payments:\n    postgres: {dsn_env: LSM_TEST_PG, table: public.dibao_payments}\n"


def test_a_table_is_ingested_like_the_files_it_came_from(agency_db, sample_root, tmp_path, monkeypatch):
    dsn, loaded = agency_db
    monkeypatch.setenv("LSM_TEST_PG", dsn)
    root = _root_with_connections(sample_root, tmp_path / "data", CONNECTIONS)
    from_db = ingest(CATALOGUE, root, Staging(tmp_path / "s1"), ["dibao_payments"]).dataset("dibao_payments")
    from_files = ingest(CATALOGUE, sample_root, Staging(tmp_path / "s2"), ["dibao_payments"]).dataset("dibao_payments")
    assert from_db.error is None and from_db.file_errors == []
    assert (from_db.rows_read, from_db.rows_accepted, from_db.rows_quarantined, from_db.rows_duplicate) == (
        from_files.rows_read, from_files.rows_accepted, from_files.rows_quarantined, from_files.rows_duplicate)
    assert from_db.rows_read == loaded and from_db.balanced
    [source] = from_db.to_manifest()["files"]
    assert source["path"] == "postgresql:public.dibao_payments" and source["encoding"] is None
    assert len(source["sha256"]) == 64
    reasons = sorted(q["reason"] for q in pq.read_table(from_db.quarantine).to_pylist())
    assert reasons == sorted(q["reason"] for q in pq.read_table(from_files.quarantine).to_pylist())


def test_a_run_on_the_database_gives_the_same_clues(agency_db, sample_root, sample_run, tmp_path):
    dsn, _ = agency_db
    root = _root_with_connections(sample_root, tmp_path / "data", CONNECTIONS)
    env_proc = run_lsm("run", "--data", str(root), "--out", str(tmp_path / "out"), "--as-of", SAMPLE_AS_OF, "--json",
                       env={"LSM_TEST_PG": dsn})
    assert env_proc.returncode == 0, env_proc.stderr[-2000:]
    run_dir = Path(json.loads(env_proc.stdout)["run_dir"])
    mine = pq.read_table(run_dir / "clues.parquet").select(["clue_id", "amount", "rank", "summary"]).to_pylist()
    expected = pq.read_table(sample_run[1] / "clues.parquet").select(["clue_id", "amount", "rank", "summary"]).to_pylist()
    assert sorted(mine, key=lambda r: r["clue_id"]) == sorted(expected, key=lambda r: r["clue_id"])
    evidence = [json.loads(e) for e in pq.read_table(run_dir / "clues.parquet").column("evidence").to_pylist()]
    assert any(s["file"] == "postgresql:public.dibao_payments" for e in evidence for s in e["sources"])


def test_a_query_source(agency_db, sample_root, tmp_path, monkeypatch):
    dsn, _ = agency_db
    monkeypatch.setenv("LSM_TEST_PG", dsn)
    query = "SELECT * FROM public.dibao_payments WHERE county = '锦江区'"
    root = _root_with_connections(sample_root, tmp_path / "data", "datasets:\n  dibao_payments:\n    postgres:\n"
                                  f"      dsn_env: LSM_TEST_PG\n      query: \"{query}\"\n")
    result = ingest(CATALOGUE, root, Staging(tmp_path / "s"), ["dibao_payments"]).dataset("dibao_payments")
    with psycopg.connect(dsn) as conn:
        expected = conn.execute("SELECT count(*) FROM public.dibao_payments WHERE county = '锦江区'").fetchone()[0]
    assert result.rows_read == expected > 0
    assert result.files[0].path.startswith("postgresql:query:")


@pytest.mark.parametrize("connections,env,fragment", [
    (CONNECTIONS, {"LSM_TEST_PG": "postgresql://postgres@127.0.0.1:1/agency"}, "could not be read"),
    (CONNECTIONS.replace("public.dibao_payments", "public.no_such_table"), None, "does not exist"),
    (CONNECTIONS, {}, "holds no connection string"),
])
def test_an_unreadable_source_skips_only_its_models(agency_db, sample_root, tmp_path, connections, env, fragment):
    dsn, _ = agency_db
    root = _root_with_connections(sample_root, tmp_path / "data", connections)
    proc = run_lsm("run", "--data", str(root), "--out", str(tmp_path / "out"), "--as-of", SAMPLE_AS_OF, "--json",
                   env={"LSM_TEST_PG": dsn} if env is None else env)
    assert proc.returncode == 3, proc.stderr[-2000:]
    models = json.loads(proc.stdout)["models"]
    assert {m for m, v in models.items() if v["status"] == "skipped"} == {"prisoner_dibao", "deceased_dibao"}
    assert all(v["status"] == "ok" for m, v in models.items() if m not in ("prisoner_dibao", "deceased_dibao"))
    assert fragment in models["prisoner_dibao"]["reason"]
    assert dsn not in proc.stdout + proc.stderr


@pytest.mark.parametrize("connections,fragment", [
    ('datasets:\n  dibao_payments:\n    postgres: {dsn_env: X, table: "t; DROP TABLE t"}\n', "is not a table name"),
    ('datasets:\n  dibao_payments:\n    postgres: {dsn_env: X, query: "DELETE FROM t"}\n', "exactly one SELECT"),
    ('datasets:\n  dibao_payments:\n    postgres: {dsn_env: X, query: "SELECT 1; SELECT 2"}\n', "exactly one SELECT"),
    ('datasets:\n  dibao_payments:\n    postgres: {dsn_env: "postgresql://u:p@h/db", table: t}\n', "environment variable"),
    ('datasets:\n  no_such_dataset:\n    postgres: {dsn_env: X, table: t}\n', "the catalogue does not have"),
])
def test_a_hostile_connections_file_is_refused_located(tmp_path, connections, fragment):
    (tmp_path / "connections.yaml").write_text(connections, encoding="utf-8")
    with pytest.raises(SpecError) as caught:
        ingest(CATALOGUE, tmp_path, Staging(tmp_path / "s"), ["dibao_payments"])
    assert fragment in caught.value.render()
    assert all(p.location.file.endswith("connections.yaml") for p in caught.value.problems)


def test_sources_lists_a_database_source_instead_of_files(sample_root, tmp_path):
    root = _root_with_connections(sample_root, tmp_path / "data", CONNECTIONS)
    shutil.copy(next(iter(discover(sample_root, DIBAO.file_patterns))), root)  # a stray file is not read
    proc = run_lsm("sources", "--data", str(root), "--json")
    assert proc.returncode == 0, proc.stderr
    datasets = {d["dataset"]: d for d in json.loads(proc.stdout)["datasets"]}
    assert datasets["dibao_payments"]["database"] == "postgresql:public.dibao_payments ($LSM_TEST_PG)"
    assert datasets["dibao_payments"]["files"] == []
    assert datasets["prison_roster"]["database"] is None and datasets["prison_roster"]["files"]
    table = run_lsm("sources", "--data", str(root))
    assert "postgresql:public.dibao_payments" in table.stdout
