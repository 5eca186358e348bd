"""Parity: all ten models on the sample data with ``--engine spark`` give exactly the DuckDB run's clues.

Same clue ids, rules and subjects, amounts to the fen, ranks and scores, periods and summaries, and
the same evidence — its source rows (dataset, file, row) and every other field of the JSON. Spark runs
in local mode (Java 17); ``pytest -m spark`` runs these alone.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from conftest import SAMPLE_AS_OF, run_lsm

pytestmark = [pytest.mark.spark, pytest.mark.slow]
COMPARED = ["rule_id", "subject_type", "subject_id", "subject_name", "amount", "rank", "score", "confidence",
            "period_start", "period_end", "summary"]


@pytest.fixture(scope="module")
def spark_run(sample_root, tmp_path_factory):
    out = tmp_path_factory.mktemp("spark-runs")
    proc = run_lsm("run", "--engine", "spark", "--data", str(sample_root), "--out", str(out), "--as-of", SAMPLE_AS_OF,
                   "--threads", "2", "--json", timeout=1800)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return Path(json.loads(proc.stdout)["run_dir"])


def _clues(run_dir: Path) -> dict[str, dict]:
    return {row["clue_id"]: row for row in pq.read_table(run_dir / "clues.parquet").to_pylist()}


def test_every_model_gives_the_same_clues_on_both_engines(sample_run, spark_run):
    duckdb_clues, spark_clues = _clues(sample_run[1]), _clues(spark_run)
    assert len(duckdb_clues) > 200
    assert set(spark_clues) == set(duckdb_clues)
    for clue_id, expected in duckdb_clues.items():
        got = spark_clues[clue_id]
        assert {c: got[c] for c in COMPARED} == {c: expected[c] for c in COMPARED}, clue_id


def test_the_evidence_is_the_same_source_rows_and_fields(sample_run, spark_run):
    duckdb_clues, spark_clues = _clues(sample_run[1]), _clues(spark_run)
    for clue_id, expected in duckdb_clues.items():
        a, b = json.loads(expected["evidence"]), json.loads(spark_clues[clue_id]["evidence"])
        rows = sorted((s["dataset"], s["file"], s["row"]) for s in a["sources"])
        assert rows and sorted((s["dataset"], s["file"], s["row"]) for s in b["sources"]) == rows, clue_id
        assert b == a, clue_id


def test_the_spark_run_directory_follows_the_contract(spark_run):
    manifest = json.loads((spark_run / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["engine"] == "spark" and manifest["status"] == "ok"
    assert manifest["spark"]["master"].startswith("local")
    assert {m["status"] for m in manifest["models"]} == {"ok"} and len(manifest["models"]) == 10
    for name in ("clues.parquet", "clues.csv", "clues.xlsx", "quarantine.parquet", "report.html"):
        assert (spark_run / name).stat().st_size > 0
