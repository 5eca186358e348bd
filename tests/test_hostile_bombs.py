"""S1: expression bombs, YAML bombs and undeclared cross joins are refused at validation, located;
large lookup tables and declared cross joins still work."""

from __future__ import annotations

import copy

import pytest
import yaml
from hostile import BASE, model_yaml, models_dir

from engine.compile.expressions import ExpressionError, Level, Scope, check
from engine.plan.steps import LookupStep
from engine.project import Project
from engine.spec.errors import SpecError


def _nested_replace(depth: int, seed: str = "'a'") -> str:
    text = seed
    for _ in range(depth):
        text = f"replace({text}, 'a', 'aaaaaaaaaa')"
    return text


SCOPE = Scope({"p": {"name", "amount"}})


@pytest.mark.parametrize("text,fragment", [
    (f"length({_nested_replace(10)}) > 0", "builds a constant of up to"),
    (f"length({_nested_replace(7, 'p.name')}) > 0", "characters per row"),
    (f"levenshtein({_nested_replace(5)}, {_nested_replace(5)}) < 3", "characters per row"),
    ("levenshtein(p.name, '" + "x" * 30_000 + "') < 3", "compares strings"),
    ("p.name = '" + "x" * 1_100_000 + "'", "characters long"),
    ("mask_id(" * 12 + "p.name" + ")" * 12 + " = 'x'", "expands to about"),
    ("(" * 3000 + "1" + ")" * 3000 + " = 1", "nested too deeply"),
])
def test_expression_bombs_are_refused_before_anything_runs(text, fragment):
    with pytest.raises(ExpressionError) as caught:
        check(text, SCOPE, Level.ROW)
    assert fragment in str(caught.value)


@pytest.mark.parametrize("text", [
    "length(replace(p.name, 'a', 'aaaaaaaaaa')) > 1",
    "levenshtein(p.name, '张伟') < 2",
    "p.name || '（' || p.name || '）' = 'x'",
])
def test_ordinary_expressions_pass_the_bounds(text):
    assert check(text, SCOPE, Level.ROW) is not None


def _refused(tmp_path, text: str) -> SpecError:
    project = Project(models_dir=models_dir(tmp_path, {"hostile_probe.yaml": text}))
    with pytest.raises(SpecError) as caught:
        project.validate()
    assert all(p.location.line > 0 for p in caught.value.problems), caught.value.render()
    return caught.value


def test_a_bomb_in_a_model_file_is_refused_at_its_line(tmp_path):
    model = copy.deepcopy(BASE)
    model["inputs"]["payments"]["where"] = f"length({_nested_replace(10)}) > 0"
    text = model_yaml(model)
    error = _refused(tmp_path, text)
    line = text.splitlines()[error.problems[0].location.line - 1]
    assert "replace(" in line and "builds a constant" in error.render()


def test_billion_laughs_is_refused(tmp_path):
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 9):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    lines.append("id: x")
    error = _refused(tmp_path, "\n".join(lines) + "\n")
    assert "expands to more than" in error.render()


def test_a_python_tag_is_a_located_error_not_a_crash(tmp_path):
    text = model_yaml(BASE).replace("version: '1'", "version: !!python/name:os.system")
    error = _refused(tmp_path, text)
    assert "only plain values" in error.render()
    assert text.splitlines()[error.problems[0].location.line - 1].startswith("version:")


def test_an_undeclared_cross_join_is_refused(tmp_path):
    model = copy.deepcopy(BASE)
    model["relations"]["everything"] = {"from": "payments", "join": [{"to": "spells", "on": "true"}],
                                        "group_by": ["payments.id_number"],
                                        "select": {"id_number": "payments.id_number", "n": "count(*)"}}
    text = model_yaml(model)
    error = _refused(tmp_path, text)
    assert "would pair every row with every row" in error.render()
    assert "'true'" in text.splitlines()[error.problems[0].location.line - 1]


def test_an_or_join_is_refused_with_the_union_advice(tmp_path):
    model = copy.deepcopy(BASE)
    model["rules"][0]["join"][0]["on"] = "c.id_number = owned.owner_id OR c.who = owned.person_name"
    error = _refused(tmp_path, model_yaml(model))
    assert "union of two relations" in error.render()


def test_a_range_join_with_a_lookup_table_is_not_a_cross_join(tmp_path):
    project = Project(models_dir=models_dir(tmp_path, {"hostile_probe.yaml": model_yaml(BASE)}))
    assert project.validate()  # BASE joins its bands table by `owned.amount >= b.low`


def _cross_model(max_rows: int) -> str:
    model = copy.deepcopy(BASE)
    model["rules"][0]["join"][1] = {"to": "bands", "alias": "b", "kind": "cross", "on": "owned.amount >= b.low",
                                    "max_rows": max_rows}
    return model_yaml(model)


def test_a_declared_cross_join_runs_within_its_bound(tmp_path):
    project = Project(models_dir=models_dir(tmp_path, {"hostile_probe.yaml": _cross_model(1000)}))
    assert [o.passed for o in project.test()] == [True]


def test_a_declared_cross_join_past_its_bound_fails_the_model(tmp_path):
    project = Project(models_dir=models_dir(tmp_path, {"hostile_probe.yaml": _cross_model(1)}))
    outcome = project.test()[0]
    assert not outcome.passed
    assert "would pair 2 rows (max_rows = 1)" in " ".join(outcome.problems)


def test_a_cross_join_needs_its_bound(tmp_path):
    model = copy.deepcopy(BASE)
    model["rules"][0]["join"][1] = {"to": "bands", "alias": "b", "kind": "cross"}
    assert "a cross join needs max_rows" in _refused(tmp_path, model_yaml(model)).render()


def test_a_hundred_thousand_row_lookup_table_validates_and_is_used(tmp_path):
    model = copy.deepcopy(BASE)
    model["tables"]["bands"]["rows"] = [[f"档{i}", i * 10] for i in range(100_000)]
    text = yaml.dump(model, Dumper=yaml.CSafeDumper, allow_unicode=True, sort_keys=False)
    project = Project(models_dir=models_dir(tmp_path, {"hostile_probe.yaml": text}))
    plan = project.validate()[0]
    table = next(s for s in plan.steps if isinstance(s, LookupStep))  # rows are data: no SQL is made of them
    assert table.data.num_rows == 100_000
    assert str(table.data.column("low")[99_999]) == "999990.00"


def test_a_lookup_value_of_the_wrong_type_is_located(tmp_path):
    model = copy.deepcopy(BASE)
    model["tables"]["bands"]["rows"][1] = ["大额", "一千"]
    text = model_yaml(model)
    error = _refused(tmp_path, text)
    assert "'一千' is not a value of type amount" in error.render()
    assert "一千" in text.splitlines()[error.problems[0].location.line - 1]
