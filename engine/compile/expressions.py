"""Model expressions: parsed with sqlglot, checked against a sandbox, expanded.

Every expression an analyst writes (filters, join conditions, selected values,
clue fields) is SQL in the DuckDB dialect. Before anything runs it is parsed
and checked:

* only columns of the aliases in scope (``alias.column``; an unqualified name
  must be unambiguous);
* only allow-listed functions and operators — no subqueries, no table
  functions (``read_csv``, ``glob`` …), no statements (DDL/DML, ``ATTACH``,
  ``INSTALL``, ``COPY``, ``PRAGMA``), no parameters, no lambdas;
* aggregates only where the level allows them (never in a row filter).

Then the domain functions that make rules read like the law
(``month_strictly_inside``, ``after_month``, ``within_days`` …) are expanded
into plain SQL ASTs, which is what the plan carries. This module is the
security boundary: what passes here is embedded in SQL, nothing else is.

Example::

    scope = Scope({"p": {"pay_month", "amount"}, "c": {"start", "end"}})
    tree = check("month_strictly_inside(p.pay_month, c.start, c.end)", scope, Level.ROW)
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, SqlglotError

from engine.compile.bounds import MAX_EXPRESSION_TEXT, BoundError, check_bounds
from engine.dialects.nodes import DateFromDigits, OneEdit, ToJson, format_number
from engine.plan.fingerprint import AS_OF_MARK
from engine.spec.names import shown
from engine.spec.suggest import did_you_mean

MAX_EXPANDED_NODES = 50_000  # an expression's size once domain functions are expanded


class ExpressionError(Exception):
    """A problem with one expression; the caller adds the file location. ``offset``: where in the
    expression's text the offending token starts (0-based), when known."""

    def __init__(self, message: str, offset: int | None = None):
        super().__init__(message)
        self.offset = offset


def token_offset(node: exp.Expression) -> int | None:
    """Where a node's first token starts in the parsed text (sqlglot records it on identifiers,
    functions and literals)."""
    starts = [n.meta["start"] for n in node.walk() if "start" in n.meta]
    return min(starts) if starts else None


def _at(node: exp.Expression, message: str) -> ExpressionError:
    return ExpressionError(message, token_offset(node))


class Level(enum.Enum):
    ROW = "row"  # per row: filters, join conditions, row-level selects
    GROUP = "group"  # inside a GROUP BY: aggregates allowed
    CLUE = "clue"  # over a clue's named values (signals, ranking)


AGGREGATES: tuple[type[exp.Expression], ...] = (
    exp.Sum, exp.Count, exp.Min, exp.Max, exp.Avg, exp.AnyValue, exp.ArrayAgg, exp.LogicalOr, exp.LogicalAnd,
    exp.CountIf, exp.GroupConcat, exp.ArgMax, exp.ArgMin,
)
SCALAR_FUNCTIONS: tuple[type[exp.Expression], ...] = (
    exp.Coalesce, exp.If, exp.Abs, exp.Round, exp.Floor, exp.Ceil, exp.Least, exp.Greatest, exp.Length,
    exp.Lower, exp.Upper, exp.Trim, exp.Substring, exp.Left, exp.Right, exp.Concat, exp.ConcatWs, exp.Replace,
    exp.StrPosition, exp.StartsWith, exp.EndsWith, exp.Contains, exp.RegexpLike, exp.RegexpExtract, exp.Year,
    exp.Month, exp.Day, exp.DateDiff, exp.TimestampTrunc, exp.DateTrunc, exp.Extract, exp.TimeToStr, exp.Nullif,
    exp.ArrayDistinct, exp.Flatten, exp.Struct, exp.ArrayContains, exp.ArraySort, exp.ArraySize, exp.Sign,
    exp.Cast, exp.TryCast, exp.DateFromParts, exp.Levenshtein, exp.JarowinklerSimilarity, exp.Array,
    exp.IgnoreNulls,
)
STRUCTURE: tuple[type[exp.Expression], ...] = (
    exp.Column, exp.Identifier, exp.Literal, exp.Boolean, exp.Null, exp.Paren, exp.Neg, exp.Not, exp.And,
    exp.Or, exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Is, exp.In, exp.Between, exp.Like,
    exp.ILike, exp.Add, exp.Sub, exp.Mul, exp.Div, exp.IntDiv, exp.Mod, exp.DPipe, exp.Case, exp.DataType,
    exp.Interval, exp.Var, exp.Distinct, exp.PropertyEQ, exp.NullSafeEQ, exp.NullSafeNEQ, exp.Filter,
    exp.Where, exp.Tuple, exp.Bracket, exp.Order, exp.Ordered, exp.DataTypeParam, exp.Star, exp.Xor,
)

NAMED_ANONYMOUS = {"to_json", "hamming"}


@dataclass
class Domain:
    """Domain functions: name -> (arity, expansion from argument ASTs to an AST)."""

    functions: dict[str, tuple[int, Callable[..., exp.Expression]]] = field(default_factory=dict)


def _parse(text: str) -> exp.Expression:
    return sqlglot.parse_one(text, read="duckdb")


def _month_of(d: exp.Expression) -> exp.Expression:
    return exp.cast(exp.TimestampTrunc(this=d.copy(), unit=exp.var("MONTH")), "DATE")


def _add_years(d: exp.Expression, n: exp.Expression) -> exp.Expression:
    # DuckDB clamps 29 Feb + 1 year to 28 Feb, as MODELS.md wants.
    return exp.cast(exp.Add(this=d.copy(), expression=exp.Interval(this=n.copy(), unit=exp.var("YEAR"))), "DATE")


def _add_days(d: exp.Expression, n: exp.Expression) -> exp.Expression:
    return exp.cast(exp.Add(this=d.copy(), expression=exp.Interval(this=n.copy(), unit=exp.var("DAY"))), "DATE")


def _open_end(end: exp.Expression) -> exp.Expression:
    return exp.Is(this=end.copy(), expression=exp.Null())


def _month_strictly_inside(m, start, end) -> exp.Expression:
    """month(start) < m < month(end); an empty end is open-ended."""
    after_start = exp.LT(this=_month_of(start), expression=m.copy())
    before_end = exp.Or(this=_open_end(end), expression=exp.LT(this=m.copy(), expression=_month_of(end)))
    return exp.Paren(this=exp.And(this=after_start, expression=exp.Paren(this=before_end)))


def _month_inside(m, start, end) -> exp.Expression:
    """month(start) <= m <= month(end), open-ended when end is empty."""
    after_start = exp.LTE(this=_month_of(start), expression=m.copy())
    before_end = exp.Or(this=_open_end(end), expression=exp.LTE(this=m.copy(), expression=_month_of(end)))
    return exp.Paren(this=exp.And(this=after_start, expression=exp.Paren(this=before_end)))


def _in_period(d, start, end) -> exp.Expression:
    """start <= d <= end (inclusive), open-ended when end is empty."""
    after_start = exp.LTE(this=start.copy(), expression=d.copy())
    before_end = exp.Or(this=_open_end(end), expression=exp.LTE(this=d.copy(), expression=end.copy()))
    return exp.Paren(this=exp.And(this=after_start, expression=exp.Paren(this=before_end)))


def _after_month(m, d) -> exp.Expression:
    return exp.GT(this=m.copy(), expression=_month_of(d))


def _within_days(a, b, n) -> exp.Expression:
    diff = exp.DateDiff(this=b.copy(), expression=a.copy(), unit=exp.var("DAY"))
    return exp.LTE(this=exp.Abs(this=diff), expression=n.copy())


def _days_between(a, b) -> exp.Expression:
    return exp.DateDiff(this=b.copy(), expression=a.copy(), unit=exp.var("DAY"))


def birth_date_of(id_number) -> exp.Expression:
    """The birth date inside an 18-character ID number (null when not a date)."""
    digits = exp.Substring(this=id_number.copy(), start=exp.Literal.number(7), length=exp.Literal.number(8))
    return DateFromDigits(this=digits)


def _mask_id(value) -> exp.Expression:
    """510104********123X — the area code and the last four characters."""
    left = exp.Left(this=value.copy(), expression=exp.Literal.number(6))
    right = exp.Right(this=value.copy(), expression=exp.Literal.number(4))
    return exp.Case(ifs=[exp.If(this=exp.GTE(this=exp.Length(this=value.copy()), expression=exp.Literal.number(10)),
                                true=exp.DPipe(this=exp.DPipe(this=left, expression=exp.Literal.string("********")),
                                               expression=right))],
                    default=exp.Literal.string("****"))


def _yuan(value) -> exp.Expression:
    """1234567.5 -> '1,234,567.50元'."""
    return exp.DPipe(this=format_number(value.copy(), 2, grouping=True),
                     expression=exp.Literal.string("元"))


def _ymd_zh(value) -> exp.Expression:
    return exp.TimeToStr(this=value.copy(), format=exp.Literal.string("%Y年%-m月%-d日"))


def _ym_zh(value) -> exp.Expression:
    return exp.TimeToStr(this=value.copy(), format=exp.Literal.string("%Y年%-m月"))


def _one_edit(a, b) -> exp.Expression:
    """Equal length, and one substitution or one swap of two adjacent characters: the optimal-string-
    alignment (Damerau–Levenshtein) distance is 1 (each engine writes it its own way)."""
    return OneEdit(this=a.copy(), expression=b.copy())


def default_domain() -> Domain:
    return Domain({
        "month_of": (1, _month_of),
        "month_strictly_inside": (3, _month_strictly_inside),
        "month_inside": (3, _month_inside),
        "in_period": (3, _in_period),
        "after_month": (2, _after_month),
        "within_days": (3, _within_days),
        "days_between": (2, _days_between),
        "add_years": (2, _add_years),
        "add_days": (2, _add_days),
        "birth_date_of": (1, birth_date_of),
        "mask_id": (1, _mask_id),
        "yuan": (1, _yuan),
        "date_zh": (1, _ymd_zh),
        "month_zh": (1, _ym_zh),
        "one_edit": (2, _one_edit),
    })


DOMAIN = default_domain()


@dataclass
class Scope:
    """Aliases visible to an expression and their columns; plus plain names (clue level)."""

    aliases: dict[str, set[str]] = field(default_factory=dict)
    names: set[str] = field(default_factory=set)  # unqualified names (clue-level values)
    group_keys: set[str] = field(default_factory=set)  # "alias.col" allowed outside aggregates

    def resolve(self, table: str, name: str) -> tuple[str, str]:
        if table:
            if table not in self.aliases:
                raise ExpressionError(f"unknown name '{table}' (in scope: {sorted(self.aliases) or 'none'})")
            if name not in self.aliases[table]:
                raise ExpressionError(f"'{table}' has no column '{name}'{did_you_mean(name, self.aliases[table])}")
            return table, name
        if name in self.names:
            return "", name
        owners = [a for a, cols in self.aliases.items() if name in cols]
        if len(owners) == 1:
            return owners[0], name
        if len(owners) > 1:
            raise ExpressionError(f"column '{name}' is ambiguous ({', '.join(owners)}); write alias.{name}")
        pool = set(self.names) | {c for cols in self.aliases.values() for c in cols}
        raise ExpressionError(f"unknown column '{name}'{did_you_mean(name, pool)}")


_OPERATORS = {"Add": "+", "Sub": "-", "Mul": "*", "Div": "/", "Mod": "%", "GT": ">", "GTE": ">=", "LT": "<",
              "LTE": "<=", "EQ": "=", "NEQ": "<>", "And": "AND", "Or": "OR", "Like": "LIKE", "ILike": "ILIKE",
              "DPipe": "||", "Is": "IS", "In": "IN", "Between": "BETWEEN", "Not": "NOT"}
_MISSING = re.compile(r"Required keyword: '(\w+)' missing for <class '[\w.]*\.(\w+)'>")


def _parse_problem(description: str) -> str:
    """sqlglot's parse error in an analyst's words (no parser class names)."""
    missing = _MISSING.search(description)
    if missing:
        node = missing.group(2)
        operator = _OPERATORS.get(node)
        return (f"something is missing after '{operator}' (an operand, or a closing bracket before it)"
                if operator else f"an argument of {node.upper()} is missing")
    if description.startswith("Expecting )"):
        return "a closing ')' is missing"
    if description.startswith("Invalid expression / Unexpected token"):
        return "unexpected word or symbol (a missing operator or comma?)"
    return description


def parse(text: str | int | float | bool) -> exp.Expression:
    """Parse one SQL expression; anything that is not a single expression is refused."""
    if isinstance(text, bool):
        return exp.Boolean(this=text)
    if isinstance(text, (int, float)):
        return exp.Literal.number(text)
    if not isinstance(text, str) or not text.strip():
        raise ExpressionError("empty expression")
    if len(text) > MAX_EXPRESSION_TEXT:
        raise ExpressionError(f"the expression is {len(text):,} characters long (at most {MAX_EXPRESSION_TEXT:,}); "
                              f"declare a relation or a lookup table instead")
    try:
        statements = sqlglot.parse(text, read="duckdb")
    except ParseError as exc:
        first = exc.errors[0] if exc.errors else {}
        offset = _parse_error_offset(text, first)
        why = _parse_problem(str(first.get("description", exc)))
        raise ExpressionError(f"cannot parse '{shown(text, 80)}': {why}", offset) from None
    except (RecursionError, SqlglotError) as exc:
        why = "it is nested too deeply" if isinstance(exc, RecursionError) else str(exc).splitlines()[0]
        raise ExpressionError(f"cannot parse '{shown(text, 80)}': {why}") from None
    statements = [s for s in statements if s is not None]
    if len(statements) != 1:
        raise ExpressionError(f"one expression expected, found {len(statements)} statements in '{shown(text, 80)}'")
    tree = statements[0]
    if isinstance(tree, (exp.Query, exp.Command, exp.DDL, exp.DML, exp.Pragma, exp.Use, exp.Set,
                         exp.Transaction, exp.Copy, exp.Describe, exp.Attach, exp.Detach, exp.Install)) or (
            type(tree).__name__ in {"Attach", "Detach", "Install", "Load", "Export", "Import", "Analyze"}):
        raise ExpressionError(f"statements are not allowed in a model expression ({tree.key.upper()}): "
                              f"'{shown(text, 80)}'")
    for node in tree.walk():
        node.comments = None
    return tree


def _parse_error_offset(text: str, error: dict) -> int | None:
    """sqlglot reports the line and the (1-based) column where the offending token ends."""
    line, col = error.get("line"), error.get("col")
    if not line or not col:
        return None
    before = sum(len(t) + 1 for t in text.split("\n")[: line - 1])
    return max(before + col - len(error.get("highlight") or " "), 0)


def check(text: str | int | float | bool, scope: Scope, level: Level, domain: Domain = DOMAIN,
          as_of: dt.date | None = None) -> exp.Expression:
    """Parse, check and expand an expression; returns the AST to embed (columns qualified)."""
    tree = parse(text)
    _check_nodes(tree, shown(text, 80), domain, level)
    _check_columns(tree, scope, level)
    try:
        check_bounds(tree)
    except BoundError as exc:
        raise ExpressionError(str(exc), exc.offset) from None
    size = expanded_size(tree, domain)
    if size > MAX_EXPANDED_NODES:
        raise ExpressionError(f"the expression expands to about {size:,} SQL nodes (at most {MAX_EXPANDED_NODES:,}): "
                              f"domain functions nested too deeply")
    return expand(tree, domain, as_of)


@functools.cache
def _argument_uses(name: str, arity: int, domain_id: int) -> tuple[int, ...]:
    """How many times the expansion of a domain function copies each of its arguments."""
    builder = _DOMAINS[domain_id].functions[name][1]
    placeholders = [exp.column(f"__arg{i}") for i in range(arity)]
    built = builder(*placeholders)
    names = [c.name for c in built.find_all(exp.Column)]
    return tuple(names.count(f"__arg{i}") for i in range(arity))


_DOMAINS: dict[int, Domain] = {}


def expanded_size(tree: exp.Expression, domain: Domain = DOMAIN) -> int:
    """About how many nodes ``tree`` has once its domain functions are expanded (without expanding)."""
    _DOMAINS[id(domain)] = domain
    size: dict[int, int] = {}
    for node in reversed(list(tree.walk(bfs=False))):
        children = list(node.iter_expressions())
        name = node.name.lower() if isinstance(node, exp.Anonymous) else ""
        if name in domain.functions and name != "as_of" and len(children) == domain.functions[name][0]:
            uses = _argument_uses(name, len(children), id(domain))
            size[id(node)] = 20 + sum(u * size[id(c)] for u, c in zip(uses, children, strict=True))
        else:
            size[id(node)] = 1 + sum(size[id(c)] for c in children)
    return size[id(tree)]


def _check_nodes(tree: exp.Expression, text, domain: Domain, level: Level) -> None:
    for node in tree.walk():
        if isinstance(node, (exp.Query, exp.Subquery, exp.Exists)):
            raise _at(node, f"subqueries are not allowed ('{text}'); declare a relation or a semi/anti join")
        if isinstance(node, (exp.Table, exp.ReadCSV, exp.ReadParquet)) or type(node).__name__.startswith("Read"):
            raise _at(node, f"table functions and table references are not allowed: "
                                  f"{node.sql('duckdb')[:60]}")
        if isinstance(node, (exp.Placeholder, exp.Parameter, exp.SessionParameter)):
            raise _at(node, f"parameters are not allowed: {node.sql('duckdb')}")
        if isinstance(node, (exp.Lambda, exp.Window)):
            raise _at(node, f"{'lambdas' if isinstance(node, exp.Lambda) else 'window functions'} "
                                  f"are not allowed in model expressions: {node.sql('duckdb')[:60]}")
        if isinstance(node, exp.Anonymous):
            name = node.name.lower()
            if name in domain.functions:
                arity = domain.functions[name][0]
                if len(node.expressions) != arity:
                    raise _at(node, f"{name}() takes {arity} argument(s), got {len(node.expressions)}")
                continue
            if name in NAMED_ANONYMOUS:
                continue
            raise _at(node, f"function {name}() is not allowed (allowed: the domain functions "
                                  f"{sorted(domain.functions)} and common SQL functions)")
        if isinstance(node, AGGREGATES):
            if level is not Level.GROUP:
                raise _at(node, f"aggregate {node.sql('duckdb')[:40]} is only allowed where rows are "
                                      f"grouped (clue fields, grouped relations)")
            continue
        if isinstance(node, exp.Star) and not isinstance(node.parent, exp.Count):
            raise _at(node, "* is only allowed in count(*)")
        if isinstance(node, SCALAR_FUNCTIONS + STRUCTURE):
            continue
        if isinstance(node, exp.Func):
            raise _at(node, f"function {node.sql('duckdb').split('(')[0]}() is not allowed")
        raise _at(node, f"'{node.sql('duckdb')[:60]}' ({node.key}) is not allowed in a model expression")


def _inside_aggregate(node: exp.Expression) -> bool:
    parent = node.parent
    while parent is not None:
        if isinstance(parent, AGGREGATES) or (isinstance(parent, exp.Filter)
                                              and isinstance(parent.this, AGGREGATES)):
            return True
        parent = parent.parent
    return False


def _check_columns(tree: exp.Expression, scope: Scope, level: Level) -> None:
    for column in list(tree.find_all(exp.Column)):
        if isinstance(column.parent, exp.PropertyEQ) and column.parent.this is column:
            continue  # struct_pack(name := value): the name is not a column
        if column.args.get("db") or column.args.get("catalog"):
            raise _at(column, f"'{column.sql('duckdb')}': write alias.column")
        try:
            table, name = scope.resolve(column.table, column.name)
        except ExpressionError as exc:
            exc.offset = token_offset(column)
            raise
        if table:
            column.set("table", exp.to_identifier(table))
        if (level is Level.GROUP and table and not _inside_aggregate(column)
                and f"{table}.{name}" not in scope.group_keys):
            raise _at(column, f"{table}.{name} must be inside an aggregate (e.g. any_value({table}.{name}))"
                                      f" or be grouped on")


def _tie_broken(key: exp.Expression) -> bool:
    default = key.args.get("default") if isinstance(key, exp.Case) else None
    return isinstance(default, exp.Struct) and any(
        isinstance(e, exp.PropertyEQ) and e.this.name == "_k" for e in default.expressions)


def expand(tree: exp.Expression, domain: Domain = DOMAIN, as_of: dt.date | None = None) -> exp.Expression:
    """Replace domain functions and ``as_of()`` by plain SQL ASTs (and ``any_value`` by ``min``)."""

    def rewrite(node: exp.Expression) -> exp.Expression:
        # A clue must read the same every night, whatever DuckDB's threads did: aggregates whose result
        # depends on the order rows arrive in are made deterministic.
        if isinstance(node, exp.IgnoreNulls) and isinstance(node.this, exp.AnyValue):
            node = node.this  # DuckDB's any_value already skips NULLs (sqlglot spells it out)
        if isinstance(node, exp.AnyValue):  # "any one of them" → the smallest (min skips NULLs too)
            return exp.Min(this=node.this)
        if isinstance(node, (exp.GroupConcat, exp.ArrayAgg)):
            # ordered by the analyst's keys (if any), then by the value itself (ties are broken)
            inner = node.this.this if isinstance(node.this, exp.Order) else node.this
            value = inner.expressions[0] if isinstance(inner, exp.Distinct) else inner
            keys = list(node.this.expressions) if isinstance(node.this, exp.Order) else []
            if keys and keys[-1].this == value:
                return node
            node = node.copy()
            node.set("this", exp.Order(this=inner.copy(), expressions=[
                *[k.copy() for k in keys], exp.Ordered(this=value.copy(), nulls_first=False)]))
            return node
        if isinstance(node, (exp.ArgMax, exp.ArgMin)) and not _tie_broken(node.expression):
            # ties on the key are broken by the value itself (rows without a key are still ignored)
            key, value = node.expression, node.this
            pair = exp.Struct(expressions=[
                exp.PropertyEQ(this=exp.to_identifier("_k"), expression=key.copy()),
                exp.PropertyEQ(this=exp.to_identifier("_v"), expression=value.copy())])
            return type(node)(this=value.copy(), expression=exp.Case(
                ifs=[exp.If(this=exp.Is(this=key.copy(), expression=exp.Null()), true=exp.Null())], default=pair))
        if isinstance(node, exp.Anonymous):
            name = node.name.lower()
            if name == "as_of":
                if as_of is None:
                    return exp.Anonymous(this="as_of", expressions=[])
                day = exp.cast(exp.Literal.string(as_of.isoformat()), "DATE")
                day.meta[AS_OF_MARK] = True  # the plan's fingerprint leaves the run's date out
                return day
            if name in domain.functions:
                return domain.functions[name][1](*node.expressions)
            if name == "to_json":
                return ToJson(this=node.expressions[0])
        return node

    previous = None
    current = tree
    while previous is None or current.sql() != previous:  # domain functions may nest
        previous = current.sql()
        current = current.transform(rewrite)
    return current


DOMAIN.functions["as_of"] = (0, lambda: exp.Anonymous(this="as_of", expressions=[]))
