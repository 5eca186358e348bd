"""SQL ASTs from names: identifiers and table references are built as nodes, never parsed from text.

``sqlglot.exp.to_table("a.b")`` *parses* its argument (a dot makes a schema, a quote ends a name);
these helpers never do, so a name can only ever be a name. Every statement the engine runs is
built from them and from checked expressions (:mod:`engine.compile.expressions`).

Example::

    create_statement("m_x__hits", exp.select("*").from_(table_ref("ds_dibao_payments", "p")), view=True)
    # CREATE OR REPLACE TEMPORARY VIEW m_x__hits AS SELECT * FROM ds_dibao_payments AS p
"""

from __future__ import annotations

from sqlglot import exp


def ident(name: str) -> exp.Identifier:
    """An identifier node (quoted when the name needs it)."""
    return exp.to_identifier(name)


def table_ref(name: str, alias: str | None = None) -> exp.Table:
    """A reference to one table or view by its bare name, optionally aliased."""
    table = exp.Table(this=ident(name))
    return table.as_(alias) if alias else table


def create_statement(name: str, query: exp.Expression, view: bool = False) -> exp.Create:
    """``CREATE OR REPLACE TEMPORARY TABLE|VIEW name AS query``."""
    return exp.Create(this=table_ref(name), kind="VIEW" if view else "TABLE", replace=True, expression=query,
                      properties=exp.Properties(expressions=[exp.TemporaryProperty()]))


def select_all(name: str) -> exp.Select:
    return exp.select(exp.Star()).from_(table_ref(name))


def count_rows(name: str, alias: str | None = None, where: exp.Expression | None = None) -> exp.Select:
    query = exp.select(exp.Count(this=exp.Star())).from_(table_ref(name, alias))
    return query.where(where.copy()) if where is not None else query
