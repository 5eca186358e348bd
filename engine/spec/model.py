"""What an analyst writes: the typed form of a model YAML file (``ModelSpec``).

A model names its inputs (catalogue datasets, optionally filtered), inline
lookup tables, derived relations (queries, merged intervals, record matches)
and one or more rules. Each rule is a query whose rows ("hits") are grouped
by subject into clues, with amount, period, confidence, a Chinese summary,
evidence and a score. Expressions are SQL strings (DuckDB dialect); the
compiler (:mod:`engine.compile.compiler`) checks and turns them into a plan.

These types only say what was written and where (``LocatedDocument``); they
never touch data. The language is documented in docs/authoring.md.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from engine.spec.names import Name


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Title(_Spec):
    zh: str
    en: str = ""


class LegalBasis(_Spec):
    citation: str
    text: str = ""


class InputSpec(_Spec):
    """A catalogue dataset used by the model, optionally filtered."""

    dataset: Name
    where: str | None = None
    description: str = ""


class TableSpec(_Spec):
    """An inline lookup table (e.g. prosecution thresholds)."""

    columns: dict[Name, Literal["text", "int", "amount", "date", "bool", "float"]]
    rows: list[list[Any]]
    description: str = ""

    @model_validator(mode="after")
    def _check(self) -> TableSpec:
        for i, row in enumerate(self.rows):
            if len(row) != len(self.columns):
                raise ValueError(f"row {i + 1} has {len(row)} values; the table has {len(self.columns)} columns")
        return self


JoinKind = Literal["inner", "left", "semi", "anti", "exists", "cross"]
MAX_CROSS_ROWS = 100_000_000


class JoinSpec(_Spec):
    """Join another input/table/relation. ``semi``/``anti`` keep rows that have /
    have no matching row; ``exists`` adds a boolean column ``alias`` instead of
    joining (never multiplies rows). An inner or left join must compare a column of
    the joined rows with one of the rows so far (``a.x = b.y``, ``a.d <= b.d`` …);
    pairing every row with every row is only allowed when declared: ``kind: cross``
    with ``max_rows`` (the run stops the model when the pairs would exceed it)."""

    to: Name
    alias: Name | None = None
    kind: JoinKind = "inner"
    on: str | None = None
    max_rows: int | None = None

    @model_validator(mode="after")
    def _check(self) -> JoinSpec:
        if self.kind == "cross":
            if self.max_rows is None or not 0 < self.max_rows <= MAX_CROSS_ROWS:
                raise ValueError(f"a cross join needs max_rows: the most pairs it may make (1 … {MAX_CROSS_ROWS:,})")
        elif self.on is None:
            raise ValueError(f"a {self.kind} join needs 'on'")
        elif self.max_rows is not None:
            raise ValueError("max_rows belongs to a cross join (kind: cross)")
        return self

    @property
    def name(self) -> str:
        return self.alias or self.to


class QuerySpec(_Spec):
    """A relation (or the hits of a rule): rows of ``from`` joined and filtered."""

    from_: Name = Field(alias="from")
    join: list[JoinSpec] = Field(default_factory=list)
    where: str | None = None
    group_by: list[str] = Field(default_factory=list)
    select: dict[Name, str] = Field(default_factory=dict)
    extend: dict[Name, str] = Field(default_factory=dict)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class MergeIntervalsSpec(_Spec):
    """Merge overlapping or touching intervals per key (gaps-and-islands).

    Output columns: the key columns, ``start``, ``end`` (null = open-ended),
    ``spells`` (how many source intervals), and each ``carry`` aggregate.
    """

    from_: Name = Field(alias="from")
    key: list[str]
    start: str
    end: str
    where: str | None = None
    touching_days: int = 1
    carry: dict[Name, str] = Field(default_factory=dict)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @field_validator("key", mode="before")
    @classmethod
    def _one_key(cls, value):
        return [value] if isinstance(value, str) else value


class CompareSpec(_Spec):
    """One field comparison of a match; the method decides the levels (docs/matching.md).

    ``field`` names the column on both sides (``right_field`` when the right one is named
    otherwise); ``left``/``right`` give SQL expressions instead (not for ``org_name``,
    which compares the staged comparison keys and phases of org-name columns)."""

    field: Name | None = None
    right_field: Name | None = None
    left: str | None = None
    right: str | None = None
    name: Name | None = None
    method: Literal["id_cn", "name_zh", "org_name", "date", "text", "code", "exact"]
    levels: list[str] | None = None
    threshold: float | None = None
    within_days: int = 3
    tf_adjust: bool = False
    m: dict[str, float] = Field(default_factory=dict)
    label: str = ""

    @model_validator(mode="after")
    def _check(self) -> CompareSpec:
        if self.field is None and (self.left is None or self.right is None):
            raise ValueError("a comparison needs 'field' (or both 'left' and 'right' expressions)")
        if self.method == "org_name" and (self.left or self.right):
            raise ValueError("org_name compares org-name columns: use field/right_field, not expressions")
        if self.name is None and self.field is None:
            raise ValueError("a comparison of expressions needs a 'name'")
        return self

    @property
    def key(self) -> str:
        return self.name or self.field or ""


class GramBlockSpec(_Spec):
    """Block on shared rare character n-grams (prefix filtering; docs/matching.md → *Blocking*).

    Every value of ``ngrams`` (a column on both sides) is cut into its distinct character n-grams; the
    grams are ordered by how many records hold them (rarest first, ties by the gram), and each record
    keeps its ``keep`` rarest. Two records are a candidate pair when they keep a gram in common. Two
    values whose gram sets differ by fewer than ``keep`` grams on each side always share a kept gram
    (a one-character typo changes at most ``n`` grams), so the pairs grow with the matches, not with
    the product of two large blocks.
    """

    ngrams: Name
    n: int = Field(default=2, ge=1, le=4)
    keep: int = Field(default=3, ge=1, le=16)

    def __str__(self) -> str:
        return f"ngrams({self.ngrams}, n={self.n}, keep={self.keep})"


class MatchSpec(_Spec):
    """Link rows of ``left`` to rows of ``right``: block, compare, score, decide (docs/matching.md).

    Output: ``_rid`` of the left row, the ``select``ed columns, ``match_probability``,
    ``match_weight``, ``match_level`` and ``_match`` (every field's level, weight and both
    values — the explanation shown to a prosecutor). ``unique: true`` keeps a left row's
    link only when exactly one right row was accepted; ``one_to_one: true`` keeps a link only
    when it is the strictly best accepted link of both its rows.
    """

    left: Name
    right: Name
    left_where: str | None = None
    right_where: str | None = None
    block: list[str | list[Name] | GramBlockSpec]
    compare: list[CompareSpec]
    accept: str = "match_probability >= 0.9"
    unique: bool = False
    one_to_one: bool = False
    train: Literal["none", "em"] = "none"
    prior: float | None = None
    select: dict[Name, str] = Field(default_factory=dict)
    max_block_pairs: int = 1_000_000
    max_pairs: int = 20_000_000
    u_sample_pairs: int = 1_000_000

    @field_validator("compare")
    @classmethod
    def _unique_names(cls, value: list[CompareSpec]) -> list[CompareSpec]:
        names = [c.key for c in value]
        if len(set(names)) != len(names):
            raise ValueError(f"comparison names must be unique (give a 'name'): {names}")
        if not value:
            raise ValueError("a match needs at least one comparison")
        return value


class RelationSpec(_Spec):
    """A derived table: exactly one of query fields, ``merge_intervals``, ``match`` or ``union``.

    A query without ``select``/``group_by`` keeps every column of ``from`` (and
    ``extend`` adds computed ones): its rows are still the source rows of that
    input, so evidence points at them directly."""

    description: str = ""
    from_: Name | None = Field(default=None, alias="from")
    join: list[JoinSpec] = Field(default_factory=list)
    where: str | None = None
    group_by: list[str] = Field(default_factory=list)
    select: dict[Name, str] = Field(default_factory=dict)
    extend: dict[Name, str] = Field(default_factory=dict)
    merge_intervals: MergeIntervalsSpec | None = None
    match: MatchSpec | None = None
    union: list[Name] | None = None

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _one_kind(self) -> RelationSpec:
        kinds = [k for k, present in (("query", self.from_ is not None), ("merge_intervals", self.merge_intervals),
                                      ("match", self.match), ("union", self.union is not None)) if present]
        if len(kinds) != 1:
            raise ValueError("a relation needs exactly one of: from (a query), merge_intervals, match, union")
        if self.union is not None and (len(self.union) < 2 or len(set(self.union)) != len(self.union)):
            raise ValueError("a union needs at least two different relations")
        if self.from_ is None and (self.join or self.where or self.group_by or self.select or self.extend):
            raise ValueError("join/where/group_by/select/extend belong to a query relation (with 'from')")
        if self.from_ is not None and not self.select and self.group_by:
            raise ValueError("a grouped relation must say what it selects")
        if self.extend and (self.select or self.group_by):
            raise ValueError("extend keeps every column of 'from' and adds some; it cannot go with select/group_by")
        return self

    @property
    def kind(self) -> str:
        return ("merge_intervals" if self.merge_intervals else "match" if self.match
                else "union" if self.union is not None else "query")

    @property
    def query(self) -> QuerySpec:
        return QuerySpec.model_validate({"from": self.from_, "join": self.join, "where": self.where,
                                         "group_by": self.group_by, "select": self.select, "extend": self.extend})


class SignalSpec(_Spec):
    """A named scoring signal: a clue-level value scaled to 0–1, with a weight."""

    value: str
    scale: Literal["none", "max", "rank"] = "none"
    weight: float = 1.0
    label: str = ""


class ScoreSpec(_Spec):
    signals: dict[Name, SignalSpec] = Field(default_factory=dict)
    rank_by: list[str] = Field(default_factory=lambda: ["score DESC"])


class EvidenceSpec(_Spec):
    rows: list[Name] = Field(default_factory=list)
    values: dict[Name, str] = Field(default_factory=dict)


class ClueSpec(_Spec):
    subject_id: str
    subject_name: str
    amount: str | None = None
    period_start: str | None = None
    period_end: str | None = None
    confidence: str = "1.0"
    values: dict[Name, str] = Field(default_factory=dict)
    summary: str
    evidence: EvidenceSpec = Field(default_factory=EvidenceSpec)


SubjectType = Literal["person", "license", "penalty", "permit", "deposit", "complaint", "person_year"]


class RuleSpec(_Spec):
    id: Name
    title: str = ""
    description: str = ""
    subject_type: SubjectType | None = None  # a rule may key its clues on other things than the model's
    from_: Name = Field(alias="from")
    join: list[JoinSpec] = Field(default_factory=list)
    where: str | None = None
    distinct_on: Name | None = "from"
    clue: ClueSpec
    score: ScoreSpec = Field(default_factory=ScoreSpec)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class ExpectedClue(_Spec):
    subject_id: str
    rule: Name | None = None
    amount: float | None = None
    period_start: dt.date | None = None
    period_end: dt.date | None = None
    confidence: float | None = None


class ModelTestSpec(_Spec):
    """An in-file test: small tables per dataset (raw cells, as an agency sends
    them) and the clues the model must produce — no more, no fewer."""

    name: str
    as_of: dt.date
    given: dict[Name, list[dict[Name, Any]]]
    expect: list[ExpectedClue] = Field(default_factory=list)


class ParameterSpec(_Spec):
    default: Any = None
    description: str = ""


class ModelSpec(_Spec):
    id: Name
    version: str
    title: Title
    description: str = ""
    owner: str = ""
    tags: list[str] = Field(default_factory=list)
    legal_basis: LegalBasis
    subject_type: SubjectType
    parameters: dict[Name, ParameterSpec] = Field(default_factory=dict)
    inputs: dict[Name, InputSpec]
    tables: dict[Name, TableSpec] = Field(default_factory=dict)
    relations: dict[Name, RelationSpec] = Field(default_factory=dict)
    rules: list[RuleSpec]
    test_defaults: dict[Name, dict[Name, Any]] = Field(default_factory=dict)
    tests: list[ModelTestSpec] = Field(default_factory=list)
    source_file: str = ""
    extends: Name | None = None

    @model_validator(mode="after")
    def _check(self) -> ModelSpec:
        names = [*self.inputs, *self.tables, *self.relations]
        duplicated = {n for n in names if names.count(n) > 1}
        if duplicated:
            raise ValueError(f"names used twice among inputs, tables and relations: {sorted(duplicated)}")
        rule_ids = [r.id for r in self.rules]
        if len(set(rule_ids)) != len(rule_ids):
            raise ValueError(f"rule ids must be unique: {rule_ids}")
        if not self.rules:
            raise ValueError("a model needs at least one rule")
        return self

    @property
    def datasets(self) -> list[str]:
        return sorted({i.dataset for i in self.inputs.values()})
