"""What runs: a model compiled into plain data — a list of steps, each with its SQL AST.

A :class:`ModelPlan` is produced by :mod:`engine.model.compile` and consumed
by an executor (:mod:`engine.execute`). It can be printed (``lsm explain``),
compared in tests without a database, and transpiled to another SQL dialect.

Example::

    plan = compile_model(loaded, catalogue, as_of=date(2024, 6, 30))
    print(plan.explain())
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa
from sqlglot import exp

from engine.errors import Location
from engine.sql import create_statement

REF_TYPE = "STRUCT(d VARCHAR, f VARCHAR, r BIGINT)"


@dataclass(frozen=True)
class Step:
    """One SQL object to create: ``CREATE [TEMP] VIEW|TABLE name AS query``."""

    name: str
    kind: str  # input | table | relation | match | guard | python | near_misses | hits | clues | evidence | output
    query: exp.Expression | None
    materialize: str = "table"  # view | table
    description: str = ""
    location: Location | None = None
    rule_id: str | None = None
    fanout_check: str | None = None  # clues: the alias whose rows must not repeat per subject
    operation: dict | None = None  # python steps (batch features, parameters) and guard checks
    data: pa.Table | None = None  # a lookup table's rows (loaded as they are: no SQL is made of them)

    def sql(self, dialect: str = "duckdb", pretty: bool = True) -> str:
        if self.data is not None:
            return f"-- {self.data.num_rows} rows: " + ", ".join(f"{f.name} {f.type}" for f in self.data.schema)
        if self.query is None:
            return f"-- python: {describe_operation(self.operation)}"
        return self.query.sql(dialect=dialect, pretty=pretty)

    def statement(self) -> exp.Create:
        """``CREATE OR REPLACE TEMPORARY VIEW|TABLE name AS query``, as an AST."""
        assert self.query is not None, f"step {self.name} is computed in Python"
        return create_statement(self.name, self.query, view=self.materialize == "view")


def describe_operation(operation: dict | None) -> str:
    """A python step's or guard's operation as printed by ``lsm explain`` (ASTs as SQL)."""
    if not operation:
        return "{}"

    def show(value):
        if isinstance(value, exp.Expression):
            return value.sql("duckdb")
        if isinstance(value, dict):
            return {k: show(v) for k, v in value.items()}
        if isinstance(value, list):
            return [show(v) for v in value]
        return value

    return str(show(operation))


@dataclass(frozen=True)
class RulePlan:
    rule_id: str
    title: str
    subject_type: str
    output: str  # the name of the step holding the rule's final clue rows


@dataclass
class ModelPlan:
    model_id: str
    version: str
    fingerprint: str
    title_zh: str
    title_en: str
    legal_citation: str
    legal_text: str
    subject_type: str
    datasets: list[str]
    steps: list[Step] = field(default_factory=list)
    rules: list[RulePlan] = field(default_factory=list)
    source_file: str = ""

    def explain(self, dialect: str = "duckdb") -> str:
        lines = [f"-- model {self.model_id} v{self.version} ({self.title_zh})",
                 f"-- fingerprint {self.fingerprint}", f"-- datasets: {', '.join(self.datasets)}", ""]
        for i, step in enumerate(self.steps, 1):
            where = f"  [{step.location}]" if step.location else ""
            lines.append(f"-- step {i}: {step.kind} {step.name} ({step.materialize}){where}")
            if step.description:
                lines.append(f"--   {' '.join(step.description.split())}")
            if step.fanout_check:
                lines.append(f"--   check: each {step.fanout_check} row appears at most once per subject")
            if step.kind == "guard":
                lines.append(f"--   guard: {describe_operation(step.operation)}")
            lines.append(step.sql(dialect) + ("" if step.query is None else ";"))
            lines.append("")
        return "\n".join(lines)
