"""A dataset added without code (docs/examples/elderly_allowance): a ``*.sources.yaml`` file next to the
models declares 高龄津贴发放明细, a model reads it, and the same ingest, quarantine, accounting and quality
gates apply; the catalogue's parts are checked like the main file."""

from __future__ import annotations

import json
import shutil

import pyarrow.parquet as pq
import pytest
from conftest import REPO, SAMPLE_AS_OF, run_lsm

from engine.spec.errors import SpecError
from engine.spec.files import ModelFiles
from sample_data.elderly_allowance import write_elderly_allowance

EXAMPLE = REPO / "docs" / "examples" / "elderly_allowance"
MODEL = "deceased_elderly_allowance"


def models_with_example(tmp_path):
    models = tmp_path / "models"
    shutil.copytree(REPO / "models", models)
    for path in EXAMPLE.glob("*.yaml"):
        shutil.copy(path, models / path.name)
    return models


def test_the_part_joins_the_catalogue_and_the_model_its_tests_pass(tmp_path):
    models = models_with_example(tmp_path)
    files = ModelFiles(models)
    assert files.catalogue.names[-1] == "elderly_allowance" and len(files.catalogue.names) == 18
    assert files.catalogue.dataset("elderly_allowance").title == "高龄津贴发放明细"
    assert MODEL in [m.spec.id for m in files.load_models()]
    proc = run_lsm("test", "--models", str(models), "--model", MODEL)
    assert proc.returncode == 0 and "2 passed, 0 failed" in proc.stdout, proc.stdout + proc.stderr
    proc = run_lsm("sources", "--models", str(models), "--json")
    assert "elderly_allowance" in [d["dataset"] for d in json.loads(proc.stdout)["datasets"]]


@pytest.mark.slow
def test_the_new_dataset_runs_end_to_end_with_the_same_gates(tmp_path, sample_root):
    models = models_with_example(tmp_path)
    data = tmp_path / "data"
    shutil.copytree(sample_root, data)
    truth = write_elderly_allowance(data, tmp_path / "people")
    proc = run_lsm("run", "--models", str(models), "--data", str(data), "--out", str(tmp_path / "runs"),
                   "--as-of", SAMPLE_AS_OF, "--model", MODEL, "--json")
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    run_dir = tmp_path / "runs" / "latest"
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    entry = next(d for d in manifest["datasets"] if d["name"] == "elderly_allowance")
    assert entry["rows_quarantined"] == truth["quarantined"]
    assert entry["rows_accepted"] + entry["rows_quarantined"] + entry["rows_duplicate"] == entry["rows_read"]
    assert entry["rows_accepted"] == truth["rows"] - truth["quarantined"]
    assert {f["encoding"] for f in entry["files"]} >= {"gb18030"}
    checks = [q for q in manifest["quality"] if q["dataset"] == "elderly_allowance"]
    assert {q["check"] for q in checks} >= {"not_empty", "non_null_rate", "valid_id_rate", "unique"}
    assert all(q["passed"] for q in checks), [q for q in checks if not q["passed"]]
    quarantine = pq.read_table(run_dir / "quarantine.parquet").to_pylist()
    assert [q["source_file"] for q in quarantine if q["dataset"] == "elderly_allowance"] == \
        ["elderly_allowance/2024-03.csv"]
    clues = [c for c in pq.read_table(run_dir / "clues.parquet").to_pylist() if c["model_id"] == MODEL]
    assert {c["subject_id"]: int(c["amount"]) for c in clues} == truth["clues"]
    assert not {c["subject_id"] for c in clues} & set(truth["no_clue"])


def write(models, name, text):
    (models / name).write_text(text, encoding="utf-8")


def test_a_part_cannot_redeclare_a_dataset_or_set_catalogue_wide_keys(tmp_path):
    models = models_with_example(tmp_path)
    write(models, "more.sources.yaml", "version: 1\norg_name: {abbreviations: {}}\ndatasets:\n"
          "  death_records:\n    title: 又一个\n    agency: x\n    columns:\n      a: {type: text, zh: 甲}\n")
    with pytest.raises(SpecError) as caught:
        ModelFiles(models).catalogue  # noqa: B018
    text = caught.value.render(False)
    assert "more.sources.yaml:2:1: 'org_name' belongs in" in text, text
    assert "more.sources.yaml:4:3: dataset 'death_records' is already declared in" in text, text


def test_a_mistake_in_a_part_names_the_part_and_suggests(tmp_path):
    models = models_with_example(tmp_path)
    path = models / "elderly_allowance.sources.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("    grain:", "    grian:"), encoding="utf-8")
    with pytest.raises(SpecError) as caught:
        ModelFiles(models).catalogue  # noqa: B018
    text = caught.value.render(False)
    assert "elderly_allowance.sources.yaml:" in text and "did you mean 'grain'?" in text, text
