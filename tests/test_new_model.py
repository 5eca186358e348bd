"""``lsm new``: a scaffold that validates and fails its test until filled; a copy that works at once."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import run_lsm

from engine.spec.schema import first_line

MODELS = Path(__file__).resolve().parent.parent / "models"


@pytest.fixture
def models(tmp_path) -> Path:
    copy = tmp_path / "models"
    shutil.copytree(MODELS, copy)
    return copy


def test_a_scaffold_validates_and_its_test_fails_until_filled(models):
    proc = run_lsm("new", "elderly_allowance", "--models", str(models))
    assert proc.returncode == 0, proc.stderr
    text = (models / "elderly_allowance.yaml").read_text(encoding="utf-8")
    assert text.splitlines()[0] == first_line("model") and "id: elderly_allowance" in text
    assert run_lsm("validate", "--models", str(models), "--model", "elderly_allowance").returncode == 0
    tested = run_lsm("test", "--models", str(models), "--model", "elderly_allowance")
    assert tested.returncode != 0 and "missing clue: rule default" in tested.stdout + tested.stderr


def test_a_copy_validates_and_passes_its_tests_at_once(models):
    assert run_lsm("new", "pension_v2", "--like", "prisoner_pension", "--models", str(models)).returncode == 0
    text = (models / "pension_v2.yaml").read_text(encoding="utf-8")
    original = (MODELS / "prisoner_pension.yaml").read_text(encoding="utf-8")
    assert text == original.replace("\nid: prisoner_pension\n", "\nid: pension_v2\n")
    assert run_lsm("validate", "--models", str(models), "--model", "pension_v2").returncode == 0
    tested = run_lsm("test", "--models", str(models), "--model", "pension_v2")
    assert tested.returncode == 0 and "0 failed" in tested.stdout


@pytest.mark.parametrize("args, message", [
    (["prisoner_pension"], "already"),                          # the file (and the id) exist
    (["Bad-Id"], "is not a valid name"),
    (["x_copy", "--like", "no_such_model"], "--like: unknown model 'no_such_model'"),
])
def test_refusals_are_clear_and_write_nothing(models, args, message):
    before = sorted(p.name for p in models.iterdir())
    proc = run_lsm("new", *args, "--models", str(models))
    assert proc.returncode == 2 and message in proc.stderr
    assert sorted(p.name for p in models.iterdir()) == before


def test_an_id_used_by_another_file_is_refused(models):
    (models / "renamed.yaml").write_text((MODELS / "deceased_pension.yaml").read_text(encoding="utf-8"),
                                         encoding="utf-8")
    (models / "deceased_pension.yaml").unlink()
    proc = run_lsm("new", "deceased_pension", "--models", str(models))
    assert proc.returncode == 2 and "already used by" in proc.stderr
