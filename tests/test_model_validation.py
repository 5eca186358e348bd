"""Model files with mistakes or hostile expressions fail validation, each problem at its file:line."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from engine.project import Project
from engine.spec.errors import SpecError

REPO = Path(__file__).resolve().parent.parent
LSM = Path(sys.executable).parent / "lsm"

GOOD = """\
id: tiny
version: "1"
title: {zh: 小模型}
legal_basis: {citation: 测试}
subject_type: person
inputs:
  deaths: {dataset: death_records}
  payments: {dataset: pension_payments}
rules:
  - id: default
    from: payments
    join:
      - {to: deaths, on: deaths.id_number = payments.id_number}
    where: WHERE_CLAUSE
    clue:
      subject_id: payments.id_number
      subject_name: any_value(payments.person_name)
      summary: "{subject_name}"
"""


def models_dir(tmp_path: Path, files: dict[str, str]) -> Path:
    d = tmp_path / "models"
    d.mkdir()
    shutil.copy(REPO / "models" / "sources.yaml", d / "sources.yaml")
    for name, text in files.items():
        (d / name).parent.mkdir(parents=True, exist_ok=True)
        (d / name).write_text(text, encoding="utf-8")
    return d


@pytest.mark.parametrize("where,fragment", [
    ("read_csv('/etc/passwd') IS NOT NULL", "table functions"),
    ("payments.amount IN (SELECT amount FROM ds_dibao_payments)", "subqueries are not allowed"),
    ("glob('/home/*') IS NOT NULL", "glob() is not allowed"),
    ("payments.amount > 0; ATTACH 'x.db'", "one expression expected"),
    ("payments.secret_column > 0", "has no column 'secret_column'"),
])
def test_hostile_expressions_fail_validation_at_their_line(tmp_path, where, fragment):
    d = models_dir(tmp_path, {"tiny.yaml": GOOD.replace("WHERE_CLAUSE", f'"{where}"')})
    with pytest.raises(SpecError) as caught:
        Project(models_dir=d).validate()
    problem = caught.value.problems[0]
    assert problem.location.file.endswith("tiny.yaml") and problem.location.line == 14
    assert fragment in problem.message


def test_every_problem_in_a_file_is_reported_together(tmp_path):
    text = GOOD.replace("WHERE_CLAUSE", "payments.nope > 0").replace(
        "subject_id: payments.id_number", "subject_id: ghost.id_number").replace(
        "summary: \"{subject_name}\"", "summary: \"{subject_name} {unknown_value:yuan}\"")
    d = models_dir(tmp_path, {"tiny.yaml": text})
    with pytest.raises(SpecError) as caught:
        Project(models_dir=d).validate()
    lines = sorted(p.location.line for p in caught.value.problems)
    assert lines == [14, 16, 18]
    rendered = caught.value.render()
    assert "ghost" in rendered and "unknown_value" in rendered and "nope" in rendered


def test_structural_mistakes_are_located(tmp_path):
    text = GOOD.replace("WHERE_CLAUSE", "true").replace("dataset: death_records", "dataset: death_record").replace(
        "    from: payments\n", "    from: payments\n    bogus_key: 1\n")
    d = models_dir(tmp_path, {"tiny.yaml": text})
    with pytest.raises(SpecError) as caught:
        Project(models_dir=d).validate()
    messages = [p.render(with_source=False) for p in caught.value.problems]
    assert any(":12:" in m and "unknown key 'bogus_key'" in m for m in messages), messages


def test_unknown_dataset_and_template_parameters(tmp_path):
    template = ("template: t\nparameters:\n  ds: {description: x}\nsubject_type: person\n"
                "inputs:\n  a: {dataset: '${ds}'}\nrules:\n  - id: default\n    from: a\n"
                "    clue: {subject_id: a.id_number, subject_name: any_value(a.person_name), summary: '${missing}'}\n")
    model = ("id: m\nextends: t\nwith: {ds: nowhere, typo_param: 1}\nversion: '1'\ntitle: {zh: 甲}\n"
             "legal_basis: {citation: 乙}\n")
    d = models_dir(tmp_path, {"m.yaml": model, "templates/t.yaml": template})
    with pytest.raises(SpecError) as caught:
        Project(models_dir=d).validate()
    text = caught.value.render()
    assert "typo_param" in text and "unknown parameter(s) ['missing']" in text


def test_cli_validate_exits_2_and_prints_the_offending_line(tmp_path):
    d = models_dir(tmp_path, {"tiny.yaml": GOOD.replace("WHERE_CLAUSE", "\"read_csv('x') IS NULL\"")})
    proc = subprocess.run([str(LSM), "validate", "--models", str(d)], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "tiny.yaml:14:" in proc.stderr and "read_csv('x') IS NULL" in proc.stderr


def test_shipped_models_validate():
    plans = Project().validate()
    assert {p.model_id for p in plans} >= {"prisoner_dibao", "prisoner_pension", "deceased_pension", "deceased_dibao"}


def test_templates_are_one_definition_instantiated_twice():
    loaded = {m.spec.id: m for m in Project().load_models(["deceased_pension", "deceased_dibao"])}
    pension, dibao = loaded["deceased_pension"], loaded["deceased_dibao"]
    assert pension.template_path == dibao.template_path is not None
    assert pension.spec.inputs["payments"].dataset == "pension_payments"
    assert dibao.spec.inputs["payments"].dataset == "dibao_payments"
    assert pension.spec.rules[0].where == dibao.spec.rules[0].where
