"""`lsm test`: the tests written inside model files pass, and a wrong expectation fails loudly."""

from __future__ import annotations

import json
import shutil

from conftest import REPO, run_lsm


def test_every_shipped_model_passes_its_in_file_tests():
    proc = run_lsm("test", "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    outcomes = json.loads(proc.stdout)
    per_model: dict = {}
    for o in outcomes:
        per_model.setdefault(o["model"], []).append(o["passed"])
    from test_evaluation import ALL_MODELS

    assert set(per_model) == ALL_MODELS
    for model in ALL_MODELS:  # every model has in-file tests (its near misses), and they pass
        assert len(per_model[model]) >= 2 and all(per_model[model]), model
        assert len(per_model[model]) >= 2  # at least one violation and one near miss


def test_a_wrong_expectation_fails_and_says_why(tmp_path):
    models = tmp_path / "models"
    shutil.copytree(REPO / "models", models)
    path = models / "deceased_pension.yaml"
    text = path.read_text(encoding="utf-8")
    # Claim the death month itself is improper: the model (correctly) disagrees.
    text = text.replace("amount: 2400, period_start: 2023-04-01", "amount: 3600, period_start: 2023-03-01")
    path.write_text(text, encoding="utf-8")
    proc = run_lsm("test", "--models", str(models), "--model", "deceased_pension")
    assert proc.returncode == 1
    assert "FAIL deceased_pension" in proc.stdout
    assert "amount 2400.00, expected 3600" in proc.stdout and "period_start 2023-04-01, expected 2023-03-01" in proc.stdout


def test_unreadable_given_rows_fail_the_test(tmp_path):
    models = tmp_path / "models"
    shutil.copytree(REPO / "models", models)
    path = models / "deceased_pension.yaml"
    text = path.read_text(encoding="utf-8").replace("death_date: 2023-03-20", "death_date: 2023-02-30")
    path.write_text(text, encoding="utf-8")
    proc = run_lsm("test", "--models", str(models), "--model", "deceased_pension")
    assert proc.returncode == 1 and "would be quarantined" in proc.stdout and "2023-02-30" in proc.stdout
