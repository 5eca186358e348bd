"""What runs: a model compiled into plain data — typed steps, every SQL part a sqlglot AST.

A :class:`ModelPlan` is produced by :mod:`engine.compile.model` and consumed by a backend
(:mod:`engine.execute`), which dispatches on each step's class. After compilation no SQL text
exists: a backend renders the ASTs in its own dialect. A plan can be printed
(:mod:`engine.plan.explain`), hashed (:mod:`engine.plan.fingerprint`) and compared in tests
without a database.

Two families of steps:

* :class:`QueryStep` — a temporary table or view made from one query (inputs, relations, merged
  intervals, candidate pairs, levels, scores, links, hits, clues, outputs). Guards are query steps
  whose result the backend checks before going on (block sizes, declared cross joins).
* computed steps — a lookup table's rows (:class:`LookupStep`), batch fuzzy features
  (:class:`FeaturesStep`) and the Fellegi–Sunter parameter fit (:class:`ParameterFitStep`): plain
  data the backend computes with Arrow, rapidfuzz and numpy.

Example::

    plan = compile_model(loaded, catalogue, as_of=date(2024, 6, 30))
    [type(s).__name__ for s in plan.steps][:3]     # ['InputStep', 'InputStep', 'IntervalMergeStep']
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import pyarrow as pa
from sqlglot import exp

from engine.spec.errors import Location
from engine.sql import create_statement

REF_TYPE = "STRUCT(d VARCHAR, f VARCHAR, r BIGINT)"  # one source-row reference: dataset, file, row


def dataset_table(name: str) -> str:
    """The table a backend loads a staged dataset into."""
    return f"ds_{name}"


@dataclass(frozen=True, kw_only=True)
class Step:
    kind: ClassVar[str] = "step"
    name: str
    description: str = ""
    location: Location | None = None


@dataclass(frozen=True, kw_only=True)
class QueryStep(Step):
    """``CREATE OR REPLACE TEMPORARY TABLE|VIEW name AS query``."""

    query: exp.Expression
    view: bool = False

    def statement(self) -> exp.Create:
        return create_statement(self.name, self.query, view=self.view)


# --------------------------------------------------------------------------- objects a query can read


@dataclass(frozen=True, kw_only=True)
class InputStep(QueryStep):
    """An input of the model: a catalogue dataset, optionally filtered (a view)."""

    kind: ClassVar[str] = "input"
    dataset: str


@dataclass(frozen=True, kw_only=True, eq=False)
class LookupStep(Step):
    """An inline lookup table: its rows as they are (no SQL is ever made of them)."""

    kind: ClassVar[str] = "table"
    data: pa.Table


@dataclass(frozen=True, kw_only=True)
class RelationStep(QueryStep):
    """A query relation (row level: a view; grouped: a table) or a union of relations."""

    kind: ClassVar[str] = "relation"


@dataclass(frozen=True, kw_only=True)
class IntervalMergeStep(QueryStep):
    """Overlapping or touching intervals per key merged (gaps and islands)."""

    kind: ClassVar[str] = "merge_intervals"


@dataclass(frozen=True, kw_only=True)
class CrossGuardStep(QueryStep):
    """The pairs a declared cross join makes (one row, ``pairs``); the model stops past ``max_rows``."""

    kind: ClassVar[str] = "guard"
    join: str
    max_rows: int


# --------------------------------------------------------------------------- record matching


@dataclass(frozen=True, kw_only=True)
class BlockGuardStep(QueryStep):
    """Block sizes per blocking key (``n_left``, ``n_right``): oversized keys are excluded and
    reported; more than ``max_pairs`` candidate pairs in all stops the model."""

    kind: ClassVar[str] = "guard"
    match: str
    stem: str
    rule_text: str
    keys: tuple[str, ...]
    max_block_pairs: int
    max_pairs: int


@dataclass(frozen=True, kw_only=True)
class CandidatePairsStep(QueryStep):
    """Candidate pairs of a match with the compared values (``random``: the sample for u)."""

    kind: ClassVar[str] = "candidate_pairs"
    match: str
    random: bool = False


@dataclass(frozen=True)
class FeatureRequest:
    """One batch score to compute over two columns of a pairs table."""

    comparison: str
    kind: str  # ratio | token_set | pinyin_equal
    left: str
    right: str

    @property
    def column(self) -> str:
        return {"ratio": f"{self.comparison}_ratio", "token_set": f"{self.comparison}_token",
                "pinyin_equal": f"{self.comparison}_pinyin"}[self.kind]


@dataclass(frozen=True, kw_only=True)
class FeaturesStep(Step):
    """The source table with every requested batch fuzzy score added (rapidfuzz, pinyin)."""

    kind: ClassVar[str] = "features"
    match: str
    source: str
    requests: tuple[FeatureRequest, ...]


@dataclass(frozen=True, kw_only=True)
class LevelsStep(QueryStep):
    """Each comparison's level for every pair (or, for the random pairs, the level patterns' counts)."""

    kind: ClassVar[str] = "levels"
    match: str


@dataclass(frozen=True, kw_only=True)
class TermFrequencyStep(QueryStep):
    """How often each value of a compared field occurs (term-frequency adjustment)."""

    kind: ClassVar[str] = "term_frequencies"
    match: str
    comparison: str


@dataclass(frozen=True)
class ComparisonModel:
    """What the parameter fit knows of one comparison: its levels, labels and default m."""

    name: str
    method: str
    levels: tuple[str, ...]  # in order, ending with 'none'
    labels: tuple[tuple[str, str], ...]
    m: tuple[tuple[str, float], ...]  # default m per level, overrides applied, normalised


@dataclass(frozen=True, kw_only=True)
class ParameterFitStep(Step):
    """m, u, weights per comparison level and the prior (EM when ``train == 'em'``), as a table."""

    kind: ClassVar[str] = "parameters"
    match: str
    levels: str
    ulevels: str
    comparisons: tuple[ComparisonModel, ...]
    train: str
    prior: float | None
    left: str
    right: str
    left_alias: str
    right_alias: str
    left_filter: exp.Expression | None = None
    right_filter: exp.Expression | None = None


@dataclass(frozen=True, kw_only=True)
class ScoredPairsStep(QueryStep):
    """Every candidate pair's weights, match weight and probability."""

    kind: ClassVar[str] = "scored_pairs"
    match: str


@dataclass(frozen=True, kw_only=True)
class LinksStep(QueryStep):
    """The accepted links of a match, with the selected columns, the explanation and lineage."""

    kind: ClassVar[str] = "links"
    match: str
    stem: str
    accept_text: str
    near_misses: str
    comparisons: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class NearMissStep(QueryStep):
    """The scored pairs that did not become links, with why (read by ``lsm explain --data``)."""

    kind: ClassVar[str] = "near_misses"
    match: str


# --------------------------------------------------------------------------- rules


@dataclass(frozen=True, kw_only=True)
class RuleStep(QueryStep):
    """A step of one rule's chain (hits → clues → ranked → evidence → output)."""

    rule_id: str


@dataclass(frozen=True, kw_only=True)
class HitsStep(RuleStep):
    """One row per combination of joined rows that fires the rule."""

    kind: ClassVar[str] = "hits"


@dataclass(frozen=True, kw_only=True)
class CluesStep(RuleStep):
    """The hits grouped by subject; ``fanout_check``: the alias whose rows must not repeat."""

    kind: ClassVar[str] = "clues"
    fanout_check: str | None = None


@dataclass(frozen=True, kw_only=True)
class RankedStep(RuleStep):
    """Signals, score, rank and summary of every clue."""

    kind: ClassVar[str] = "ranked"


@dataclass(frozen=True, kw_only=True)
class EvidenceStep(RuleStep):
    """The source rows behind derived relations, looked up through their lineage."""

    kind: ClassVar[str] = "evidence"


@dataclass(frozen=True, kw_only=True)
class OutputStep(RuleStep):
    """The clue rows in the columns of the output contract."""

    kind: ClassVar[str] = "output"


# --------------------------------------------------------------------------- the plan


@dataclass(frozen=True)
class RulePlan:
    rule_id: str
    title: str
    subject_type: str
    output: str  # the name of the step holding the rule's final clue rows


@dataclass
class ModelPlan:
    model_id: str
    version: str
    title_zh: str
    title_en: str
    legal_citation: str
    legal_text: str
    subject_type: str
    datasets: list[str]
    steps: list[Step] = field(default_factory=list)
    rules: list[RulePlan] = field(default_factory=list)
    source_file: str = ""
    fingerprint: str = ""  # a hash of what changes results: the steps (engine.plan.fingerprint)
    metadata_fingerprint: str = ""  # a hash of everything else written (titles, descriptions, tests)
