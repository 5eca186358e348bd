"""S1: every name slot of a model file refuses every hostile name at load time, located, and nothing runs.

The reproduction of the adversarial test (a comparison name carrying ``COPY … read_text``) is
refused by ``lsm validate`` with exit 2, writes nothing and reads nothing; the same holds for every
name slot × payload of the corpus in ``tests/hostile.py``.
"""

from __future__ import annotations

import shutil

import pytest
from conftest import REPO, run_lsm
from hostile import BASE, CANARY, NAME_PAYLOADS, NAME_SLOTS, model_yaml, models_dir, with_payload

from engine.project import Project
from engine.spec.errors import SpecError


@pytest.fixture(autouse=True)
def no_canary():
    for path in (CANARY, CANARY.with_name(CANARY.name + ".db")):
        path.unlink(missing_ok=True)
    yield
    assert not CANARY.exists(), "a hostile name wrote a file"
    assert not CANARY.with_name(CANARY.name + ".db").exists(), "a hostile name attached a database"


def test_the_probe_model_is_valid_and_passes_its_test(tmp_path):
    project = Project(models_dir=models_dir(tmp_path, {"hostile_probe.yaml": model_yaml(BASE)}))
    assert [p.model_id for p in project.validate()] == ["hostile_probe"]
    assert [o.passed for o in project.test()] == [True]


@pytest.mark.parametrize("payload", NAME_PAYLOADS, ids=range(len(NAME_PAYLOADS)))
@pytest.mark.parametrize("slot", sorted(NAME_SLOTS))
def test_a_hostile_name_is_refused_where_it_was_written(tmp_path, slot, payload):
    text = model_yaml(with_payload(slot, payload))
    project = Project(models_dir=models_dir(tmp_path, {"hostile_probe.yaml": text}))
    with pytest.raises(SpecError) as caught:
        project.validate()
    problems = caught.value.problems
    assert problems and all(p.location.line > 0 for p in problems), caught.value.render()
    lines = text.splitlines()
    first_line = payload.splitlines()[0]
    # at least one problem points at the line that holds the payload (the key or the value)
    assert any(first_line[:20] in lines[p.location.line - 1] or "'" + first_line[:20] in lines[p.location.line - 1]
               for p in problems), caught.value.render()


def test_the_reproduction_is_refused_by_lsm_validate_and_writes_nothing(tmp_path):
    models = tmp_path / "models"
    shutil.copytree(REPO / "models", models)
    path = models / "prisoner_dibao.yaml"
    text = path.read_text(encoding="utf-8")
    injected = ("        - left: payments.id_number\n"
                "          right: roster_people.id_number\n"
                f"          name: \"1; COPY (SELECT content FROM read_text('/etc/hostname')) TO '{CANARY}' "
                "(HEADER false, QUOTE ''); SELECT 'none' AS none\"\n"
                "          method: exact\n"
                "          levels: []\n")
    anchor = "        - {field: id_number, method: id_cn}\n"
    assert anchor in text
    path.write_text(text.replace(anchor, anchor + injected), encoding="utf-8")
    proc = run_lsm("validate", "--models", str(models))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    line = text[: text.index(anchor)].count("\n") + 1 + 3  # the line of `name:`
    assert f"prisoner_dibao.yaml:{line}:" in proc.stderr
    assert "Traceback" not in proc.stderr
    proc = run_lsm("run", "--models", str(models), "--data", str(tmp_path / "nodata"), "--out", str(tmp_path / "out"))
    assert proc.returncode == 2
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").glob("*/manifest.json"))


@pytest.mark.parametrize("extends,fragment", [
    ("../../../../etc/secret", "not a valid name"),
    ("/etc/passwd", "not a valid name"),
    ("no_such_template", "no template 'no_such_template'"),
])
def test_templates_only_come_from_the_models_templates_folder(tmp_path, extends, fragment):
    secret = tmp_path / "etc" / "secret.yaml"
    secret.parent.mkdir()
    secret.write_text("id: leaked\nsecret_line: DO-NOT-PRINT\n", encoding="utf-8")
    model = {"id": "x", "extends": extends, "with": {}}
    project = Project(models_dir=models_dir(tmp_path / "m", {"x.yaml": model_yaml(model)}))
    with pytest.raises(SpecError) as caught:
        project.validate()
    rendered = caught.value.render()
    assert fragment in rendered
    assert "DO-NOT-PRINT" not in rendered
    assert caught.value.problems[0].location.line == 2


def test_a_symlinked_template_outside_the_folder_is_refused(tmp_path):
    outside = tmp_path / "outside.yaml"
    outside.write_text((REPO / "models" / "templates" / "deceased_benefit.yaml").read_text(encoding="utf-8"),
                       encoding="utf-8")
    folder = models_dir(tmp_path / "m", {})
    (folder / "templates" / "sneaky.yaml").symlink_to(outside)
    model = (REPO / "models" / "deceased_dibao.yaml").read_text(encoding="utf-8").replace(
        "extends: deceased_benefit", "extends: sneaky")
    (folder / "deceased_dibao.yaml").write_text(model, encoding="utf-8")
    with pytest.raises(SpecError) as caught:
        Project(models_dir=folder).load_models(["deceased_dibao"])
    assert "no template 'sneaky'" in caught.value.render()


def test_catalogue_names_follow_the_same_grammar(tmp_path):
    folder = models_dir(tmp_path, {})
    text = (folder / "sources.yaml").read_text(encoding="utf-8")
    (folder / "sources.yaml").write_text(text.replace("  dibao_payments:", '  "dibao; DROP":', 1), encoding="utf-8")
    with pytest.raises(SpecError) as caught:
        Project(models_dir=folder).catalogue  # noqa: B018
    problem = caught.value.problems[0]
    assert "not a valid name" in problem.message
    assert '"dibao; DROP"' in text.replace("  dibao_payments:", '  "dibao; DROP":', 1).splitlines()[problem.location.line - 1]
