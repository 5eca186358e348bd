"""Run the tests written inside a model file (``lsm test``).

A test gives small tables per dataset — raw cells, exactly as an agency would
send them — and the clues the model must produce: no more, no fewer, with
their amounts (to the fen) and periods where given. The given rows go through
the real normalisation of ingest, so a test also exercises the messy forms.
A given row that normalisation would quarantine fails the test loudly (a test
whose data silently vanished would prove nothing).

Example::

    outcomes = run_model_tests(loaded, catalogue)
    [o.passed for o in outcomes]
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import polars as pl

from engine.compile.model import compile_model
from engine.execute.backend import ModelRunError
from engine.execute.duckdb_backend import DuckDBBackend
from engine.ingest.normalize.frame import normalize_frame
from engine.ingest.normalize.orgs import OrgKeyRules
from engine.spec.catalog import SYSTEM_COLUMNS, Catalogue
from engine.spec.errors import SpecError
from engine.spec.load import LoadedModel

TEST_TIMEOUT = 60.0  # seconds one in-file test may take


@dataclass
class TestOutcome:
    model_id: str
    name: str
    passed: bool
    problems: list[str] = field(default_factory=list)
    location: str = ""


def _cell(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "是" if value else "否"
    return str(value)


def staged_from_rows(catalogue: Catalogue, dataset_name: str, rows: list[dict], defaults: dict
                     ) -> tuple[pl.DataFrame, list[str]]:
    """Normalise given raw rows like ingest does; returns the staged frame and any unreadable-row messages."""
    dataset = catalogue.dataset(dataset_name)
    problems = []
    for i, row in enumerate(rows, 1):
        unknown = set(row) - set(dataset.column_names)
        if unknown:
            problems.append(f"{dataset_name} row {i}: unknown column(s) {sorted(unknown)}")
    columns = {c: [_cell(row.get(c, defaults.get(c))) for row in rows] for c in dataset.column_names}
    raw = pl.DataFrame(columns, schema={c: pl.String for c in dataset.column_names})
    raw = raw.with_columns(pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("_row"),
                           pl.lit(None, pl.String).alias("_extra"))
    out = normalize_frame(raw, dataset, OrgKeyRules.of(catalogue.org_name))
    for row, reason in out.filter(pl.col("_reason").is_not_null()).select("_row", "_reason").iter_rows():
        problems.append(f"{dataset_name} row {row} would be quarantined: {reason}")
    staged = out.drop("_h1", "_h2", "_reason").with_columns(
        pl.col("_row").alias("_rid"), pl.lit(f"test:{dataset_name}").alias("_file"))
    return staged.select([c for c in staged.columns if c not in SYSTEM_COLUMNS] + list(SYSTEM_COLUMNS)), problems


def run_model_tests(loaded: LoadedModel, catalogue: Catalogue, names: list[str] | None = None) -> list[TestOutcome]:
    spec = loaded.spec
    outcomes = []
    for i, test in enumerate(spec.tests):
        if names and test.name not in names:
            continue
        where = str(loaded.doc.where(("tests", i)))
        outcome = TestOutcome(spec.id, test.name, False, location=where)
        outcomes.append(outcome)
        try:
            plan = compile_model(loaded, catalogue, test.as_of)
        except SpecError as exc:
            outcome.problems.append(exc.render(with_source=False))
            continue
        unknown = sorted(set(test.given) - set(plan.datasets))
        if unknown:
            outcome.problems.append(f"given datasets {unknown} are not inputs of the model ({plan.datasets})")
            continue
        with tempfile.TemporaryDirectory(prefix="lsm-test-") as tmp:
            backend = DuckDBBackend.in_memory(Path(tmp), memory_limit="1GB", threads=1)
            try:
                for dataset in plan.datasets:
                    frame, problems = staged_from_rows(catalogue, dataset, test.given.get(dataset, []),
                                                       spec.test_defaults.get(dataset, {}))
                    outcome.problems.extend(problems)
                    backend.load_frame(dataset, frame)
                if outcome.problems:
                    continue
                clues = backend.run_model(plan, TEST_TIMEOUT).to_pylist()
            except ModelRunError as exc:
                outcome.problems.append(str(exc))
                continue
            finally:
                backend.close()
        outcome.problems.extend(_compare(test, clues, [r.rule_id for r in plan.rules]))
        outcome.passed = not outcome.problems
    return outcomes


def _compare(test, clues: list[dict], rule_ids: list[str]) -> list[str]:
    problems = []
    default_rule = rule_ids[0] if len(rule_ids) == 1 else None
    found = {(c["rule_id"], c["subject_id"]): c for c in clues}
    expected = {}
    for e in test.expect:
        rule = e.rule or default_rule
        if rule is None:
            problems.append(f"expected clue {e.subject_id} must name its rule (the model has {rule_ids})")
            continue
        expected[(rule, e.subject_id)] = e
    for key in sorted(set(expected) - set(found)):
        problems.append(f"missing clue: rule {key[0]}, subject {key[1]}")
    for key in sorted(set(found) - set(expected)):
        problems.append(f"unexpected clue: rule {key[0]}, subject {key[1]} ({found[key]['summary']})")
    for key in sorted(set(found) & set(expected)):
        e, c = expected[key], found[key]
        if e.amount is not None:
            got = Decimal(c["amount"]) if c["amount"] is not None else None
            if got is None or abs(got - Decimal(str(e.amount))) > Decimal("0.005"):
                problems.append(f"clue {key[1]}: amount {got}, expected {e.amount}")
        if e.period_start is not None and c["period_start"] != e.period_start:
            problems.append(f"clue {key[1]}: period_start {c['period_start']}, expected {e.period_start}")
        if e.confidence is not None and abs(c["confidence"] - e.confidence) > 1e-9:
            problems.append(f"clue {key[1]}: confidence {c['confidence']}, expected {e.confidence}")
        if e.period_end is not None and c["period_end"] != e.period_end:
            problems.append(f"clue {key[1]}: period_end {c['period_end']}, expected {e.period_end}")
    return problems
