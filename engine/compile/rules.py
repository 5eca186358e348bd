"""Compile one rule: hits → clues → score and rank → evidence → contract rows.

Steps, all named ``m_<model>__<rule>__<step>``:

1. ``hits``  — one row per combination of joined rows that fires the rule:
   the subject id, the lineage refs, and every column the clue fields read
   (renamed ``alias__column``). The executor checks that no row of the
   ``distinct_on`` alias repeats (a join that multiplies rows would double
   count amounts) before going on.
2. ``clues`` — grouped by subject: name, amount, period, confidence, values.
3. ``ranked`` — signals scaled to 0–1, the weighted score (0–100), the rank
   (``rank_by``, ties broken by subject id) and the Chinese summary.
4. ``sources`` — the source rows behind derived relations (e.g. the custody
   spells of a merged period), looked up in the staged datasets. Rows of
   inputs are packed directly in the clue step, never looked up again.
5. ``output`` — the clue rows in the columns of CONTRACT.md.
"""

from __future__ import annotations

import re

from sqlglot import exp

from engine.compile.compiler import Compiler
from engine.compile.expressions import ExpressionError, Level, Scope, check
from engine.dialects.nodes import ToJson, format_number
from engine.plan.fingerprint import AS_OF_MARK
from engine.plan.steps import (
    CluesStep,
    EvidenceStep,
    HitsStep,
    OutputStep,
    RankedStep,
    RulePlan,
    dataset_table,
)
from engine.spec.model import RuleSpec
from engine.spec.suggest import did_you_mean
from engine.sql import table_ref

PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)(?::([a-z_]+))?\}")
FORMATS = {"yuan", "date", "month", "masked", "text", "int", "pct"}
CLUE_FIELDS = ("subject_name", "amount", "period_start", "period_end", "confidence")
RESERVED = {"subject_id", *CLUE_FIELDS, "score", "rank", "summary", "evidence", "clue_id", "_refs"}


def _rename_for_hits(tree: exp.Expression, flags: set[str]) -> exp.Expression:
    """alias.col -> h.alias__col ; a flag or subject_id -> h.<name>."""

    def swap(node):
        if isinstance(node, exp.Column):
            if node.table:
                return exp.column(f"{node.table}__{node.name}", "h")
            if node.name in flags or node.name == "subject_id":
                return exp.column(node.name, "h")
        return node

    return tree.transform(swap)


def _qualify(tree: exp.Expression, table: str) -> exp.Expression:
    return tree.transform(lambda n: exp.column(n.name, table) if isinstance(n, exp.Column) and not n.table else n)


def _format(value: exp.Expression, fmt: str | None) -> exp.Expression:
    if fmt == "yuan":
        text = exp.DPipe(this=format_number(value, 2, grouping=True),
                         expression=exp.Literal.string("元"))
    elif fmt == "date":
        text = exp.TimeToStr(this=value, format=exp.Literal.string("%Y年%-m月%-d日"))
    elif fmt == "month":
        text = exp.TimeToStr(this=value, format=exp.Literal.string("%Y年%-m月"))
    elif fmt == "masked":
        text = exp.DPipe(this=exp.DPipe(this=exp.Left(this=value, expression=exp.Literal.number(6)),
                                        expression=exp.Literal.string("********")),
                         expression=exp.Right(this=value.copy(), expression=exp.Literal.number(4)))
    elif fmt == "pct":
        text = exp.DPipe(this=format_number(exp.Mul(this=value, expression=exp.Literal.number(100)), 0),
                         expression=exp.Literal.string("%"))
    elif fmt == "int":
        text = exp.cast(exp.cast(value, "BIGINT"), "VARCHAR")
    else:
        text = exp.cast(value, "VARCHAR")
    return exp.Coalesce(this=text, expressions=[exp.Literal.string("（空）")])


def compile_summary(c: Compiler, template: str, names: set[str], path: tuple) -> exp.Expression:
    parts: list[exp.Expression] = []
    position = 0
    for m in PLACEHOLDER.finditer(template):
        if m.start() > position:
            parts.append(exp.Literal.string(template[position:m.start()]))
        name, fmt = m.group(1), m.group(2)
        if name not in names:
            c.problem(path, f"summary placeholder {{{name}}} is not a clue value{did_you_mean(name, names)} "
                            f"(known: {sorted(names)})")
        elif fmt and fmt not in FORMATS:
            c.problem(path, f"summary format ':{fmt}' is unknown (use one of {sorted(FORMATS)})")
        else:
            parts.append(_format(exp.column(name, "r"), fmt))
        position = m.end()
    if position < len(template):
        parts.append(exp.Literal.string(template[position:]))
    if "{" in PLACEHOLDER.sub("", template):
        c.problem(path, "summary has a '{' that is not a placeholder like {amount:yuan}")
    return exp.Concat(expressions=parts, coalesce=True) if len(parts) > 1 else (parts[0] if parts else exp.Literal.string(""))


def _rank_terms(c: Compiler, entries: list[str], names: set[str], path: tuple) -> list[exp.Ordered]:
    terms = []
    for i, entry in enumerate(entries):
        m = re.fullmatch(r"\s*(.+?)\s+(ASC|DESC|asc|desc)\s*", entry)
        text, direction = (m.group(1), m.group(2).upper()) if m else (entry, "DESC")
        try:
            tree = check(text, Scope(names=names), Level.CLUE, as_of=c.as_of)
        except ExpressionError as exc:
            c.expression_problem((*path, i), entry, exc)
            continue
        terms.append(exp.Ordered(this=_qualify(tree, "r"), desc=direction == "DESC", nulls_first=False))
    return terms


def compile_rule(c: Compiler, rule: RuleSpec, path: tuple) -> RulePlan | None:
    built = c.source_scope(rule.from_, rule.join, path)
    if built is None:
        return None
    query, scope, refs, flags = built
    stem = f"{c.prefix}__{rule.id}"
    clue = rule.clue
    cpath = (*path, "clue")
    if rule.where:
        query = query.where(c._with_flags(c.expr(rule.where, scope, Level.ROW, (*path, "where")), flags))
    subject = c._with_flags(c.expr(clue.subject_id, scope, Level.ROW, (*cpath, "subject_id")), flags)
    query = query.where(exp.Not(this=exp.Is(this=subject.copy(), expression=exp.Null())))

    # Clue fields: aggregates over the hits of one subject.
    group_scope = Scope(dict(scope.aliases), set(flags) | {"subject_id"})
    texts: dict[str, tuple[str, tuple]] = {"subject_name": (clue.subject_name, (*cpath, "subject_name")),
                                           "confidence": (clue.confidence, (*cpath, "confidence"))}
    for optional in ("amount", "period_start", "period_end"):
        if getattr(clue, optional) is not None:
            texts[optional] = (getattr(clue, optional), (*cpath, optional))
    for name, text in clue.values.items():
        if name in RESERVED:
            c.problem((*cpath, "values", name), f"'{name}' is a reserved clue name; choose another")
        texts[name] = (text, (*cpath, "values", name))
    for name, text in clue.evidence.values.items():
        texts[f"ev__{name}"] = (text, (*cpath, "evidence", "values", name))
    fields = {name: c._with_flags(c.expr(text, group_scope, Level.GROUP, p), {}) for name, (text, p) in texts.items()}

    # 1. hits
    referenced = sorted({(col.table, col.name) for tree in fields.values() for col in tree.find_all(exp.Column)
                         if col.table})
    used_flags = sorted({col.name for tree in fields.values() for col in tree.find_all(exp.Column)
                         if not col.table and col.name in flags})
    evidence_aliases = clue.evidence.rows or [a for a in scope.aliases]
    evidence_inputs: list[str] = []  # input aliases: their rows are packed right here
    evidence_relations: list[tuple[str, str | None]] = []  # relation aliases (and tables): lineage looked up later
    evidence_columns: list[exp.Expression] = []
    for i, alias in enumerate(evidence_aliases):
        if alias not in scope.aliases:
            c.problem((*cpath, "evidence", "rows", i), f"evidence row alias '{alias}' is not joined in this rule "
                                                         f"(joined: {sorted(scope.aliases)})")
            continue
        info = c.objects[_object_of(rule, alias)]
        if info.rows_of:
            entry = source_entry(c.catalogue.dataset(info.rows_of), alias)
            if any(j.name == alias and j.kind == "left" for j in rule.join):
                entry = exp.Case(ifs=[exp.If(this=exp.Is(this=exp.column("_rid", alias), expression=exp.Null()),
                                             true=exp.Null())], default=entry)
            evidence_columns.append(entry.as_(f"_src__{alias}"))
            evidence_columns.append(exp.column("_rid", alias).as_(f"_ord__{alias}"))
            evidence_inputs.append(alias)
        elif info.has_lid:  # a materialised relation: carry its row id, look its lineage up once per clue
            evidence_columns.append(exp.column("_lid", alias).as_(f"_lid__{alias}"))
            evidence_relations.append((alias, c.objects[_object_of(rule, alias)].table))
        elif "_refs" in info.columns:
            evidence_columns.append(exp.column("_refs", alias).as_(f"_refs__{alias}"))
            evidence_relations.append((alias, None))
    hits = query.select(subject.as_("subject_id"), *evidence_columns,
                        *[exp.column(col, table).as_(f"{table}__{col}") for table, col in referenced],
                        *[flags[f].copy().as_(f) for f in used_flags])
    fanout = None
    distinct_alias = rule.from_ if rule.distinct_on == "from" else rule.distinct_on
    if distinct_alias:
        target = c.objects.get(_object_of(rule, distinct_alias)) if distinct_alias in scope.aliases else None
        if target is None:
            c.problem((*path, "distinct_on"), f"distinct_on '{distinct_alias}' is not joined in this rule")
        elif not (target.has_rid or target.has_lid):
            c.problem((*path, "distinct_on"), f"'{distinct_alias}' has no row id (_rid) to check; use an input "
                                              f"or a relation that keeps _rid, or set distinct_on: null")
        else:
            row_id = "_rid" if target.has_rid else "_lid"  # _lid: a materialised relation's own row number
            hits = hits.select(exp.column(row_id, distinct_alias).as_("_base"))
            fanout = distinct_alias
    c.steps.append(HitsStep(name=f"{stem}__hits", query=hits, view=True, rule_id=rule.id,
                            description=f"rule {rule.id}: rows that fire the rule", location=c.loaded.doc.where(path)))

    # 2. clues: one pass over the hits — clue fields, evidence lists, and the fan-out counts
    defaults = {"amount": exp.cast(exp.Null(), "DECIMAL(18,2)"), "period_start": exp.cast(exp.Null(), "DATE"),
                "period_end": exp.cast(exp.Null(), "DATE")}
    selected = [exp.column("subject_id", "h")]
    for name in (*CLUE_FIELDS, *[n for n in fields if n not in CLUE_FIELDS]):
        tree = fields.get(name)
        value = _rename_for_hits(tree, set(used_flags)) if tree is not None else defaults[name]
        if name == "confidence":
            value = exp.cast(value, "DOUBLE")
        selected.append(value.as_(name))
    scalar_names = [e.alias for e in selected[1:]]
    selected.extend(_evidence_aggregates(evidence_inputs, evidence_relations, fanout))
    if fanout:
        selected += [exp.Count(this=exp.Star()).as_("_hits"),
                     exp.Count(this=exp.Distinct(expressions=[exp.column("_base", "h")])).as_("_bases")]
    clues = exp.select(*selected).from_(table_ref(f"{stem}__hits").as_("h")).group_by(exp.column("subject_id", "h"))
    c.steps.append(CluesStep(name=f"{stem}__clues", query=clues, rule_id=rule.id, fanout_check=fanout,
                             description=f"rule {rule.id}: one clue per subject", location=c.loaded.doc.where(cpath)))

    # 3. signals, score, rank, summary
    value_names = {"subject_id", *CLUE_FIELDS, *clue.values}
    signals: list[tuple[str, exp.Expression, float, str]] = []
    for name, signal in rule.score.signals.items():
        spath = (*path, "score", "signals", name)
        try:
            tree = _qualify(check(signal.value, Scope(names=value_names), Level.CLUE, as_of=c.as_of), "c")
        except ExpressionError as exc:
            c.expression_problem((*spath, "value"), signal.value, exc)
            continue
        number = exp.cast(tree, "DOUBLE")
        if signal.scale == "max":
            scaled = exp.Div(this=number, expression=exp.Nullif(
                this=exp.Window(this=exp.Max(this=number.copy())), expression=exp.Literal.number(0)))
        elif signal.scale == "rank":
            scaled = exp.Window(this=exp.Anonymous(this="cume_dist", expressions=[]),
                                order=exp.Order(expressions=[exp.Ordered(this=number.copy())]))
        else:
            scaled = number
        clamped = exp.Least(this=exp.Greatest(this=exp.Coalesce(this=scaled, expressions=[exp.Literal.number(0)]),
                                              expressions=[exp.Literal.number(0)]),
                            expressions=[exp.Literal.number(1)])
        signals.append((name, clamped, signal.weight, signal.label or name))
    if signals:
        total = sum(w for _, _, w, _ in signals) or 1.0
        terms = [exp.Mul(this=exp.column(f"s__{name}"), expression=exp.Literal.number(weight))
                 for name, _, weight, _ in signals]
        weighted = terms[0]
        for term in terms[1:]:
            weighted = exp.Add(this=weighted, expression=term)
        # (Σ weight·signal) × 100 / Σ weight — parenthesised: an AST carries no precedence of its own.
        score = exp.Round(this=exp.Div(this=exp.Mul(this=exp.paren(weighted), expression=exp.Literal.number(100)),
                                       expression=exp.Literal.number(total)), decimals=exp.Literal.number(2))
    else:
        score = exp.Round(this=exp.Mul(this=exp.column("confidence"), expression=exp.Literal.number(100)),
                          decimals=exp.Literal.number(2))
    with_signals = exp.select(exp.column("subject_id", "c"), *[exp.column(n, "c") for n in scalar_names],
                              *[t.as_(f"s__{n}") for n, t, _, _ in signals]).from_(
        table_ref(f"{stem}__clues").as_("c"))
    scored = exp.select("*", score.as_("score")).from_(with_signals.subquery("w"))
    rank_names = value_names | {"score"} | {f"s__{n}" for n, _, _, _ in signals}
    order = _rank_terms(c, rule.score.rank_by, rank_names, (*path, "score", "rank_by"))
    order.append(exp.Ordered(this=exp.column("subject_id", "r")))
    rank = exp.Window(this=exp.RowNumber(), order=exp.Order(expressions=order))
    summary = compile_summary(c, clue.summary, value_names, (*cpath, "summary"))
    explain = _score_explanation(signals)
    ranked = exp.select(exp.Column(this=exp.Star(), table=exp.to_identifier("r")), rank.as_("rank"), summary.as_("summary"),
                        explain.as_("score_explain")).from_(scored.subquery("r"))
    c.steps.append(RankedStep(name=f"{stem}__ranked", query=ranked, rule_id=rule.id,
                              description=f"rule {rule.id}: signals, score, rank and summary",
                              location=c.loaded.doc.where((*path, "score"))))

    # 4. the source rows behind derived relations, looked up through their lineage; 5. output
    if evidence_relations:
        c.steps.append(EvidenceStep(name=f"{stem}__sources", query=_relation_sources(c, stem, evidence_relations),
                                    rule_id=rule.id, location=c.loaded.doc.where(cpath),
                                    description=f"rule {rule.id}: the source rows behind "
                                                f"{', '.join(a for a, _ in evidence_relations)}"))
    subject_type = rule.subject_type or c.spec.subject_type
    output = _output_query(c, rule, stem, subject_type, signals, clue, len(evidence_inputs), bool(evidence_relations))
    c.steps.append(OutputStep(name=f"{stem}__output", query=output, view=True, rule_id=rule.id,
                              description=f"rule {rule.id}: clue rows", location=c.loaded.doc.where(path)))
    return RulePlan(rule.id, rule.title or c.spec.title.zh, subject_type, f"{stem}__output")


def _object_of(rule: RuleSpec, alias: str) -> str:
    if alias == rule.from_:
        return rule.from_
    for j in rule.join:
        if j.name == alias:
            return j.to
    return alias


def _score_explanation(signals: list[tuple[str, exp.Expression, float, str]]) -> exp.Expression:
    """'金额 0.82×70 + 置信度 1.00×30 = 87.40' (weights as given)."""
    if not signals:
        return exp.Concat(expressions=[exp.Literal.string("置信度 "), format_number(exp.column("confidence", "r"), 2),
            exp.Literal.string("×100 = "), format_number(exp.column("score", "r"), 2)])
    parts: list[exp.Expression] = []
    for i, (name, _, weight, label) in enumerate(signals):
        if i:
            parts.append(exp.Literal.string(" + "))
        parts.append(exp.Literal.string(f"{label} "))
        parts.append(format_number(exp.column(f"s__{name}", "r"), 2))
        parts.append(exp.Literal.string(f"×{weight:g}"))
    total = sum(w for _, _, w, _ in signals)
    if abs(total - 100) > 1e-9:
        parts.append(exp.Literal.string(f"（÷{total:g}×100）"))
    parts.append(exp.Literal.string(" = "))
    parts.append(format_number(exp.column("score", "r"), 2))
    return exp.Concat(expressions=parts)


def _as_of_literal(as_of) -> exp.Literal:
    """The run's as-of date in the evidence, marked so the plan's fingerprint leaves it out."""
    literal = exp.Literal.string(as_of.isoformat())
    literal.meta[AS_OF_MARK] = True
    return literal


def source_entry(dataset, alias: str) -> exp.Expression:
    """One source row as evidence, as JSON text: dataset, file, row number, key and every field.

    Evidence is assembled as JSON *text* (joined with commas, wrapped in brackets): a million source
    rows would otherwise be parsed and re-serialised each time a list of JSON values is nested."""
    fields = exp.Struct(expressions=[_prop(col, exp.column(col, alias)) for col in dataset.column_names])
    key = (exp.Struct(expressions=[_prop(col, exp.column(col, alias)) for col in dataset.primary_key])
           if dataset.primary_key else exp.Null())
    return exp.cast(ToJson(this=exp.Struct(expressions=[
        _prop("dataset", exp.Literal.string(dataset.name)), _prop("file", exp.column("_file", alias)),
        _prop("row", exp.column("_row", alias)), _prop("key", key), _prop("fields", fields)])), "VARCHAR")


def _joined(value: exp.Expression, order: exp.Expression, distinct: bool = False) -> exp.Expression:
    """JSON texts, in order, joined with commas (the inside of an array). An ordered list then joined:
    DuckDB's ordered string_agg is three times slower over a million rows."""
    inner = exp.Distinct(expressions=[value]) if distinct else value
    ordered = exp.ArrayAgg(this=exp.Order(this=inner, expressions=[exp.Ordered(this=order)]))
    return exp.ArrayToString(this=ordered, expression=exp.Literal.string(","))


def _evidence_aggregates(inputs: list[str], relations: list[tuple[str, str | None]], base: str | None
                         ) -> list[exp.Expression]:
    """Per subject: the JSON list of each input's source rows (in file order), and the row ids or
    lineage refs of the derived relations (looked up in the next step)."""
    h = "h"
    out = []
    for i, alias in enumerate(inputs):
        entry = exp.column(f"_src__{alias}", h)
        if alias == base:  # each row once per subject, by construction (the fan-out check)
            out.append(_joined(entry, exp.column(f"_ord__{alias}", h)).as_(f"_list{i}"))
        else:
            out.append(_joined(entry, entry.copy(), distinct=True).as_(f"_list{i}"))
    for alias, table in relations:
        if table:
            out.append(exp.ArrayAgg(this=exp.Distinct(expressions=[exp.column(f"_lid__{alias}", h)])
                                    ).as_(f"_lids__{alias}"))
        else:
            out.append(exp.ArrayDistinct(this=exp.Flatten(this=exp.ArrayAgg(
                this=exp.column(f"_refs__{alias}", h)))).as_(f"_refs__{alias}"))
    return out


def _relation_sources(c: Compiler, stem: str, relations: list[tuple[str, str | None]]) -> exp.Expression:
    """Source rows behind derived relations, from the row ids / refs gathered per clue (table ``g``)."""
    ref_sets = []
    for alias, table in relations:
        if table:  # unnest the relation row ids, join the relation, unnest its refs
            lids = exp.select(exp.column("subject_id", "g"),
                              exp.Explode(this=exp.column(f"_lids__{alias}", "g")).as_("lid")).from_(
                table_ref("g").as_("g"))
            ref_sets.append(exp.select(exp.column("subject_id", "l"), exp.Explode(this=exp.column("_refs", "r")
                                                                                  ).as_("ref"))
                            .from_(lids.subquery("l")).join(table_ref(table).as_("r"), on=exp.EQ(
                                this=exp.column("_lid", "r"), expression=exp.column("lid", "l"))))
        else:
            ref_sets.append(exp.select(exp.column("subject_id", "g"), exp.Explode(
                this=exp.column(f"_refs__{alias}", "g")).as_("ref")).from_(table_ref("g").as_("g")))
    refs = ref_sets[0]
    for more in ref_sets[1:]:
        refs = exp.union(refs, more, distinct=False)
    unnested = exp.select("*").from_(refs.subquery("q")).distinct()
    parts = []
    for dataset_name in c.spec.datasets:
        dataset = c.catalogue.dataset(dataset_name)
        ref = exp.column("ref", "u")
        on = exp.and_(exp.EQ(this=exp.Dot(this=ref.copy(), expression=exp.to_identifier("d")),
                             expression=exp.Literal.string(dataset.name)),
                      exp.EQ(this=exp.column("_file", "t"), expression=exp.Dot(this=ref.copy(),
                                                                                 expression=exp.to_identifier("f"))),
                      exp.EQ(this=exp.column("_row", "t"), expression=exp.Dot(this=ref.copy(),
                                                                                expression=exp.to_identifier("r"))))
        parts.append(exp.select(exp.column("subject_id", "u"), source_entry(dataset, "t").as_("src"),
                                exp.column("_rid", "t").as_("_ord"), exp.Literal.string(dataset.name).as_("_d"))
                     .from_(unnested.subquery("u")).join(table_ref(dataset_table(dataset.name)).as_("t"), on=on))
    union = parts[0]
    for part in parts[1:]:
        union = exp.union(union, part, distinct=False)
    ordered = exp.ArrayToString(this=exp.ArrayAgg(this=exp.Order(this=exp.column("src"), expressions=[
        exp.Ordered(this=exp.column("_d")), exp.Ordered(this=exp.column("_ord"))])), expression=exp.Literal.string(","))
    return exp.select(exp.column("subject_id"), ordered.as_("sources")).from_(union.subquery("y")).group_by(
        exp.column("subject_id")).with_("g", as_=exp.select("*").from_(table_ref(f"{stem}__clues")))


def _concat(parts: list[exp.Expression]) -> exp.Expression:
    out = parts[0]
    for part in parts[1:]:
        out = exp.ArrayConcat(this=out, expressions=[part])
    return out


def _prop(name: str, value: exp.Expression) -> exp.PropertyEQ:
    return exp.PropertyEQ(this=exp.to_identifier(name), expression=value)


def _output_query(c: Compiler, rule: RuleSpec, stem: str, subject_type: str,
                  signals: list[tuple[str, exp.Expression, float, str]], clue, input_lists: int,
                  with_relation_sources: bool) -> exp.Expression:
    r = "r"
    parts = [exp.column(f"_list{i}", "c") for i in range(input_lists)]
    if with_relation_sources:
        parts.append(exp.column("sources", "s"))
    # The pieces of the sources array, commas only between present ones (concat skips NULLs), so the
    # evidence text is built in one concatenation (it can be megabytes per clue).
    inside: list[exp.Expression] = []
    for i, part in enumerate(parts):
        if i:
            earlier = [exp.Not(this=exp.Is(this=p.copy(), expression=exp.Null())) for p in parts[:i]]
            inside.append(exp.Case(ifs=[exp.If(this=exp.and_(exp.or_(*earlier), exp.Not(
                this=exp.Is(this=part.copy(), expression=exp.Null()))), true=exp.Literal.string(","))]))
        inside.append(part)
    key = exp.Concat(expressions=[exp.Literal.string(f"{c.spec.id}:{rule.id}:"), exp.column("subject_id", r)])
    clue_id = exp.Substring(this=exp.SHA2(this=key, length=exp.Literal.number(256)), start=exp.Literal.number(1),
                            length=exp.Literal.number(24))
    values = [_prop(n, exp.column(n, r)) for n in clue.values]
    values += [_prop(n, exp.column(f"ev__{n}", r)) for n in clue.evidence.values]
    signal_list = exp.Array(expressions=[exp.Struct(expressions=[
        _prop("name", exp.Literal.string(n)), _prop("label", exp.Literal.string(label)),
        _prop("value", exp.Round(this=exp.column(f"s__{n}", r), decimals=exp.Literal.number(4))),
        _prop("weight", exp.Literal.number(w))]) for n, _, w, label in signals])
    head = ToJson(this=exp.Struct(expressions=[
        _prop("model", exp.Literal.string(c.spec.id)),
        _prop("model_version", exp.Literal.string(c.spec.version)),
        _prop("rule", exp.Literal.string(rule.id)),
        _prop("legal_basis", exp.Literal.string(c.spec.legal_basis.citation)),
        _prop("as_of", _as_of_literal(c.as_of)),
        _prop("subject", exp.Struct(expressions=[_prop("type", exp.Literal.string(subject_type)),
                                                  _prop("id", exp.column("subject_id", r)),
                                                  _prop("name", exp.column("subject_name", r))])),
        _prop("values", exp.Struct(expressions=values) if values else exp.Null()),
        _prop("score", exp.Struct(expressions=[_prop("score", exp.column("score", r)),
                                               _prop("explain", exp.column("score_explain", r)),
                                               _prop("signals", signal_list)])),
        _prop("datasets", exp.Struct(expressions=[_prop(d, exp.Literal.string(c.catalogue.dataset(d).title))
                                                  for d in c.spec.datasets])),
    ]))
    # {"model": …, "datasets": {…}} + "sources": [ … ]  — the head always ends with its closing brace.
    head_text = exp.column("_head", r)
    evidence = exp.Concat(coalesce=True, expressions=[
        exp.Substring(this=head_text, start=exp.Literal.number(1),
                      length=exp.Sub(this=exp.Length(this=head_text.copy()), expression=exp.Literal.number(1))),
        exp.Literal.string(',"sources":['), *inside, exp.Literal.string("]}")])
    with_head = exp.select(exp.Column(this=exp.Star(), table=exp.to_identifier(r)),
                           exp.cast(head, "VARCHAR").as_("_head")).from_(table_ref(f"{stem}__ranked").as_(r))
    query = exp.select(
        exp.Literal.string(c.spec.id).as_("model_id"), exp.Literal.string(rule.id).as_("rule_id"),
        clue_id.as_("clue_id"), exp.Literal.string(subject_type).as_("subject_type"),
        exp.cast(exp.column("subject_id", r), "VARCHAR").as_("subject_id"),
        exp.cast(exp.column("subject_name", r), "VARCHAR").as_("subject_name"),
        exp.cast(exp.column("rank", r), "INTEGER").as_("rank"),
        exp.cast(exp.column("score", r), "DOUBLE").as_("score"),
        exp.cast(exp.column("confidence", r), "DOUBLE").as_("confidence"),
        exp.cast(exp.column("amount", r), "DECIMAL(18,2)").as_("amount"),
        exp.cast(exp.column("period_start", r), "DATE").as_("period_start"),
        exp.cast(exp.column("period_end", r), "DATE").as_("period_end"),
        exp.column("summary", r).as_("summary"),
        evidence.as_("evidence"),
        exp.column("score_explain", r).as_("score_explain"),
    ).from_(with_head.subquery(r)).join(
        table_ref(f"{stem}__clues").as_("c"), on=exp.EQ(this=exp.column("subject_id", "c"),
                                                           expression=exp.column("subject_id", r)))
    if with_relation_sources:
        query = query.join(table_ref(f"{stem}__sources").as_("s"), on=exp.EQ(
            this=exp.column("subject_id", "s"), expression=exp.column("subject_id", r)), join_type="left")
    return query  # rows are put in rank order by the executor (sorting wide JSON rows in SQL costs)
