"""Golden plans, in sqlglot's fixture style: a model file in, the exact ``lsm explain`` text out.

``tests/fixtures/plans/<case>.yaml`` → ``<case>.duckdb.sql`` and ``<case>.spark.sql``: the compiled
plan printed for each dialect. ``tests/fixtures/invalid/<case>.yaml`` → ``<case>.expected``: every
problem as ``file:line:col: message``, the column pointing at the offending token inside the
expression. No database is needed. After an intended change, regenerate with
``pytest tests/test_golden_plans.py --update-goldens`` and read the diff before committing it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from conftest import REPO

from engine.compile.model import compile_model
from engine.plan.explain import explain
from engine.spec.errors import SpecError
from engine.spec.load import load_model

FIXTURES = Path(__file__).parent / "fixtures"
AS_OF = dt.date(2024, 6, 30)
PLANS = sorted((FIXTURES / "plans").glob("*.yaml"))
INVALID = sorted((FIXTURES / "invalid").glob("*.yaml"))


def _compare(path: Path, actual: str, update: bool) -> None:
    if update or not path.exists():
        path.write_text(actual, encoding="utf-8")
        if not update:
            pytest.fail(f"{path.name} did not exist; written — read it and commit it")
    assert actual == path.read_text(encoding="utf-8"), f"{path.name} differs (--update-goldens to accept)"


@pytest.mark.parametrize("case", PLANS, ids=[p.stem for p in PLANS])
@pytest.mark.parametrize("dialect", ["duckdb", "spark"])
def test_a_plan_prints_exactly_as_its_golden_file(case, dialect, catalogue, update_goldens):
    loaded = load_model(case, REPO / "models", f"plans/{case.name}")
    text = explain(compile_model(loaded, catalogue, AS_OF), dialect)
    _compare(case.with_suffix(f".{dialect}.sql"), text, update_goldens)


@pytest.mark.parametrize("case", INVALID, ids=[p.stem for p in INVALID])
def test_an_invalid_model_reports_each_problem_at_its_token(case, catalogue, update_goldens):
    with pytest.raises(SpecError) as caught:
        loaded = load_model(case, REPO / "models", f"invalid/{case.name}")
        compile_model(loaded, catalogue, AS_OF)
    actual = "\n".join(p.render(with_source=False) for p in caught.value.problems) + "\n"
    _compare(case.with_suffix(".expected"), actual, update_goldens)


def test_there_are_golden_cases():
    assert len(PLANS) >= 3 and len(INVALID) >= 6
