"""Every shipped model on generated data: precision and recall 1.0 per model and rule, amounts to the fen."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from conftest import SAMPLE_AS_OF, run_lsm

from sample_data.generate import generate


def evaluate(clues: list[dict], truth: dict) -> dict[tuple[str, str], dict]:
    report = {}
    for model, rules in truth["models"].items():
        for rule, expected in rules.items():
            found = {c["subject_id"]: c for c in clues if c["model_id"] == model and c["rule_id"] == rule}
            hits = set(found) & set(expected)
            exact = [s for s in hits if expected[s]["amount"] is None
                     or Decimal(expected[s]["amount"]) == found[s]["amount"]]
            report[(model, rule)] = {
                "expected": len(expected), "found": len(found),
                "precision": len(hits) / len(found) if found else 1.0,
                "recall": len(hits) / len(expected) if expected else 1.0,
                "amount_accuracy": len(exact) / len(hits) if hits else 1.0,
                "missing": sorted(set(expected) - set(found)), "extra": sorted(set(found) - set(expected)),
                "confidence_ok": all(abs(found[s]["confidence"] - expected[s]["confidence"]) < 1e-9
                                     for s in hits if "confidence" in expected[s]),
            }
    return report


def assert_perfect(report):
    for key, r in report.items():
        assert r["expected"] > 0, f"{key}: the truth plants no case"
        assert (r["precision"], r["recall"], r["amount_accuracy"]) == (1.0, 1.0, 1.0), (key, r)
        assert r["confidence_ok"], key


def test_default_seed_every_model_exact(sample_run):
    _, run_dir, payload, truth = sample_run
    clues = pq.read_table(run_dir / "clues.parquet").to_pylist()
    report = evaluate(clues, truth)
    assert {m for m, _ in report} >= {"prisoner_dibao", "prisoner_pension", "deceased_pension", "deceased_dibao"}
    assert_perfect(report)
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
