"""The compiler: a located ``ModelSpec`` in, a :class:`~engine.plan.ModelPlan` out.

Only this package turns what an analyst wrote into what runs. It resolves
every name (inputs, lookup tables, relations, columns), checks every
expression through the sandbox (:mod:`engine.compile.expressions`), and builds
each step's SQL as a sqlglot AST — never by string concatenation. Problems are
collected, each with the file:line of the value that caused it, and raised
together. Pure: no data, no database.

Lineage: every derived row carries ``_refs``, the list of source rows
(dataset, file, row) it came from; input rows are referenced through their
``_file``/``_row``. A clue's evidence is the union of its hits' refs.

Example::

    plan = compile_model(loaded, catalogue, as_of=date(2024, 6, 30))
    [s.name for s in plan.steps]
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlglot import exp

from engine.compile.expressions import ExpressionError, Level, Scope, check
from engine.compile.lookup import lookup_table
from engine.plan.steps import (
    REF_TYPE,
    CrossGuardStep,
    InputStep,
    IntervalMergeStep,
    LookupStep,
    RelationStep,
    Step,
    dataset_table,
)
from engine.spec.catalog import Catalogue
from engine.spec.errors import Problem
from engine.spec.load import LoadedModel
from engine.spec.model import JoinSpec, MergeIntervalsSpec, QuerySpec
from engine.spec.suggest import did_you_mean
from engine.sql import count_rows, table_ref

REF_LIST = exp.DataType.build(f"{REF_TYPE}[]", dialect="duckdb")
def lid(*keys: exp.Expression) -> exp.Window:
    """A materialised relation's row id (evidence looks rows up by it): numbered in the order of keys
    that tell its rows apart, so every engine gives every row the same id (a match's random sample for u
    is drawn by these ids)."""
    return exp.Window(this=exp.RowNumber(), order=exp.Order(expressions=[
        exp.Ordered(this=k.copy(), nulls_first=False) for k in keys]))


@dataclass
class ObjectInfo:
    """Something a query can read: an input, an inline table or a relation."""

    name: str
    kind: str  # input | table | relation
    table: str  # the DuckDB object holding it
    columns: list[str]
    dataset: str | None = None  # inputs, and relations that keep an input's rows: whose rows these are

    @property
    def has_rid(self) -> bool:
        return "_rid" in self.columns

    @property
    def rows_of(self) -> str | None:
        """The dataset whose rows these are (evidence points at them directly), if any."""
        return self.dataset if self.dataset and {"_file", "_row"} <= set(self.columns) else None

    @property
    def has_lid(self) -> bool:
        return "_lid" in self.columns


@dataclass
class Compiler:
    loaded: LoadedModel
    catalogue: Catalogue
    as_of: dt.date
    problems: list[Problem] = field(default_factory=list)
    objects: dict[str, ObjectInfo] = field(default_factory=dict)
    broken: set[str] = field(default_factory=set)  # names whose declaration failed (reported once, there)
    steps: list[Step] = field(default_factory=list)

    @property
    def spec(self):
        return self.loaded.spec

    @property
    def prefix(self) -> str:
        return f"m_{self.spec.id}"

    def problem(self, path: tuple, message: str) -> None:
        self.problems.append(self.loaded.doc.problem(path, message))

    def expr(self, text, scope: Scope, level: Level, path: tuple) -> exp.Expression:
        """Check an expression; on failure record a located problem and return NULL."""
        try:
            return check(text, scope, level, as_of=self.as_of)
        except ExpressionError as exc:
            self.expression_problem(path, text, exc)
            return exp.Null()

    def expression_problem(self, path: tuple, text, exc: ExpressionError) -> None:
        """A problem located at the offending token inside the expression, not at the start of its value."""
        doc = self.loaded.doc
        self.problems.append(doc.problem_at(doc.token_location(path, text, exc.offset), str(exc)))

    def obj(self, name: str, path: tuple) -> ObjectInfo | None:
        if name in self.objects:
            return self.objects[name]
        if name not in self.broken:  # a name whose own declaration failed was reported there
            self.problem(path, f"unknown input, table or relation '{name}'{did_you_mean(name, self.objects)} "
                               f"(declared: {sorted(self.objects)})")
        return None

    # ------------------------------------------------------------------ lineage

    def refs(self, alias: str, info: ObjectInfo, nullable: bool = False) -> exp.Expression:
        """The source-row references of one row of ``alias``."""
        if info.rows_of:
            ref = exp.Struct(expressions=[
                exp.PropertyEQ(this=exp.to_identifier("d"), expression=exp.Literal.string(info.rows_of)),
                exp.PropertyEQ(this=exp.to_identifier("f"), expression=exp.column("_file", alias)),
                exp.PropertyEQ(this=exp.to_identifier("r"), expression=exp.column("_row", alias)),
            ])
            value: exp.Expression = exp.Array(expressions=[ref])
            if nullable:
                value = exp.Case(ifs=[exp.If(this=exp.Is(this=exp.column("_rid", alias), expression=exp.Null()),
                                             true=exp.cast(exp.Array(expressions=[]), REF_LIST))], default=value)
            return value
        if info.kind == "relation":
            column = exp.column("_refs", alias)
            return exp.Coalesce(this=column, expressions=[exp.cast(exp.Array(expressions=[]), REF_LIST)]
                                ) if nullable else column
        return exp.cast(exp.Array(expressions=[]), REF_LIST)

    @staticmethod
    def concat_refs(parts: list[exp.Expression]) -> exp.Expression:
        if not parts:
            return exp.cast(exp.Array(expressions=[]), REF_LIST)
        out = parts[0]
        for part in parts[1:]:
            out = exp.ArrayConcat(this=out, expressions=[part])
        return out

    # ------------------------------------------------------------------ objects

    def add_inputs(self) -> None:
        for name, spec in self.spec.inputs.items():
            path = ("inputs", name)
            if spec.dataset not in self.catalogue.names:
                hint = did_you_mean(spec.dataset, self.catalogue.names) or (
                    f" (the catalogue has {', '.join(self.catalogue.names)})")
                self.problem((*path, "dataset"), f"unknown dataset '{spec.dataset}'{hint}")
                self.broken.add(name)
                continue
            columns = self.catalogue.dataset(spec.dataset).staged_columns
            info = ObjectInfo(name, "input", f"{self.prefix}__{name}", columns, spec.dataset)
            query = exp.select("*").from_(table_ref(dataset_table(spec.dataset)).as_(name))
            if spec.where:
                query = query.where(self.expr(spec.where, Scope({name: set(columns)}), Level.ROW, (*path, "where")))
            self.steps.append(InputStep(name=info.table, query=query, view=True, dataset=spec.dataset,
                                        description=f"{name}: {spec.dataset}", location=self.loaded.doc.where(path)))
            self.objects[name] = info

    def add_tables(self) -> None:
        for name, spec in self.spec.tables.items():
            path = ("tables", name)
            if not spec.rows:
                self.problem(path, "a lookup table needs at least one row")
                continue
            data, problems = lookup_table(spec.columns, spec.rows)
            for row, column, message in problems:
                self.problem((*path, "rows", row, column), message)
            if data is None:
                continue
            info = ObjectInfo(name, "table", f"{self.prefix}__{name}", list(spec.columns))
            self.steps.append(LookupStep(name=info.table, data=data, description=spec.description or f"lookup table {name}",
                                         location=self.loaded.doc.where(path)))
            self.objects[name] = info

    # ------------------------------------------------------------------ queries

    def source_scope(self, from_name: str, joins: list[JoinSpec], path: tuple
                     ) -> tuple[exp.Select, Scope, list[exp.Expression], dict[str, exp.Expression]] | None:
        """FROM + joins of a query: the SELECT skeleton, its scope, the refs and exists-flags."""
        base = self.obj(from_name, (*path, "from"))
        if base is None:
            return None
        scope = Scope({from_name: set(base.columns)})
        query = exp.select().from_(table_ref(base.table).as_(from_name))
        refs = [self.refs(from_name, base)]
        filters: list[exp.Expression] = []
        flags: dict[str, exp.Expression] = {}
        for i, join in enumerate(joins):
            jpath = (*path, "join", i)
            target = self.obj(join.to, (*jpath, "to"))
            if target is None:
                continue
            alias = join.name
            if alias in scope.aliases or alias in flags:
                self.problem(jpath, f"alias '{alias}' is used twice in this query; give the join an 'alias'")
                continue
            on_scope = Scope({**scope.aliases, alias: set(target.columns)}, set(flags))
            on = (self._with_flags(self.expr(join.on, on_scope, Level.ROW, (*jpath, "on")), flags)
                  if join.on is not None else exp.true())
            table = table_ref(target.table).as_(alias)
            if join.kind in ("inner", "left") and not links_sides(on, alias, set(scope.aliases)):
                self.problem((*jpath, "on"), f"the join of '{alias}' compares none of its columns with those of "
                                             f"{sorted(scope.aliases)}: it would pair every row with every row "
                                             f"(a nested loop). Compare columns (a.x = b.y; or, for 'x OR y', a "
                                             f"union of two relations), or declare kind: cross with max_rows")
            if join.kind in ("inner", "left", "cross"):
                if join.kind == "cross":
                    self.steps.append(self.cross_guard(join, base, from_name, target, jpath))
                query = query.join(table, on=on, join_type="inner" if join.kind == "cross" else join.kind)
                scope.aliases[alias] = set(target.columns)
                refs.append(self.refs(alias, target, nullable=join.kind == "left"))
            else:
                exists = exp.Exists(this=exp.select(exp.Literal.number(1)).from_(table).where(on))
                if join.kind == "semi":
                    filters.append(exists)
                elif join.kind == "anti":
                    filters.append(exp.Not(this=exists))
                else:
                    flags[alias] = exists
        scope.names = set(flags)
        for f in filters:
            query = query.where(f)
        return query, scope, refs, flags

    def cross_guard(self, join: JoinSpec, base: ObjectInfo, from_name: str, target: ObjectInfo, path: tuple
                    ) -> CrossGuardStep:
        """A guard before a declared cross join: the rows it pairs, at most ``max_rows``."""
        pairs = exp.Mul(this=exp.Subquery(this=count_rows(base.table)), expression=exp.Subquery(
            this=count_rows(target.table)))
        name = f"{self.prefix}__cross{sum(isinstance(s, CrossGuardStep) for s in self.steps)}"
        return CrossGuardStep(name=name, query=exp.select(pairs.as_("pairs")), join=f"{from_name} × {join.name}",
                              max_rows=join.max_rows, location=self.loaded.doc.where(path),
                              description=f"cross join {from_name} × {join.name}: at most {join.max_rows:,} pairs")

    @staticmethod
    def _with_flags(tree: exp.Expression, flags: dict[str, exp.Expression]) -> exp.Expression:
        if not flags:
            return tree

        def swap(node):
            if isinstance(node, exp.Column) and not node.table and node.name in flags:
                return flags[node.name].copy()
            return node

        return tree.transform(swap)

    def query_relation(self, name: str, spec: QuerySpec, path: tuple, description: str) -> ObjectInfo | None:
        built = self.source_scope(spec.from_, spec.join, path)
        if built is None:
            return None
        query, scope, refs, flags = built
        base = self.objects[spec.from_]
        if spec.where:
            query = query.where(self._with_flags(self.expr(spec.where, scope, Level.ROW, (*path, "where")), flags))
        columns: list[str] = []
        if spec.group_by:
            keys = [self._with_flags(self.expr(g, scope, Level.ROW, (*path, "group_by", i)), flags)
                    for i, g in enumerate(spec.group_by)]
            scope.group_keys = {k.sql("duckdb") for k in keys if isinstance(k, exp.Column)}
            query = query.group_by(*keys)
            for out, text in spec.select.items():
                query = query.select(self._with_flags(
                    self.expr(text, scope, Level.GROUP, (*path, "select", out)), flags).as_(out))
                columns.append(out)
            row_refs = self.concat_refs(refs)
            query = query.select(exp.ArrayDistinct(this=exp.Flatten(this=exp.ArrayAgg(this=row_refs))).as_("_refs"),
                                 lid(*keys).as_("_lid"))
            columns.extend(["_refs", "_lid"])
        else:
            if spec.select:
                for out, text in spec.select.items():
                    query = query.select(self._with_flags(
                        self.expr(text, scope, Level.ROW, (*path, "select", out)), flags).as_(out))
                    columns.append(out)
                if base.has_rid and "_rid" not in spec.select:
                    query = query.select(exp.column("_rid", spec.from_))
                    columns.append("_rid")
            else:
                passthrough = [c for c in base.columns if c not in ("_refs", "_lid")]
                query = query.select(*[exp.column(c, spec.from_) for c in passthrough])
                columns.extend(passthrough)
                for flag, tree in flags.items():
                    query = query.select(tree.copy().as_(flag))
                    columns.append(flag)
                for out, text in spec.extend.items():
                    if out in columns:
                        self.problem((*path, "extend", out), f"'{out}' is already a column of '{spec.from_}'")
                        continue
                    query = query.select(self._with_flags(
                        self.expr(text, scope, Level.ROW, (*path, "extend", out)), flags).as_(out))
                    columns.append(out)
            keeps_rows = base.rows_of if not spec.select else None
            if not keeps_rows:
                query = query.select(self.concat_refs(refs).as_("_refs"))
                columns.append("_refs")
        keeps_rows = base.rows_of if not spec.select and not spec.group_by else None
        info = ObjectInfo(name, "relation", f"{self.prefix}__{name}", columns, keeps_rows)
        # A row-level query stays a view: DuckDB then computes only what later steps read
        # (e.g. never the lineage of millions of rows that fire nothing); grouped ones are tables.
        self.steps.append(RelationStep(name=info.table, query=query, view=not spec.group_by,
                                       description=description or f"relation {name}", location=self.loaded.doc.where(path)))
        return info

    def union_relation(self, name: str, parts: list[str], path: tuple, description: str) -> ObjectInfo | None:
        """The rows of several relations, matched by column name (a column a part lacks is empty there).

        Each row keeps its lineage. The parts' row ids (``_rid``, ``_rrid``) are dropped: they would not
        be unique any more (a deposit linked by number and by name) — select the keys you join on."""
        infos = [self.obj(part, (*path, i)) for i, part in enumerate(parts)]
        if any(info is None for info in infos):
            return None
        internal = {"_refs", "_lid", "_file", "_row", "_rid", "_rrid"}
        columns = list(dict.fromkeys(c for info in infos for c in info.columns if c not in internal))
        branches = [exp.select(*[exp.column(c, part) for c in info.columns if c not in internal],
                               self.refs(part, info).as_("_refs")).from_(table_ref(info.table).as_(part))
                    for part, info in zip(parts, infos, strict=True)]
        branches = [self._aligned(branch, info, columns) for branch, info in zip(branches, infos, strict=True)]
        query: exp.Expression = branches[0]
        for branch in branches[1:]:
            query = exp.union(query, branch, distinct=False)
        order = [exp.column(c) for c in [*columns, "_refs"]]
        numbered = exp.select(exp.Star(), lid(*order).as_("_lid")).from_(query.subquery("u"))
        info = ObjectInfo(name, "relation", f"{self.prefix}__{name}", [*columns, "_refs", "_lid"])
        self.steps.append(RelationStep(name=info.table, query=numbered,
                                       description=description or f"union {name}: the rows of {', '.join(parts)}",
                                       location=self.loaded.doc.where(path)))
        return info

    @staticmethod
    def _aligned(branch: exp.Select, info: ObjectInfo, columns: list[str]) -> exp.Select:
        """A union part with every column of the union, in one order (NULL where the part lacks one):
        a plain UNION ALL that every engine runs (``UNION BY NAME`` is DuckDB's own)."""
        selected = {e.alias_or_name: e for e in branch.expressions}
        ordered = [selected[c] if c in selected else exp.Null().as_(c) for c in columns]
        return branch.select(*ordered, selected["_refs"], append=False)

    def merge_intervals(self, name: str, spec: MergeIntervalsSpec, path: tuple) -> ObjectInfo | None:
        base = self.obj(spec.from_, (*path, "from"))
        if base is None:
            return None
        alias = spec.from_
        scope = Scope({alias: set(base.columns)})
        keys = [self.expr(k, scope, Level.ROW, (*path, "key", i)) for i, k in enumerate(spec.key)]
        key_names = [k.name if isinstance(k, exp.Column) else f"key{i}" for i, k in enumerate(keys)]
        start = self.expr(spec.start, scope, Level.ROW, (*path, "start"))
        end = self.expr(spec.end, scope, Level.ROW, (*path, "end"))
        for reserved in ("start", "end", "spells", "_refs"):
            if reserved in spec.carry or reserved in key_names:
                self.problem((*path, "carry"), f"'{reserved}' is an output column of merge_intervals")
        open_end = exp.cast(exp.Literal.string("9999-12-31"), "DATE")
        # 1. the intervals, an open end as 9999-12-31
        spells = exp.select(*[k.as_(n) for k, n in zip(keys, key_names, strict=True)],
                            start.as_("_start"), exp.Coalesce(this=end, expressions=[open_end]).as_("_end"),
                            self.refs(alias, base).as_("_refs")).from_(
            table_ref(base.table).as_(alias)).where(exp.Not(this=exp.Is(this=start, expression=exp.Null())))
        if spec.where:
            spells = spells.where(self.expr(spec.where, scope, Level.ROW, (*path, "where")))
        carry_scope = Scope({alias: set(base.columns)})
        carried = {out: self.expr(text, carry_scope, Level.GROUP, (*path, "carry", out))
                   for out, text in spec.carry.items()}
        carried_columns = {c.name for tree in carried.values() for c in tree.find_all(exp.Column)}
        for column in sorted(carried_columns):
            spells = spells.select(exp.column(column, alias).as_(f"c__{column}"))
        partition = [exp.column(n) for n in key_names]
        order = [exp.Ordered(this=exp.column("_start")), exp.Ordered(this=exp.column("_end"))]
        prev_end = exp.Window(this=exp.Max(this=exp.column("_end")), partition_by=partition,
                              order=exp.Order(expressions=order),
                              spec=exp.WindowSpec(kind="ROWS", start="UNBOUNDED", start_side="PRECEDING",
                                                  end=exp.Literal.number(1), end_side="PRECEDING"))
        gap = exp.Literal.number(spec.touching_days)
        new_island = exp.Case(ifs=[exp.If(this=exp.or_(
            exp.Is(this=exp.column("_prev_end"), expression=exp.Null()),
            exp.GT(this=exp.column("_start"), expression=exp.cast(exp.Add(
                this=exp.column("_prev_end"), expression=exp.Interval(this=gap, unit=exp.var("DAY"))), "DATE"))),
            true=exp.Literal.number(1))], default=exp.Literal.number(0))
        island = exp.Window(this=exp.Sum(this=exp.column("_new")), partition_by=partition,
                            order=exp.Order(expressions=order),
                            spec=exp.WindowSpec(kind="ROWS", start="UNBOUNDED", start_side="PRECEDING"))
        ordered = exp.select("*", prev_end.as_("_prev_end")).from_(spells.subquery("s"))
        flagged = exp.select("*", new_island.as_("_new")).from_(ordered.subquery("o"))
        grouped = exp.select("*", island.as_("_island")).from_(flagged.subquery("f"))

        def carried_sql(tree: exp.Expression) -> exp.Expression:
            return tree.transform(lambda n: exp.column(f"c__{n.name}") if isinstance(n, exp.Column) else n)

        merged_end = exp.Case(ifs=[exp.If(this=exp.EQ(this=exp.Max(this=exp.column("_end")), expression=open_end),
                                          true=exp.Null())], default=exp.Max(this=exp.column("_end")))
        query = exp.select(*[exp.column(n) for n in key_names], exp.Min(this=exp.column("_start")).as_("start"),
                           merged_end.as_("end"), exp.Count(this=exp.Star()).as_("spells"),
                           *[carried_sql(t).as_(o) for o, t in carried.items()],
                           exp.ArrayDistinct(this=exp.Flatten(this=exp.ArrayAgg(this=exp.column("_refs")))).as_("_refs"),
                           lid(*[exp.column(n) for n in key_names], exp.column("_island")).as_("_lid")
                           ).from_(grouped.subquery("g")).group_by(*[exp.column(n) for n in key_names],
                                                                   exp.column("_island"))
        columns = [*key_names, "start", "end", "spells", *carried, "_refs", "_lid"]
        info = ObjectInfo(name, "relation", f"{self.prefix}__{name}", columns)
        self.steps.append(IntervalMergeStep(
            name=info.table, query=query, location=self.loaded.doc.where(path),
            description=f"merge_intervals {name}: {alias} intervals per {', '.join(key_names)}, merged when "
                        f"overlapping or within {spec.touching_days} day(s)"))
        return info


COMPARISONS = (exp.EQ, exp.NullSafeEQ, exp.LT, exp.LTE, exp.GT, exp.GTE, exp.Between)


def links_sides(on: exp.Expression, alias: str, before: set[str]) -> bool:
    """Whether a join condition compares the joined alias with the rows before it in one of its
    AND-ed parts (a hash, merge or range join), rather than pairing everything (a nested loop)."""
    conjuncts = on.flatten() if isinstance(on, exp.And) else [on]
    for conjunct in conjuncts:
        while isinstance(conjunct, exp.Paren):
            conjunct = conjunct.this
        if isinstance(conjunct, exp.And):
            if links_sides(conjunct, alias, before):
                return True
            continue
        if not isinstance(conjunct, COMPARISONS):
            continue
        sides = [{c.table for c in part.find_all(exp.Column)} for part in conjunct.iter_expressions()]
        if any(s == {alias} for s in sides) and any(s and s <= before for s in sides):
            return True
    return False
