"""The last check before SQL reaches a database: exactly one statement, of the expected kind.

The compiler builds every statement as an AST from checked names and sandboxed expressions, so
nothing a model file says can become a statement of its own. This guard does not trust that: it
renders the statement, parses the text back, and refuses it unless it is exactly one statement of
an expected kind (a temporary table/view created from a query, or a query), reads only tables by
bare name that the backend knows, and holds no statement, command or table function anywhere
inside. Behind it, the DuckDB connection that runs models reads no file but the staged inputs
(:mod:`engine.database`).

Example::

    sql = checked_sql(create_statement("m_x__hits", query), known={"ds_dibao_payments"})
"""

from __future__ import annotations

import logging

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from engine.dialects.duckdb import LsmDuckDB

FORBIDDEN = (exp.Command, exp.Copy, exp.Attach, exp.Detach, exp.Install, exp.Pragma, exp.Set, exp.Use,
             exp.Transaction, exp.Insert, exp.Update, exp.Delete, exp.Drop, exp.Alter, exp.Merge, exp.Describe,
             exp.Commit, exp.Rollback, exp.LoadData, exp.Placeholder, exp.Parameter, exp.SessionParameter)
QUERIES = (exp.Select, exp.Union, exp.Intersect, exp.Except)


class StatementRefused(Exception):
    """A statement that is not exactly one query or one temporary table/view made from a query."""


def checked_sql(statement: exp.Expression, known: set[str] | None = None, dialect=LsmDuckDB) -> str:
    """The statement's SQL text, after proving it is one allowed statement; raises StatementRefused.

    ``known``: the tables and views the statement may read (None: not checked)."""
    sql = statement.sql(dialect=dialect)
    logger = logging.getLogger("sqlglot")
    level = logger.level
    logger.setLevel(logging.ERROR)  # sqlglot warns when it falls back to a Command: we refuse those anyway
    try:
        parsed = [p for p in sqlglot.parse(sql, read=dialect) if p is not None]
    except SqlglotError as exc:
        raise StatementRefused(f"the engine built SQL it cannot read back ({exc}); nothing was run") from None
    finally:
        logger.setLevel(level)
    if len(parsed) != 1:
        raise StatementRefused(f"{len(parsed)} statements where exactly one was expected; nothing was run")
    _check_kind(parsed[0])
    _check_inside(parsed[0], known)
    return sql


def _check_kind(tree: exp.Expression) -> None:
    if isinstance(tree, QUERIES):
        return
    if isinstance(tree, exp.Create):
        properties = tree.args.get("properties")
        temporary = properties is not None and any(isinstance(p, exp.TemporaryProperty)
                                                   for p in properties.expressions)
        if tree.kind in ("TABLE", "VIEW") and temporary and isinstance(tree.expression, QUERIES):
            return
    raise StatementRefused(f"a {tree.key.upper()} statement is not allowed (only queries and temporary "
                           f"tables or views made from a query); nothing was run")


def _check_inside(tree: exp.Expression, known: set[str] | None) -> None:
    ctes = {cte.alias for cte in tree.find_all(exp.CTE)}
    created = tree.this.name if isinstance(tree, exp.Create) else None
    for node in tree.walk():
        if isinstance(node, FORBIDDEN) or (isinstance(node, exp.Create) and node is not tree):
            raise StatementRefused(f"a {node.key.upper()} inside a statement is not allowed; nothing was run")
        if isinstance(node, exp.Table) and node.this is not None and not (isinstance(tree, exp.Create)
                                                                          and node is tree.this):
            if not isinstance(node.this, exp.Identifier) or node.args.get("db") or node.args.get("catalog"):
                raise StatementRefused(f"'{node.sql()[:60]}' is not a table of this run (table functions and "
                                       f"qualified names are not allowed); nothing was run")
            if known is not None and node.name not in known and node.name not in ctes and node.name != created:
                raise StatementRefused(f"table '{node.name[:60]}' is not one this run created; nothing was run")
