"""Compile a ``match`` relation: blocking join → field comparisons → decision.

Two steps:

1. ``<relation>__pairs`` — candidate pairs from an equality join on the
   blocking keys (never a cross join), with each compared field's *level*
   (e.g. ``id_number_level`` ∈ exact / one_edit / none) and score.
2. ``<relation>`` — the pairs whose ``accept`` condition holds; with
   ``unique: true`` a left row keeps its link only when exactly one right row
   was accepted. Output: the left row's ``_rid``, the ``select``ed columns,
   ``match_score``, ``match_level`` and ``_match`` (per field: level, score and
   both values — the explanation shown to a prosecutor), plus ``_refs``.
"""

from __future__ import annotations

from sqlglot import exp

from engine.model.compile import LID, Compiler, ObjectInfo
from engine.model.expressions import Level, Scope, expand, parse
from engine.model.spec import CompareSpec, MatchSpec
from engine.plan import Step

# Level -> score for the comparison methods (E2 subset; the match step of E3 extends it).
METHOD_LEVELS: dict[str, list[tuple[str, str, float]]] = {
    # (level, SQL template over {l} and {r}, score)
    "id_cn": [("exact", "{l} = {r}", 1.0), ("one_edit", "one_edit({l}, {r})", 0.8)],
    "exact": [("exact", "{l} = {r}", 1.0)],
    "date": [("exact", "{l} = {r}", 1.0)],
}


def _level_case(compare: CompareSpec, left: exp.Expression, right: exp.Expression) -> tuple[exp.Expression,
                                                                                            exp.Expression]:
    """CASE expressions giving the level name and its score for one compared field."""
    levels = METHOD_LEVELS.get(compare.method, METHOD_LEVELS["exact"])
    if compare.levels:
        levels = [lv for lv in levels if lv[0] in compare.levels]
    ifs_level, ifs_score = [], []
    for name, template, score in levels:
        condition = expand(parse(template.format(l="__l__", r="__r__")))
        condition = condition.transform(lambda n: left.copy() if isinstance(n, exp.Column) and n.name == "__l__"
                                        else right.copy() if isinstance(n, exp.Column) and n.name == "__r__" else n)
        ifs_level.append(exp.If(this=condition, true=exp.Literal.string(name)))
        ifs_score.append(exp.If(this=exp.EQ(this=exp.column(f"{compare.field}_level"),
                                            expression=exp.Literal.string(name)), true=exp.Literal.number(score)))
    level = exp.Case(ifs=ifs_level, default=exp.Literal.string("none"))
    score = exp.Case(ifs=ifs_score, default=exp.Literal.number(0))  # read from the level (computed once)
    return level, score


def _of_pair(tree: exp.Expression) -> exp.Expression:
    """Qualify a column of the accepted pair with its alias ``a``."""
    return tree.transform(lambda n: exp.column(n.name, "a") if isinstance(n, exp.Column) and not n.table else n)


def _ref(dataset: str, file: exp.Expression, row: exp.Expression) -> exp.Expression:
    return exp.Array(expressions=[exp.Struct(expressions=[
        exp.PropertyEQ(this=exp.to_identifier("d"), expression=exp.Literal.string(dataset)),
        exp.PropertyEQ(this=exp.to_identifier("f"), expression=file),
        exp.PropertyEQ(this=exp.to_identifier("r"), expression=row)])])


def _pair_refs(left: ObjectInfo, right: ObjectInfo, pair: str, right_alias: str) -> exp.Expression:
    """Lineage of an accepted link: the left row and the right row (or the right relation's refs)."""
    parts = []
    if left.rows_of:
        parts.append(_ref(left.rows_of, exp.column("_l_file", pair), exp.column("_l_row", pair)))
    if right.rows_of:
        parts.append(_ref(right.rows_of, exp.column("_r_file", pair), exp.column("_r_row", pair)))
    elif right.has_lid:
        parts.append(exp.column("_refs", right_alias))
    return Compiler.concat_refs(parts)


def compile_match(c: Compiler, name: str, spec: MatchSpec, path: tuple) -> ObjectInfo | None:
    left = c.obj(spec.left, (*path, "left"))
    right = c.obj(spec.right, (*path, "right"))
    if left is None or right is None:
        return None
    if spec.left == spec.right:
        c.problem((*path, "right"), "left and right must be different names (declare a second input)")
        return None
    if not left.has_rid:
        c.problem((*path, "left"), f"'{spec.left}' has no row id (_rid); match from an input or a relation "
                                   f"that keeps _rid")
        return None
    la, ra = spec.left, spec.right
    scope = Scope({la: set(left.columns), ra: set(right.columns)})
    conditions: list[exp.Expression] = []
    for i, key in enumerate(spec.block):
        if key in left.columns and key in right.columns:
            conditions.append(exp.EQ(this=exp.column(key, la), expression=exp.column(key, ra)))
        else:
            conditions.append(c.expr(key, scope, Level.ROW, (*path, "block", i)))
    if not conditions:
        c.problem((*path, "block"), "a match needs at least one blocking key (equality), never a cross join")
        return None
    pairs = exp.select(exp.column("_rid", la).as_("_rid")).from_(exp.to_table(left.table).as_(la)).join(
        exp.to_table(right.table).as_(ra), on=exp.and_(*conditions))
    if spec.left_where:
        pairs = pairs.where(c.expr(spec.left_where, Scope({la: set(left.columns)}), Level.ROW, (*path, "left_where")))
    if spec.right_where:
        pairs = pairs.where(c.expr(spec.right_where, Scope({ra: set(right.columns)}), Level.ROW,
                                   (*path, "right_where")))
    selected = spec.select or {col: f"{ra}.{col}" for col in right.columns if not col.startswith("_")}
    for out, text in selected.items():
        pairs = pairs.select(c.expr(text, scope, Level.ROW, (*path, "select", out)).as_(out))
    explanation, scores, level_names, level_scores = [], [], [], []
    for i, compare in enumerate(spec.compare):
        right_field = compare.right_field or compare.field
        for side, alias, info, col in (("left", la, left, compare.field), ("right", ra, right, right_field)):
            if col not in info.columns:
                c.problem((*path, "compare", i), f"{side} '{alias}' has no column '{col}'")
                return None
        lv, sc = _level_case(compare, exp.column(compare.field, la), exp.column(right_field, ra))
        pairs = pairs.select(lv.as_(f"{compare.field}_level"))
        level_names.append(f"{compare.field}_level")
        level_scores.append(sc.as_(f"{compare.field}_score"))
        scores.append((compare.weight, exp.column(f"{compare.field}_score")))
        explanation.append(exp.PropertyEQ(this=exp.to_identifier(compare.field), expression=exp.Struct(expressions=[
            exp.PropertyEQ(this=exp.to_identifier("method"), expression=exp.Literal.string(compare.method)),
            exp.PropertyEQ(this=exp.to_identifier("level"), expression=exp.column(f"{compare.field}_level")),
            exp.PropertyEQ(this=exp.to_identifier("score"), expression=exp.column(f"{compare.field}_score")),
            exp.PropertyEQ(this=exp.to_identifier("left"), expression=exp.cast(exp.column(f"_l_{compare.field}"),
                                                                               "VARCHAR")),
            exp.PropertyEQ(this=exp.to_identifier("right"), expression=exp.cast(exp.column(f"_r_{compare.field}"),
                                                                                "VARCHAR")),
        ])))
        pairs = pairs.select(exp.column(compare.field, la).as_(f"_l_{compare.field}"),
                             exp.column(right_field, ra).as_(f"_r_{compare.field}"))
    # Lineage is built for accepted pairs only: the pairs keep just what is needed to build it.
    if left.rows_of:
        pairs = pairs.select(exp.column("_file", la).as_("_l_file"), exp.column("_row", la).as_("_l_row"))
    if right.rows_of:
        pairs = pairs.select(exp.column("_file", ra).as_("_r_file"), exp.column("_row", ra).as_("_r_row"))
    elif right.has_lid:
        pairs = pairs.select(exp.column("_lid", ra).as_("_r_lid"))
    stem = f"{c.prefix}__{name}"
    c.steps.append(Step(f"{stem}__pairs", "match", pairs, "table",
                        f"match {name}: candidate pairs {la} × {ra} blocked on {', '.join(spec.block)}",
                        c.loaded.doc.where(path)))

    total_weight = sum(w for w, _ in scores) or 1.0
    weighted: exp.Expression = exp.Literal.number(0)
    for weight, score in scores:
        weighted = exp.Add(this=weighted, expression=exp.Mul(this=score, expression=exp.Literal.number(weight)))
    match_score = exp.Round(this=exp.Div(this=weighted, expression=exp.Literal.number(total_weight)),
                            decimals=exp.Literal.number(4))
    level_scope = Scope(names=set(level_names) | {"match_score"} | {n.replace("_level", "_score")
                                                                     for n in level_names})
    accept = c.expr(spec.accept, level_scope, Level.ROW, (*path, "accept"))
    with_scores = exp.select("*", *level_scores).from_(exp.to_table(f"{stem}__pairs").as_("p"))
    scored = exp.select("*", match_score.as_("match_score")).from_(with_scores.subquery("q"))
    accepted = exp.select("*").from_(scored.subquery("s")).where(accept)
    out_columns = ["_rid", *selected, "match_score", "match_level", "_match", "_refs", "_lid"]
    level_parts: list[exp.Expression] = []
    for i, level_name in enumerate(level_names):
        if i:
            level_parts.append(exp.Literal.string(","))
        level_parts.append(exp.column(level_name))
    level_text = level_parts[0] if len(level_parts) == 1 else exp.Concat(expressions=level_parts)
    columns = [exp.column("_rid"), *[exp.column(o) for o in selected], exp.column("match_score"),
               level_text.as_("match_level"), exp.Struct(expressions=explanation).as_("_match")]
    final = exp.select(*[_of_pair(e) for e in columns], _pair_refs(left, right, "a", "rr").as_("_refs"),
                       LID.copy().as_("_lid")).from_(accepted.subquery("a"))
    if right.has_lid and not right.rows_of:
        final = final.join(exp.to_table(right.table).as_("rr"), on=exp.EQ(this=exp.column("_lid", "rr"),
                                                                           expression=exp.column("_r_lid", "a")))
    if spec.unique:
        count = exp.Window(this=exp.Count(this=exp.Star()), partition_by=[exp.column("_rid", "a")])
        final = final.qualify(exp.EQ(this=count, expression=exp.Literal.number(1)))
    info = ObjectInfo(name, "relation", stem, out_columns)
    c.steps.append(Step(stem, "match", final, "table",
                        f"match {name}: accepted links ({spec.accept})" + ("; unique right row only" if spec.unique
                                                                          else ""), c.loaded.doc.where(path)))
    return info
