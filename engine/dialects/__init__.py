"""SQL dialects the engine renders its plans in: our DuckDB and Spark dialects (engine/dialects/nodes.py: its own nodes).

Plans hold ASTs; only a backend (or ``lsm explain``) renders them, through :func:`render`.
"""

from __future__ import annotations

from sqlglot import exp

from engine.dialects.duckdb import LsmDuckDB
from engine.dialects.spark import LsmSpark

DIALECTS = {"duckdb": LsmDuckDB, "spark": LsmSpark}


def render(expression: exp.Expression, dialect: str = "duckdb", pretty: bool = False) -> str:
    if dialect not in DIALECTS:
        raise ValueError(f"unknown dialect '{dialect}' (known: {', '.join(DIALECTS)})")
    return expression.sql(dialect=DIALECTS[dialect], pretty=pretty)
