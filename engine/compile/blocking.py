"""Compile a match's blocking rules into the candidate pairs' ids: ``(_lrid, _rrid, _rule)``.

A rule is an equality of keys (a column on both sides, a list of such columns, or ``a = b AND …``
over expressions of each side) or ``{ngrams: column, n, keep}``: records that keep one of their
``keep`` rarest character n-grams in common (prefix filtering). Every rule becomes a *keyed side*
on the left and on the right — where its rows come from, their id and their keys — so the guard
(block sizes per key, oversized keys excluded) and the pairs are built the same way for both kinds.

For an n-gram rule one step ``<stem>__grams<i>`` materialises the kept grams of both sides
(``_side`` 'l' or 'r', ``_id``, ``g``); its character positions come from the inline table
``<stem>__positions`` (1 … :data:`MAX_GRAM_POSITIONS`), so no engine-specific list function is needed.

This module builds ASTs and steps only; it never reads data.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa
from sqlglot import exp

from engine.compile.compiler import Compiler, ObjectInfo
from engine.compile.expressions import ExpressionError, Level, Scope, check
from engine.plan.steps import BlockGuardStep, LookupStep, RelationStep
from engine.spec.errors import Location
from engine.spec.model import GramBlockSpec, MatchSpec
from engine.sql import table_ref

MAX_GRAM_POSITIONS = 200  # n-grams are cut from the first 200 characters of a key


@dataclass(frozen=True)
class MatchSides:
    """The two sides of a match as the blocking sees them."""

    left_alias: str
    left: ObjectInfo
    left_filter: exp.Expression | None
    right_alias: str
    right: ObjectInfo
    right_id: str
    right_filter: exp.Expression | None


@dataclass(frozen=True)
class KeyedSide:
    """One side of one blocking rule: its rows (a FROM item with its alias), their id and keys."""

    source: exp.Expression
    row_id: exp.Expression
    keys: list[exp.Expression]
    condition: exp.Expression | None

    def select(self, *columns: exp.Expression) -> exp.Select:
        query = exp.select(*columns).from_(self.source.copy())
        return query.where(self.condition.copy()) if self.condition is not None else query


def clean(key: exp.Expression) -> exp.Expression:
    """A blocking key as compared: text, trimmed, empty as NULL (an empty key never blocks)."""
    return exp.Nullif(this=exp.Trim(this=exp.cast(key.copy(), "VARCHAR")), expression=exp.Literal.string(""))


def _equality_keys(c: Compiler, rule: str | list[str], s: MatchSides,
                   path: tuple) -> tuple[list[exp.Expression], list[exp.Expression]] | None:
    """An equality rule as aligned key expressions over the left and the right alias."""
    la, ra, left, right = s.left_alias, s.right_alias, s.left, s.right
    if isinstance(rule, list) or rule in left.columns and rule in right.columns:
        names = rule if isinstance(rule, list) else [rule]
        missing = [n for n in names if n not in left.columns or n not in right.columns]
        if missing:
            c.problem(path, f"blocking column(s) {missing} must exist on both '{la}' and '{ra}'")
            return None
        return [exp.column(n, la) for n in names], [exp.column(n, ra) for n in names]
    try:
        tree = check(rule, Scope({la: set(left.columns), ra: set(right.columns)}), Level.ROW, as_of=c.as_of)
    except ExpressionError as exc:
        c.expression_problem(path, rule, exc)
        return None
    conjuncts = list(tree.flatten()) if isinstance(tree, exp.And) else [tree]
    lefts, rights = [], []
    for conjunct in conjuncts:
        if isinstance(conjunct, exp.Paren):
            conjunct = conjunct.this
        if not isinstance(conjunct, exp.EQ):
            c.problem(path, f"a blocking rule is one or more equalities (a = b AND …) or {{ngrams: column}}, not "
                            f"'{conjunct.sql('duckdb')}'")
            return None
        sides = [{col.table for col in side.find_all(exp.Column)} for side in (conjunct.this, conjunct.expression)]
        if sides[0] == {la} and sides[1] == {ra}:
            lefts.append(conjunct.this)
            rights.append(conjunct.expression)
        elif sides[0] == {ra} and sides[1] == {la}:
            lefts.append(conjunct.expression)
            rights.append(conjunct.this)
        else:
            c.problem(path, f"each side of '{conjunct.sql('duckdb')}' must read only '{la}' or only '{ra}'")
            return None
    return lefts, rights


def _check_gram_rule(c: Compiler, rule: GramBlockSpec, s: MatchSides, path: tuple) -> bool:
    missing = [alias for alias, info in ((s.left_alias, s.left), (s.right_alias, s.right))
               if rule.ngrams not in info.columns]
    if missing:
        c.problem((*path, "ngrams"), f"n-gram blocking column '{rule.ngrams}' must exist on both "
                                     f"'{s.left_alias}' and '{s.right_alias}' (missing on {missing})")
    return not missing


def _kept_grams(rule: GramBlockSpec, s: MatchSides, positions: str) -> exp.Select:
    """Each record's ``keep`` rarest distinct n-grams of its cleaned key, both sides in one table."""
    def keyed(alias: str, info: ObjectInfo, row_id: str, condition: exp.Expression | None, tag: str):
        query = exp.select(exp.Literal.string(tag).as_("_side"), exp.column(row_id, alias).as_("_id"),
                           clean(exp.column(rule.ngrams, alias)).as_("_key")).from_(table_ref(info.table).as_(alias))
        return query.where(condition.copy()) if condition is not None else query

    keys = exp.union(keyed(s.left_alias, s.left, "_rid", s.left_filter, "l"),
                     keyed(s.right_alias, s.right, s.right_id, s.right_filter, "r"), distinct=False)
    key = exp.column("_key", "k")
    # positions 1 … length - n + 1 (and 1 for a key shorter than n: the whole key is its one gram)
    starts = exp.or_(exp.EQ(this=exp.column("pos", "p"), expression=exp.Literal.number(1)),
                     exp.LTE(this=exp.Add(this=exp.column("pos", "p"), expression=exp.Literal.number(rule.n - 1)),
                             expression=exp.Length(this=key.copy())))
    grams = exp.select(exp.column("_side", "k"), exp.column("_id", "k"),
                       exp.Substring(this=key.copy(), start=exp.column("pos", "p"),
                                     length=exp.Literal.number(rule.n)).as_("g")).distinct().from_(
        keys.subquery("k")).join(table_ref(positions).as_("p"), on=starts).where(
        exp.Not(this=exp.Is(this=key.copy(), expression=exp.Null())))
    holders = exp.Window(this=exp.Count(this=exp.Star()), partition_by=[exp.column("g")])
    counted = exp.select("_side", "_id", "g", holders.as_("_holders")).from_(grams.subquery("gr"))
    order = exp.Order(expressions=[exp.Ordered(this=exp.column("_holders")), exp.Ordered(this=exp.column("g"))])
    rank = exp.Window(this=exp.RowNumber(), partition_by=[exp.column("_side"), exp.column("_id")], order=order)
    ranked = exp.select("_side", "_id", "g", rank.as_("_rank")).from_(counted.subquery("c"))
    return exp.select("_side", "_id", "g").from_(ranked.subquery("r")).where(
        exp.LTE(this=exp.column("_rank"), expression=exp.Literal.number(rule.keep)))


def _gram_sides(c: Compiler, rule: GramBlockSpec, s: MatchSides, stem: str, i: int,
                where: Location | None) -> tuple[KeyedSide, KeyedSide]:
    positions = f"{stem}__positions"
    if not any(step.name == positions for step in c.steps):
        c.steps.append(LookupStep(name=positions, data=pa.table({"pos": pa.array(
            range(1, MAX_GRAM_POSITIONS + 1), pa.int32())}), location=where,
            description=f"character positions 1–{MAX_GRAM_POSITIONS} for n-gram blocking"))
    grams = f"{stem}__grams{i}"
    c.steps.append(RelationStep(name=grams, query=_kept_grams(rule, s, positions), location=where,
                                description=f"blocking rule {i + 1}: each record's {rule.keep} rarest "
                                            f"{rule.n}-grams of {rule.ngrams}"))

    def side(alias: str, tag: str) -> KeyedSide:
        return KeyedSide(table_ref(grams).as_(alias), exp.column("_id", alias), [exp.column("g", alias)],
                         exp.EQ(this=exp.column("_side", alias), expression=exp.Literal.string(tag)))
    return side("gl", "l"), side("gr", "r")


def block_rules(c: Compiler, spec: MatchSpec, s: MatchSides, path: tuple) -> list:
    """The rules that compile (problems recorded for the others); no steps are added yet."""
    if not spec.block:
        c.problem((*path, "block"), "a match needs at least one blocking rule (equality), never a cross join")
        return []
    rules = []
    for i, rule in enumerate(spec.block):
        where = (*path, "block", i)
        if isinstance(rule, GramBlockSpec):
            if _check_gram_rule(c, rule, s, where):
                rules.append((i, rule))
        elif (keys := _equality_keys(c, rule, s, where)) is not None:
            rules.append((i, keys))
    return rules


def candidate_ids(c: Compiler, spec: MatchSpec, s: MatchSides, rules: list, name: str, stem: str,
                  where: Location | None) -> exp.Select:
    """The guard and gram steps of every rule; returns the query of the distinct candidate id pairs,
    each with the first rule that found it (``_rule``)."""
    parts = []
    for i, rule in rules:
        if isinstance(rule, GramBlockSpec):
            left, right = _gram_sides(c, rule, s, stem, i, where)
        else:
            lkeys, rkeys = rule
            left = KeyedSide(table_ref(s.left.table).as_(s.left_alias), exp.column("_rid", s.left_alias), lkeys,
                             s.left_filter)
            right = KeyedSide(table_ref(s.right.table).as_(s.right_alias), exp.column(s.right_id, s.right_alias),
                              rkeys, s.right_filter)
        c.steps.append(_guard_step(spec, left, right, name, stem, i, where))
        parts.append(_pairs_of_rule(spec, left, right, stem, i))
    union = parts[0]
    for part in parts[1:]:
        union = exp.union(union, part, distinct=False)
    return exp.select(exp.column("_lrid"), exp.column("_rrid"), exp.Min(this=exp.column("_rule")).as_("_rule")).from_(
        union.subquery("u")).group_by(exp.column("_lrid"), exp.column("_rrid"))


def _key_names(side: KeyedSide) -> list[str]:
    return [f"k{j}" for j in range(len(side.keys))]


def _guard_step(spec: MatchSpec, left: KeyedSide, right: KeyedSide, name: str, stem: str, i: int,
                where: Location | None) -> BlockGuardStep:
    key_names = _key_names(left)

    def sizes(side: KeyedSide, count_name: str) -> exp.Select:
        query = side.select(*[clean(k).as_(n) for k, n in zip(side.keys, key_names, strict=True)],
                            exp.Count(this=exp.Star()).as_(count_name))
        query = query.group_by(*[exp.column(n) for n in key_names])
        return query.having(exp.and_(*[exp.Not(this=exp.Is(this=exp.column(n), expression=exp.Null()))
                                       for n in key_names]))

    blocks = exp.select(*[exp.column(n, "bl") for n in key_names], exp.column("n_left", "bl"),
                        exp.column("n_right", "br")).from_(sizes(left, "n_left").subquery("bl")).join(
        sizes(right, "n_right").subquery("br"),
        on=exp.and_(*[exp.EQ(this=exp.column(n, "bl"), expression=exp.column(n, "br")) for n in key_names]))
    return BlockGuardStep(name=f"{stem}__blocks{i}", query=blocks, match=name, stem=stem,
                          rule_text=str(spec.block[i]), keys=tuple(key_names),
                          max_block_pairs=spec.max_block_pairs, max_pairs=spec.max_pairs, location=where,
                          description=f"match {name}: block sizes of rule {i + 1} ({spec.block[i]})")


def _pairs_of_rule(spec: MatchSpec, left: KeyedSide, right: KeyedSide, stem: str, i: int) -> exp.Select:
    """The id pairs one rule finds, oversized keys left out."""
    key_names = _key_names(left)
    oversized = exp.Exists(this=exp.select(exp.Literal.number(1)).from_(
        table_ref(f"{stem}__blocks{i}").as_("b")).where(exp.and_(
            *[exp.EQ(this=exp.column(n, "b"), expression=clean(k)) for n, k in zip(key_names, left.keys, strict=True)],
            exp.GT(this=exp.Mul(this=exp.column("n_left", "b"), expression=exp.column("n_right", "b")),
                   expression=exp.Literal.number(spec.max_block_pairs)))))
    on = exp.and_(*[exp.EQ(this=clean(lk), expression=clean(rk)) for lk, rk in zip(left.keys, right.keys, strict=True)])
    part = exp.select(left.row_id.copy().as_("_lrid"), right.row_id.copy().as_("_rrid"),
                      exp.Literal.number(i).as_("_rule")).from_(left.source.copy()).join(right.source.copy(), on=on)
    conditions = [exp.Not(this=oversized)]
    conditions += [side.condition.copy() for side in (left, right) if side.condition is not None]
    return part.where(exp.and_(*conditions))
