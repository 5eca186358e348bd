"""Compile a ``match`` relation into steps: block → features → levels → parameters → score → decide.

For a relation ``r`` of model ``m`` (stem ``m_m__r``):

1. ``__blocks{i}`` (guard) — per blocking rule, the block sizes per key value on
   each side. Keys whose block would hold more than ``max_block_pairs`` pairs
   (an empty name, a placeholder ID shared by thousands) are excluded and
   reported; more than ``max_pairs`` candidate pairs in all stops the model.
2. ``__pairs`` — candidate pairs from equality joins on the blocking keys (never
   a cross join), de-duplicated across rules, with each compared value.
3. ``__pairs_f`` (python) — batch fuzzy features (rapidfuzz, pinyin) when needed.
4. ``__levels`` — each comparison's level (first that holds wins).
5. ``__upairs``/``__ulevels`` — the same on a random sample of left × right
   pairs, for u; ``__tf_<c>`` — term frequencies where ``tf_adjust`` is set.
6. ``__params`` (python) — m, u, weights and the prior (EM when ``train: em``).
7. ``__scored`` — every candidate pair's weights, match weight and probability
   (kept: ``lsm explain --data`` lists the rejected pairs near the threshold).
8. ``r`` — the accepted links (``unique``: only when exactly one), with the
   selected columns, ``_match`` (the explanation) and lineage.
"""

from __future__ import annotations

import math

from sqlglot import exp

from engine.compile.blocking import MatchSides, block_rules, candidate_ids
from engine.compile.comparators import (
    DEFAULT_THRESHOLDS,
    PairColumns,
    features_for,
    levels_for,
    m_probabilities,
)
from engine.compile.compiler import Compiler, ObjectInfo, lid
from engine.compile.expressions import Level, Scope
from engine.plan.steps import (
    CandidatePairsStep,
    ComparisonModel,
    FeatureRequest,
    FeaturesStep,
    LevelsStep,
    LinksStep,
    NearMissStep,
    ParameterFitStep,
    ScoredPairsStep,
    TermFrequencyStep,
)
from engine.spec.model import CompareSpec, MatchSpec
from engine.sql import table_ref


def _id_column(info: ObjectInfo) -> str | None:
    return "_rid" if info.has_rid else "_lid" if info.has_lid else None


def _values(c: Compiler, compare: CompareSpec, la: str, left: ObjectInfo, ra: str, right: ObjectInfo,
            path: tuple) -> dict[str, exp.Expression] | None:
    """The columns a comparison reads: value on each side (and phases for org names)."""
    if compare.method == "org_name":
        lf, rf = compare.field, compare.right_field or compare.field
        needed = [(la, left, f"{lf}_key"), (la, left, f"{lf}_phase"), (ra, right, f"{rf}_key"),
                  (ra, right, f"{rf}_phase")]
        for alias, info, col in needed:
            if col not in info.columns:
                c.problem(path, f"'{alias}' has no org-name column '{col[:-4] if col.endswith('_key') else col}' "
                                f"(org_name compares the comparison keys of org_name columns)")
                return None
        return {"l": exp.column(f"{lf}_key", la), "r": exp.column(f"{rf}_key", ra),
                "lp": exp.column(f"{lf}_phase", la), "rp": exp.column(f"{rf}_phase", ra)}
    left_text = compare.left or f"{la}.{compare.field}"
    right_text = compare.right or f"{ra}.{compare.right_field or compare.field}"
    lv = c.expr(left_text, Scope({la: set(left.columns)}), Level.ROW, (*path, "left"))
    rv = c.expr(right_text, Scope({ra: set(right.columns)}), Level.ROW, (*path, "right"))
    return {"l": lv, "r": rv}


def _level_sql(compare: CompareSpec, base: str) -> tuple[exp.Expression, list[str], dict[str, str]]:
    """CASE giving the level name of a comparison over the pairs' columns ``<base>__l`` / ``__r``."""
    levels = levels_for(compare.method, compare.levels)
    threshold = compare.threshold if compare.threshold is not None else DEFAULT_THRESHOLDS.get(compare.method, 0)
    columns = PairColumns(base, threshold, compare.within_days)
    ifs = [exp.If(this=level.condition(columns), true=exp.Literal.string(level.name)) for level in levels]
    missing = exp.or_(exp.Is(this=columns.left, expression=exp.Null()),
                      exp.Is(this=columns.right, expression=exp.Null()))
    case = exp.Case(ifs=[exp.If(this=missing, true=exp.Literal.string("null")), *ifs],
                    default=exp.Literal.string("none"))
    return case, [lv.name for lv in levels] + ["none"], {lv.name: lv.label for lv in levels}


def compile_match(c: Compiler, name: str, spec: MatchSpec, path: tuple) -> ObjectInfo | None:
    left = c.obj(spec.left, (*path, "left"))
    right = c.obj(spec.right, (*path, "right"))
    if left is None or right is None:
        return None
    la, ra = spec.left, spec.right
    if la == ra:
        c.problem((*path, "right"), "left and right must be different names (declare a second input)")
        return None
    if not left.has_rid:
        c.problem((*path, "left"), f"'{la}' has no row id (_rid); match from an input or a relation that keeps _rid")
        return None
    right_id = _id_column(right)
    if right_id is None:
        c.problem((*path, "right"), f"'{ra}' has no row id; match against an input or a materialised relation")
        return None
    stem = f"{c.prefix}__{name}"
    where = c.loaded.doc.where(path)
    left_filter = (c.expr(spec.left_where, Scope({la: set(left.columns)}), Level.ROW, (*path, "left_where"))
                   if spec.left_where else None)
    right_filter = (c.expr(spec.right_where, Scope({ra: set(right.columns)}), Level.ROW, (*path, "right_where"))
                    if spec.right_where else None)

    def side(alias: str, info: ObjectInfo, condition: exp.Expression | None) -> exp.Select:
        query = exp.select("*").from_(table_ref(info.table).as_(alias))
        return query.where(condition.copy()) if condition is not None else query

    # The compared values and the features they need.
    comparisons = []
    for i, compare in enumerate(spec.compare):
        try:
            levels_for(compare.method, compare.levels)
        except KeyError as exc:
            c.problem((*path, "compare", i, "levels"), str(exc.args[0]))
            continue
        values = _values(c, compare, la, left, ra, right, (*path, "compare", i))
        if values is not None:
            comparisons.append((compare, values))
    sides = MatchSides(la, left, left_filter, ra, right, right_id, right_filter)
    rules = block_rules(c, spec, sides, path)
    if c.problems or not comparisons or not rules:
        return None

    value_columns = []
    for compare, values in comparisons:
        base = compare.key
        value_columns += [(values["l"], f"{base}__l"), (values["r"], f"{base}__r")]
        if "lp" in values:
            value_columns += [(values["lp"], f"{base}__lp"), (values["rp"], f"{base}__rp")]

    # 1. block sizes per key (guard), 2. candidate pairs (each pair once, with the first rule that found
    # it), then the compared values
    ids = candidate_ids(c, spec, sides, rules, name, stem, where)
    pairs = exp.select(exp.column("_lrid", "i"), exp.column("_rrid", "i"), exp.column("_rule", "i"),
                       *[e.copy().as_(n) for e, n in value_columns]).from_(ids.subquery("i")).join(
        table_ref(left.table).as_(la), on=exp.EQ(this=exp.column("_rid", la), expression=exp.column("_lrid", "i"))
    ).join(table_ref(right.table).as_(ra), on=exp.EQ(this=exp.column(right_id, ra),
                                                       expression=exp.column("_rrid", "i")))
    c.steps.append(CandidatePairsStep(name=f"{stem}__pairs", query=pairs, match=name, location=where,
                                      description=f"match {name}: candidate pairs {la} × {ra} from {len(rules)} "
                                                  f"blocking rule(s)"))

    # 5a. a random sample of pairs for u (same value columns)
    side_rows = max(int(math.isqrt(spec.u_sample_pairs)), 10)
    sample_l = side(la, left, left_filter).select(*[e.copy().as_(n) for e, n in value_columns
                                                    if n.endswith(("__l", "__lp"))], append=False)
    sample_r = side(ra, right, right_filter).select(*[e.copy().as_(n) for e, n in value_columns
                                                      if n.endswith(("__r", "__rp"))], append=False)
    # A deterministic sample (rows in a scrambled order of their id), so a rerun — on any engine —
    # gives the same weights.
    sample_l = sample_l.select(exp.column("_rid", la).as_("_lsid"))
    sample_r = sample_r.select(exp.column(right_id, ra).as_("_rsid"))
    sampled_l = exp.select("*").from_(sample_l.subquery("sl")).order_by(
        _scrambled(exp.column("_lsid"), 7919), exp.column("_lsid")).limit(side_rows)
    sampled_r = exp.select("*").from_(sample_r.subquery("sr")).order_by(
        _scrambled(exp.column("_rsid"), 7933), exp.column("_rsid")).limit(side_rows)
    upairs = exp.select(exp.Column(this=exp.Star(), table=exp.to_identifier("a")),
                        exp.Column(this=exp.Star(), table=exp.to_identifier("b"))).from_(
        sampled_l.subquery("a")).join(sampled_r.subquery("b"), join_type="cross")
    # Only their level counts are kept: materialised just when batch features must be computed on them.
    scored_by_features = any(features_for(compare.method, compare.key) for compare, _ in comparisons)
    c.steps.append(CandidatePairsStep(name=f"{stem}__upairs", query=upairs, view=not scored_by_features, match=name,
                                      random=True, location=where,
                                      description=f"match {name}: random {side_rows} × {side_rows} pairs to "
                                                  f"estimate u"))

    # 3. features (python), 4. levels — for the candidate pairs and the random pairs
    requests = []
    for compare, _ in comparisons:
        for feature in features_for(compare.method, compare.key):
            requests.append(FeatureRequest(compare.key, feature.kind, f"{compare.key}__l", f"{compare.key}__r"))
    level_cases = []
    models = []
    for compare, _ in comparisons:
        case, names, labels = _level_sql(compare, compare.key)
        level_cases.append(case.as_(f"{compare.key}_level"))
        m = m_probabilities(compare.method, levels_for(compare.method, compare.levels), compare.m)
        models.append(ComparisonModel(compare.key, compare.method, tuple(names), tuple(labels.items()),
                                      tuple((level, m[level]) for level in names)))
    for source in ("pairs", "upairs"):
        table = f"{stem}__{source}"
        if requests:
            c.steps.append(FeaturesStep(name=f"{table}_f", match=name, source=table, requests=tuple(requests),
                                        description=f"match {name}: batch fuzzy features", location=where))
            table = f"{table}_f"
        if source == "pairs":
            levels = exp.select("*", *[lc.copy() for lc in level_cases]).from_(table_ref(table).as_("p"))
            c.steps.append(LevelsStep(name=f"{stem}__levels", query=levels, match=name, location=where,
                                      description=f"match {name}: comparison levels (candidate pairs)"))
        else:
            counts = exp.select(*[lc.copy() for lc in level_cases], exp.Count(this=exp.Star()).as_("n")).from_(
                table_ref(table).as_("p")).group_by(*[exp.Literal.number(i + 1) for i in range(len(level_cases))])
            c.steps.append(LevelsStep(name=f"{stem}__ulevels", query=counts, match=name, location=where,
                                      description=f"match {name}: level patterns of the random pairs"))

    # 5b. term frequencies, 6. parameters
    tf_steps = {}
    for compare, values in comparisons:
        if not compare.tf_adjust:
            continue
        both = exp.union(side(la, left, left_filter).select(values["l"].copy().as_("v"), append=False),
                         side(ra, right, right_filter).select(values["r"].copy().as_("v"), append=False),
                         distinct=False)
        total = exp.Window(this=exp.Sum(this=exp.Count(this=exp.Star())))
        tf = exp.select(exp.column("v"), exp.Div(this=exp.cast(exp.Count(this=exp.Star()), "DOUBLE"),
                                                 expression=total).as_("tf")).from_(both.subquery("x")).where(
            exp.Not(this=exp.Is(this=exp.column("v"), expression=exp.Null()))).group_by(exp.column("v"))
        tf_steps[compare.key] = f"{stem}__tf_{compare.key}"
        c.steps.append(TermFrequencyStep(name=tf_steps[compare.key], query=tf, match=name, comparison=compare.key,
                                         description=f"match {name}: term frequencies of {compare.key}",
                                         location=where))
    c.steps.append(ParameterFitStep(name=f"{stem}__params", match=name, levels=f"{stem}__levels",
                                    ulevels=f"{stem}__ulevels", comparisons=tuple(models), train=spec.train,
                                    prior=spec.prior, left=left.table, right=right.table, left_alias=la, right_alias=ra,
                                    left_filter=left_filter, right_filter=right_filter, location=where,
                                    description=f"match {name}: m, u, weights and prior"))

    # 7. scores
    scored = exp.select(exp.Column(this=exp.Star(), table=exp.to_identifier("p"))).from_(
        table_ref(f"{stem}__levels").as_("p"))
    weight_terms = []
    for i, (compare, _) in enumerate(comparisons):
        key = compare.key
        alias = f"w{i}"
        scored = scored.join(table_ref(f"{stem}__params").as_(alias), on=exp.and_(
            exp.EQ(this=exp.column("comparison", alias), expression=exp.Literal.string(key)),
            exp.EQ(this=exp.column("level", alias), expression=exp.column(f"{key}_level", "p"))), join_type="left")
        weight = exp.column("weight", alias)
        if key in tf_steps:
            tfa = f"t{i}"
            scored = scored.join(table_ref(tf_steps[key]).as_(tfa), on=exp.EQ(
                this=exp.column("v", tfa), expression=exp.column(f"{key}__r", "p")), join_type="left")
            # Term-frequency adjustment: the level's weight, plus log2(u_random / tf) — a common value
            # (tf above the average agreement rate u_random) counts for less, a rare one for more.
            tf_weight = exp.Add(this=exp.column("weight", alias), expression=exp.Anonymous(this="log2", expressions=[
                exp.Div(this=exp.column("u_random", alias), expression=exp.Greatest(
                    this=exp.column("tf", tfa), expressions=[exp.Literal.number(1e-9)]))]))
            weight = exp.Case(ifs=[exp.If(this=exp.and_(
                exp.EQ(this=exp.column(f"{key}_level", "p"), expression=exp.Literal.string("exact")),
                exp.Not(this=exp.Is(this=exp.column("tf", tfa), expression=exp.Null()))), true=tf_weight)],
                default=weight)
        scored = scored.select(exp.Coalesce(this=weight, expressions=[exp.Literal.number(0)]).as_(f"{key}_weight"))
        weight_terms.append(exp.column(f"{key}_weight"))
    prior = exp.select(exp.column("weight")).from_(table_ref(f"{stem}__params")).where(
        exp.EQ(this=exp.column("comparison"), expression=exp.Literal.string("_prior")))
    total = exp.Subquery(this=prior)
    for term in weight_terms:
        total = exp.Add(this=total, expression=term)
    scored_full = exp.select("*", total.as_("match_weight")).from_(scored.subquery("s"))
    # 1 / (1 + 2^-w): stable for very large and very small weights.
    probability = exp.Div(this=exp.Literal.number(1), expression=exp.paren(exp.Add(
        this=exp.Literal.number(1), expression=exp.Pow(this=exp.Literal.number(2),
                                                       expression=exp.Neg(this=exp.column("match_weight"))))))
    scored_final = exp.select("*", exp.Round(this=probability, decimals=exp.Literal.number(6)).as_("match_probability")
                              ).from_(scored_full.subquery("f"))
    c.steps.append(ScoredPairsStep(name=f"{stem}__scored", query=scored_final, match=name, location=where,
                                   description=f"match {name}: weights and match probability of every candidate pair"))

    # 8. the accepted links
    names = {"match_probability", "match_weight"}
    for compare, _ in comparisons:
        names |= {f"{compare.key}_level", f"{compare.key}_weight"}
        names |= {f.column for f in features_for(compare.method, compare.key)}
    # The decision reads the pair's levels and scores (unqualified) and, where it needs them, the two
    # records' own columns (alias.column): "the IDs decide when both are valid, else the names".
    accept = c.expr(spec.accept, Scope({la: set(left.columns), ra: set(right.columns)}, names=names),
                    Level.ROW, (*path, "accept"))
    accept = accept.transform(lambda n: exp.column(n.name, "s") if isinstance(n, exp.Column) and not n.table else n)
    side_joins = []
    if any(col.table in (la, ra) for col in accept.find_all(exp.Column)):
        side_joins = [(table_ref(left.table).as_(la), exp.EQ(this=exp.column("_rid", la),
                                                               expression=exp.column("_lrid", "s"))),
                      (table_ref(right.table).as_(ra), exp.EQ(this=exp.column(right_id, ra),
                                                                expression=exp.column("_rrid", "s")))]
    accepted = exp.select(exp.Column(this=exp.Star(), table=exp.to_identifier("s"))).from_(
        table_ref(f"{stem}__scored").as_("s"))
    for table, condition in side_joins:
        accepted = accepted.join(table, on=condition)
    accepted = accepted.where(accept)
    if spec.unique:
        count = exp.Window(this=exp.Count(this=exp.Star()), partition_by=[exp.column("_lrid")])
        accepted = accepted.qualify(exp.EQ(this=count, expression=exp.Literal.number(1)))
    if spec.one_to_one:
        accepted = _mutual_best(accepted)
    explanation = []
    for compare, _ in comparisons:
        key = compare.key
        fields = [
            exp.PropertyEQ(this=exp.to_identifier("method"), expression=exp.Literal.string(compare.method)),
            exp.PropertyEQ(this=exp.to_identifier("level"), expression=exp.column(f"{key}_level", "a")),
            exp.PropertyEQ(this=exp.to_identifier("weight"), expression=exp.Round(
                this=exp.column(f"{key}_weight", "a"), decimals=exp.Literal.number(3))),
            exp.PropertyEQ(this=exp.to_identifier("left"), expression=exp.cast(exp.column(f"{key}__l", "a"), "VARCHAR")),
            exp.PropertyEQ(this=exp.to_identifier("right"), expression=exp.cast(exp.column(f"{key}__r", "a"), "VARCHAR")),
        ]
        for feature in features_for(compare.method, key):
            if feature.kind != "pinyin_equal":
                fields.append(exp.PropertyEQ(this=exp.to_identifier(feature.kind), expression=exp.Round(
                    this=exp.column(feature.column, "a"), decimals=exp.Literal.number(1))))
        explanation.append(exp.PropertyEQ(this=exp.to_identifier(key), expression=exp.Struct(expressions=fields)))
    explanation += [exp.PropertyEQ(this=exp.to_identifier("match_probability"),
                                   expression=exp.column("match_probability", "a")),
                    exp.PropertyEQ(this=exp.to_identifier("match_weight"),
                                   expression=exp.Round(this=exp.column("match_weight", "a"),
                                                        decimals=exp.Literal.number(3)))]
    level_parts: list[exp.Expression] = []
    for i, (compare, _) in enumerate(comparisons):
        if i:
            level_parts.append(exp.Literal.string(","))
        level_parts.append(exp.column(f"{compare.key}_level", "a"))
    level_text = level_parts[0] if len(level_parts) == 1 else exp.Concat(expressions=level_parts)
    scope = Scope({la: set(left.columns), ra: set(right.columns)})
    select = spec.select or {col: f"{ra}.{col}" for col in right.columns if not col.startswith("_")}
    selected = [c.expr(text, scope, Level.ROW, (*path, "select", out)).as_(out) for out, text in select.items()]
    lineage = []
    if left.rows_of:
        lineage.append(c.refs(la, left))
    if right.rows_of or "_refs" in right.columns:
        lineage.append(c.refs(ra, right))
    final = exp.select(exp.column("_lrid", "a").as_("_rid"), exp.column("_rrid", "a").as_("_rrid"), *selected,
                       exp.column("match_probability", "a"), exp.column("match_weight", "a"),
                       level_text.as_("match_level"), exp.Struct(expressions=explanation).as_("_match"),
                       c.concat_refs(lineage).as_("_refs"),
                       lid(exp.column("_lrid", "a"), exp.column("_rrid", "a")).as_("_lid")).from_(accepted.subquery("a")).join(
        table_ref(left.table).as_(la), on=exp.EQ(this=exp.column("_rid", la), expression=exp.column("_lrid", "a"))
    ).join(table_ref(right.table).as_(ra), on=exp.EQ(this=exp.column(right_id, ra),
                                                       expression=exp.column("_rrid", "a")))
    out_columns = ["_rid", "_rrid", *select, "match_probability", "match_weight", "match_level", "_match", "_refs", "_lid"]
    keys = [compare.key for compare, _ in comparisons]
    c.steps.append(LinksStep(name=stem, query=final, match=name, stem=stem, accept_text=spec.accept,
                             near_misses=f"{stem}__near", comparisons=tuple(keys), location=where,
                             description=f"match {name}: accepted links ({spec.accept})"
                             + ("; only when exactly one right row fits" if spec.unique else "")
                             + ("; only each row's strictly best link, on both sides" if spec.one_to_one else "")))
    c.steps.append(NearMissStep(name=f"{stem}__near", query=_near_misses(stem, accept, side_joins, spec, keys),
                                view=True, match=name, location=where,
                                description=f"match {name}: candidate pairs not linked, with why (lsm explain --data "
                                            f"lists the nearest)"))
    return ObjectInfo(name, "relation", stem, out_columns)


def _near_misses(stem: str, accept: exp.Expression, side_joins: list, spec: MatchSpec, keys: list[str]) -> exp.Select:
    """Every scored pair that did not become a link: its probability, why it was left out, and each
    comparison's level, values and weight (a view: only ``lsm explain --data`` reads it)."""
    why = exp.Case(ifs=[exp.If(this=exp.Coalesce(this=exp.paren(accept.copy()), expressions=[exp.false()]),
                               true=exp.Literal.string(_ambiguity_reason(spec)))],
                   default=exp.Literal.string("below the decision"))
    columns = []
    for key in keys:
        columns += [exp.column(f"{key}_level", "s"), exp.column(f"{key}__l", "s"), exp.column(f"{key}__r", "s"),
                    exp.Round(this=exp.column(f"{key}_weight", "s"), decimals=exp.Literal.number(2)).as_(f"{key}_weight")]
    query = exp.select(exp.column("_lrid", "s"), exp.column("_rrid", "s"),
                       exp.Round(this=exp.column("match_probability", "s"), decimals=exp.Literal.number(4)
                                 ).as_("match_probability"), why.as_("why"), *columns).from_(
        table_ref(f"{stem}__scored").as_("s"))
    for table, condition in side_joins:
        query = query.join(table.copy(), on=condition.copy())
    linked = exp.select(exp.Literal.number(1)).from_(table_ref(stem).as_("k")).where(exp.and_(
        exp.EQ(this=exp.column("_rid", "k"), expression=exp.column("_lrid", "s")),
        exp.EQ(this=exp.column("_rrid", "k"), expression=exp.column("_rrid", "s"))))
    return query.where(exp.Not(this=exp.Exists(this=linked)))


def _scrambled(row_id: exp.Expression, multiplier: int) -> exp.Expression:
    """A row id mixed by integer arithmetic every engine computes alike (no engine's own hash):
    ((id mod p) × m + 104729) mod p, with p the prime 1,000,003."""
    prime = exp.Literal.number(1_000_003)
    mixed = exp.Add(this=exp.Mul(this=exp.paren(exp.Mod(this=row_id, expression=prime)),
                                 expression=exp.Literal.number(multiplier)), expression=exp.Literal.number(104729))
    return exp.Mod(this=exp.paren(mixed), expression=prime.copy())


def _mutual_best(accepted: exp.Select) -> exp.Select:
    """One-to-one: a pair survives when its weight is the strict maximum among the accepted pairs of
    its left row and of its right row (a tie at the top is ambiguous and drops out)."""
    weight = exp.column("match_weight")
    tops = [exp.Window(this=exp.Max(this=weight.copy()), partition_by=[exp.column(side)]).as_(f"_top{side}")
            for side in ("_lrid", "_rrid")]
    with_tops = exp.select("*", *tops).from_(accepted.subquery("t"))
    counts = [exp.Window(this=exp.Sum(this=exp.Case().when(
        exp.EQ(this=weight.copy(), expression=exp.column(f"_top{side}")), exp.Literal.number(1)).else_(
        exp.Literal.number(0))), partition_by=[exp.column(side)]).as_(f"_n{side}") for side in ("_lrid", "_rrid")]
    with_counts = exp.select("*", *counts).from_(with_tops.subquery("c"))
    keep = exp.and_(*(exp.EQ(this=weight.copy(), expression=exp.column(f"_top{side}")) for side in ("_lrid", "_rrid")),
                    *(exp.EQ(this=exp.column(f"_n{side}"), expression=exp.Literal.number(1))
                      for side in ("_lrid", "_rrid")))
    return exp.select("*").from_(with_counts.subquery("b")).where(keep)  # the links read only the pair's columns


def _ambiguity_reason(spec: MatchSpec) -> str:
    """Why an accepted pair can still be left out (listed by ``lsm explain --data``)."""
    reasons = (["not unique"] if spec.unique else []) + (["not the best link of both rows"] if spec.one_to_one else [])
    return "accepted but " + " or ".join(reasons) if reasons else "accepted"
