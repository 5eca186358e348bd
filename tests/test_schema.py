"""The JSON Schema of model files and of the catalogue: committed equal to the generated one, every
shipped file valid against it and pointing at it from its first line, mistakes flagged."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest
from conftest import run_lsm

from engine.spec.schema import SCHEMA_FILES, first_line, model_schema, schema_text, sources_schema
from engine.spec.yamlfile import load_located

MODELS = Path(__file__).resolve().parent.parent / "models"
SHIPPED = sorted(MODELS.glob("*.yaml"))


@pytest.mark.parametrize("kind", list(SCHEMA_FILES))
def test_the_committed_schema_is_the_generated_one(kind):
    assert (MODELS / SCHEMA_FILES[kind]).read_text(encoding="utf-8") == schema_text(kind), (
        f"regenerate: lsm schema {kind} > models/{SCHEMA_FILES[kind]}")


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_every_shipped_file_names_its_schema_and_is_valid(path):
    kind = "sources" if path.name == "sources.yaml" else "model"
    assert path.read_text(encoding="utf-8").splitlines()[0] == first_line(kind)
    schema = sources_schema() if kind == "sources" else model_schema()
    errors = [f"{list(e.path)}: {e.message}" for e in
              jsonschema.Draft202012Validator(schema).iter_errors(load_located(path).data)]
    assert errors == []


def test_mistakes_an_editor_should_flag():
    validator = jsonschema.Draft202012Validator(model_schema())
    data = load_located(MODELS / "drug_user_license.yaml").data
    wrong = {**data, "rulez": []}
    assert any("'rulez' was unexpected" in e.message for e in validator.iter_errors(wrong))
    missing = {k: v for k, v in data.items() if k != "rules"}
    assert any("'rules' is a required property" in e.message or e.validator == "anyOf"
               for e in validator.iter_errors(missing))
    bad_join = {**data, "rules": [{**data["rules"][0], "join": [{"to": "drugs", "kind": "sideways", "on": "x"}]}]}
    assert list(validator.iter_errors(bad_join))


def test_keys_carry_chinese_and_english_descriptions():
    properties = model_schema()["properties"]
    assert "规则" in properties["rules"]["description"] and "rules" in properties["rules"]["description"]
    assert "source_file" not in properties                      # filled by the loader, never written


def test_lsm_schema_prints_it():
    proc = run_lsm("schema", "sources")
    assert proc.returncode == 0 and proc.stdout == schema_text("sources")
    assert run_lsm("schema", "nonsense").returncode == 2
