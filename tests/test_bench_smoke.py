"""The province-scale benchmark (bench/run.py) from a fresh clone, at a tiny scale: it runs, checks the
planted truth, and writes every key of CONTRACT.md → Province-scale benchmark. No timing is asserted.
Plus the generator's building blocks, checked against independent oracles (python-stdnum)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from stdnum.cn import ric, uscc

from sample_data.people import GIVEN

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # bench/ is not an installed package

from bench.province.population import BACKGROUND_GIVEN, credit_codes, person_table  # noqa: E402
from bench.province.timeline import add_years, explode  # noqa: E402

CONTRACT_KEYS = {"date", "scale", "machine", "rows_total", "truth_ok", "nightly_seconds", "peak_rss_mb",
                 "scan_bound_seconds", "ingest_rows_per_s", "models", "pandas", "spill"}
MODELS = {"prisoner_dibao", "prisoner_pension", "deceased_pension", "deceased_dibao", "drug_user_license",
          "food_ban_license", "penalty_not_transferred", "wage_deposit", "loan_interest_tax", "school_staff_offender"}


def test_background_people_have_valid_distinct_ids_and_names_unlike_the_sample_generator():
    people = person_table(np.random.default_rng(1), "pension", 5000, born=(1938, 1962)).to_pylist()
    ids = [p["id_number"] for p in people]
    assert len(set(ids)) == len(ids) and all(ric.is_valid(i) for i in ids)
    assert all(ric.get_birth_date(p["id_number"]) == p["birth_date"] for p in people)
    assert all(p["person_name"][-1] not in GIVEN for p in people)  # the sample's names end in a GIVEN character
    assert not set(BACKGROUND_GIVEN) & set(GIVEN)
    codes = credit_codes(np.arange(0, 10**7, 99_991), np.full(101, 510121)).to_pylist()
    assert len(set(codes)) == len(codes) and all(uscc.is_valid(c) for c in codes)


def test_months_explode_and_years_keep_the_calendar_day():
    owners, months = explode(np.array([7, 8, 9]), np.array([2, 5, 0]), np.array([4, 4, 0]))
    assert owners.tolist() == [7, 7, 7, 9] and months.tolist() == [2, 3, 4, 0]
    days = np.array(["2020-02-29", "2021-03-31"], dtype="datetime64[D]")
    assert add_years(days, 3).astype(str).tolist() == ["2023-02-28", "2024-03-31"]


@pytest.mark.slow
def test_the_harness_runs_checks_its_truth_and_writes_every_contract_key(tmp_path):
    out = tmp_path / "results"
    proc = subprocess.run([sys.executable, str(REPO / "bench" / "run.py"), "--scale", "0.0002", "--out", str(out),
                           "--work", str(tmp_path / "work"), "--skip-spill", "--pandas-scale", "0.0002"],
                          capture_output=True, text=True, timeout=1200, cwd=REPO, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads((out / "scale.json").read_text(encoding="utf-8"))
    assert set(results) == CONTRACT_KEYS
    assert results["truth_ok"] is True and results["rows_total"] > 0
    assert set(results["ingest_rows_per_s"]) == {"csv_utf8", "csv_gb18030"}
    assert set(results["models"]) == MODELS
    assert all(set(row) == {"engine_s", "baseline_s"} for row in results["models"].values())
    assert set(results["pandas"]) == {"prisoner_dibao", "prisoner_pension", "deceased_pension", "deceased_dibao"}
    assert all(set(row) == {"engine_s", "pandas_s"} for row in results["pandas"].values())
    assert set(results["spill"]) == {"scale", "memory_limit", "rows_total", "seconds", "ok"}
    details = json.loads((out / "scale-details.json").read_text(encoding="utf-8"))
    assert details["baseline_mismatches"] == [] and details["nightly"]["truth"]["problems"] == []
    assert not (tmp_path / "work" / "runs").exists() or not any((tmp_path / "work" / "runs").iterdir())
    # The spill night alone, merged into the same files (at a tiny scale and memory limit).
    proc = subprocess.run([sys.executable, str(REPO / "bench" / "run.py"), "--scale", "0.0002", "--out", str(out),
                           "--work", str(tmp_path / "work"), "--spill-only", "--spill-scale", "0.0003",
                           "--spill-memory-limit", "256MB"],
                          capture_output=True, text=True, timeout=1200, cwd=REPO, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    merged = json.loads((out / "scale.json").read_text(encoding="utf-8"))
    assert merged["spill"]["ok"] is True and merged["spill"]["memory_limit"] == "256MB"
    assert merged["spill"]["rows_total"] > results["rows_total"] and merged["models"] == results["models"]
    spill = json.loads((out / "scale-details.json").read_text(encoding="utf-8"))["spill"]
    assert spill["shipped_gates"]["truth"]["problems"] == [] and spill["shipped_gates"]["duckdb"]["memory_limit"]
