"""Every shipped model on generated data: precision and recall 1.0 per model and rule, amounts to the fen."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from conftest import SAMPLE_AS_OF, run_lsm

from sample_data.evaluate import evaluate, perfect, table
from sample_data.generate import generate

ALL_MODELS = {"prisoner_dibao", "prisoner_pension", "deceased_pension", "deceased_dibao", "drug_user_license",
              "food_ban_license", "penalty_not_transferred", "wage_deposit", "loan_interest_tax",
              "school_staff_offender"}
RULES = {"drug_user_license": {"not_cancelled", "issued_while_barred"},
         "wage_deposit": {"missing", "expired_guarantee", "arrears_unpaid"}}


def assert_perfect(report, models=frozenset(ALL_MODELS)):
    """1.0 for every model and rule, and every rule of every model planted (the table is the message)."""
    planted = {(m, r) for m, r in report}
    wanted = {(m, r) for m in models for r in RULES.get(m, {"default"})}
    assert wanted <= planted, f"the truth plants no case for {sorted(wanted - planted)}"
    failing = [key for key, row in report.items() if key[0] in models and not perfect(row)]
    assert not failing, f"not exact: {failing}\n{table(report)}"


def test_default_seed_every_model_exact(sample_run):
    _, run_dir, payload, truth = sample_run
    clues = pq.read_table(run_dir / "clues.parquet").to_pylist()
    assert_perfect(evaluate(clues, truth))
    assert all(m["status"] == "ok" for m in payload["models"].values())


def test_dataset_accounting_matches_the_truth(sample_run):
    _, run_dir, _, truth = sample_run
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    for d in manifest["datasets"]:
        planted = truth["datasets"][d["name"]]
        assert d["rows_read"] == planted["rows"], d["name"]
        assert d["rows_quarantined"] == planted["quarantined"], d["name"]
        assert d["rows_duplicate"] == planted["duplicates"], d["name"]


@pytest.mark.slow
def test_another_seed_every_model_exact(tmp_path: Path):
    root = tmp_path / "data"
    truth = generate(root, seed=7, scale=800)
    proc = run_lsm("run", "--data", str(root), "--out", str(tmp_path / "runs"), "--as-of", SAMPLE_AS_OF, "--json")
    assert proc.returncode == 0, proc.stderr
    clues = pq.read_table(Path(json.loads(proc.stdout)["run_dir"]) / "clues.parquet").to_pylist()
    assert_perfect(evaluate(clues, truth))
