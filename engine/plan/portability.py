"""Can a plan run on Spark? Every function its SQL calls, rendered in our Spark dialect, must be one
Spark has (:data:`engine.dialects.spark_functions.SPARK_FUNCTIONS`); anything else — a function only
DuckDB has, one sqlglot passes through unchanged — is a located problem before anything runs.

Example::

    problems = spark_problems(plan)      # [] when every step renders to functions Spark knows
"""

from __future__ import annotations

import re

from engine.dialects import render
from engine.dialects.spark_functions import REFUSED, SPARK_FUNCTIONS
from engine.plan.steps import ModelPlan, QueryStep
from engine.spec.errors import Location, Problem

_CALL = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*)\s*\(")
_NOT_FUNCTIONS = {"in", "exists", "over", "filter", "values", "as", "and", "or", "not", "when", "then", "else",
                  "case", "on", "from", "select", "where", "struct", "array", "map", "cast", "try_cast", "decimal",
                  "varchar", "char", "join", "using", "partition", "by", "within", "group", "interval", "is"}


def called_functions(sql: str) -> set[str]:
    """The names called in a SQL text (string literals left out)."""
    without_strings = re.sub(r"'(?:[^']|'')*'", "''", sql)
    return {name.lower() for name in _CALL.findall(without_strings)} - _NOT_FUNCTIONS


def spark_problems(plan: ModelPlan) -> list[Problem]:
    problems = []
    for step in plan.steps:
        if not isinstance(step, QueryStep):
            continue
        sql = render(step.query, "spark")
        for name in sorted(called_functions(sql)):
            if name in REFUSED or name not in SPARK_FUNCTIONS:
                problems.append(Problem(step.location or Location(plan.source_file),
                                        f"step {step.name}: function {name}() does not run on Spark (no Spark "
                                        f"function of that name); this model runs with --engine duckdb only"))
    return problems


