"""Field comparators: each method is an ordered list of levels, the first that holds wins.

A level is a condition built as a sqlglot AST over the pair's left and right
values and, where a batch fuzzy score is needed, over feature columns the
features step computes with rapidfuzz (:class:`PairColumns` names them all; no
SQL text is ever formatted, so a comparison's name can only be an identifier).
Every method ends with the implicit level ``none``; when either value is
missing the level is ``null`` (it neither helps nor hurts a match).

Each level carries a default *m* probability — how often two records of the
same entity fall in it — used until the model is trained; *u* (how often two
random records do) is always estimated from the data.

=========  ==========================================================================
method     levels (first match wins)
=========  ==========================================================================
id_cn      exact · one_edit (one substitution or adjacent swap) · birth_gender (same
           birth date and gender read from both numbers) · none
name_zh    exact (normalised) · pinyin (same sound: homophones) · similar (rapidfuzz
           ratio ≥ threshold, default 66: one character of three) · none;
           ``tf_adjust`` makes a common exact name count for less than a rare one
org_name   key (equal comparison keys of MODELS.md) · fuzzy (rapidfuzz ratio of the keys
           ≥ threshold, default 90, and equal phase) · token (token-set ratio over the
           characters ≥ threshold, equal phase) · none
date       exact · transposed (day and month swapped) · within (≤ within_days) · none
text       exact · jw_high (Jaro–Winkler ≥ 0.92) · jw (≥ 0.80) · none
code       exact · one_edit · none
exact      exact · none
=========  ==========================================================================

Example::

    [lv.name for lv in levels_for("name_zh")]                          # ['exact', 'pinyin', 'similar']
    levels_for("name_zh")[2].condition(PairColumns("person_name", threshold=66)).sql()
    # 'person_name_ratio >= 66'
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlglot import exp

from engine.compile.expressions import birth_date_of
from engine.dialects.nodes import OneEdit


@dataclass(frozen=True)
class PairColumns:
    """The columns one comparison reads in a pairs table, as AST nodes (never SQL text).

    ``<key>__l`` / ``<key>__r`` hold the two values, ``<key>__lp`` / ``<key>__rp`` the phases of org
    names, ``<key>_ratio`` / ``<key>_token`` / ``<key>_pinyin`` the batch features."""

    key: str
    threshold: float = 0.0
    within_days: int = 3

    @property
    def left(self) -> exp.Column:
        return exp.column(f"{self.key}__l")

    @property
    def right(self) -> exp.Column:
        return exp.column(f"{self.key}__r")

    @property
    def left_phase(self) -> exp.Column:
        return exp.column(f"{self.key}__lp")

    @property
    def right_phase(self) -> exp.Column:
        return exp.column(f"{self.key}__rp")

    def feature(self, kind: str) -> exp.Column:
        return exp.column(FEATURE_COLUMNS[kind].format(key=self.key))


FEATURE_COLUMNS = {"ratio": "{key}_ratio", "token_set": "{key}_token", "pinyin_equal": "{key}_pinyin"}


@dataclass(frozen=True)
class Level:
    name: str
    condition: Callable[[PairColumns], exp.Expression]  # builds the level's condition as an AST
    m: float  # default P(level | same entity)
    label: str = ""  # Chinese, for prosecutors


@dataclass(frozen=True)
class Feature:
    """A batch score the features step computes for every candidate pair."""

    kind: str  # ratio | token_set | pinyin_equal
    column: str


def _number(value: float | int) -> exp.Literal:
    return exp.Literal.number(value)


def _equal(p: PairColumns) -> exp.Expression:
    return exp.EQ(this=p.left, expression=p.right)


def _one_edit(p: PairColumns) -> exp.Expression:
    """One substitution or one swap of neighbours (engine/dialects: DuckDB tests hamming ≤ 2 first, a
    cheap necessary condition, so the quadratic distance runs on few pairs)."""
    return OneEdit(this=p.left, expression=p.right)


def _substr(value: exp.Expression, start: int, length: int) -> exp.Expression:
    return exp.Substring(this=value, start=_number(start), length=_number(length))


def _birth_gender(p: PairColumns) -> exp.Expression:
    def parity(value: exp.Expression) -> exp.Expression:
        return exp.paren(exp.Mod(this=exp.TryCast(this=_substr(value, 17, 1), to=exp.DataType.build("INT")),
                                 expression=_number(2)))

    return exp.and_(exp.EQ(this=_substr(p.left, 7, 8), expression=_substr(p.right, 7, 8)),
                    exp.Not(this=exp.Is(this=birth_date_of(p.left), expression=exp.Null())),
                    exp.EQ(this=parity(p.left), expression=parity(p.right)))


def _at_least(kind: str) -> Callable[[PairColumns], exp.Expression]:
    return lambda p: exp.GTE(this=p.feature(kind), expression=_number(p.threshold))


def _same_phase(condition: Callable[[PairColumns], exp.Expression]) -> Callable[[PairColumns], exp.Expression]:
    return lambda p: exp.and_(condition(p), exp.NullSafeEQ(this=p.left_phase, expression=p.right_phase))


def _transposed(p: PairColumns) -> exp.Expression:
    return exp.and_(exp.EQ(this=exp.Year(this=p.left), expression=exp.Year(this=p.right)),
                    exp.EQ(this=exp.Month(this=p.left), expression=exp.Day(this=p.right)),
                    exp.EQ(this=exp.Day(this=p.left), expression=exp.Month(this=p.right)))


def _within_days(p: PairColumns) -> exp.Expression:
    days = exp.DateDiff(this=p.right, expression=p.left, unit=exp.var("DAY"))
    return exp.LTE(this=exp.Abs(this=days), expression=_number(p.within_days))


def _jaro_winkler_at_least(value: float) -> Callable[[PairColumns], exp.Expression]:
    return lambda p: exp.GTE(this=exp.JarowinklerSimilarity(this=p.left, expression=p.right),
                             expression=_number(value))


METHODS: dict[str, list[Level]] = {
    "id_cn": [
        Level("exact", _equal, 0.92, "身份证号相同"),
        Level("one_edit", _one_edit, 0.05, "身份证号仅一位不同或相邻两位颠倒"),
        Level("birth_gender", _birth_gender, 0.02, "出生日期与性别相同"),
    ],
    "name_zh": [
        Level("exact", _equal, 0.88, "姓名相同"),
        Level("pinyin", lambda p: p.feature("pinyin_equal"), 0.05, "姓名同音"),
        Level("similar", _at_least("ratio"), 0.04, "姓名相近"),
    ],
    "org_name": [
        Level("key", _equal, 0.85, "名称规范化后相同"),
        Level("fuzzy", _same_phase(_at_least("ratio")), 0.08, "名称相近（期数相同）"),
        Level("token", _same_phase(_at_least("token_set")), 0.03, "名称用字相同（期数相同）"),
    ],
    "date": [
        Level("exact", _equal, 0.9, "日期相同"),
        Level("transposed", _transposed, 0.03, "日、月颠倒"),
        Level("within", _within_days, 0.04, "日期相近"),
    ],
    "text": [
        Level("exact", _equal, 0.85, "相同"),
        Level("jw_high", _jaro_winkler_at_least(0.92), 0.08, "高度相似"),
        Level("jw", _jaro_winkler_at_least(0.8), 0.04, "相似"),
    ],
    "code": [
        Level("exact", _equal, 0.9, "相同"),
        Level("one_edit", _one_edit, 0.06, "仅一位不同"),
    ],
    "exact": [Level("exact", _equal, 0.9, "相同")],
}
NONE_M = 0.02  # m of the implicit 'none' level before normalisation
DEFAULT_THRESHOLDS = {"name_zh": 66.0, "org_name": 90.0}
METHOD_LABELS = {"id_cn": "身份证号", "name_zh": "姓名", "org_name": "名称", "date": "日期", "text": "文本",
                 "code": "编码", "exact": "值"}


def features_for(method: str, key: str) -> list[Feature]:
    """The batch scores a method needs for one compared field."""
    kinds = {"name_zh": ("pinyin_equal", "ratio"), "org_name": ("ratio", "token_set")}.get(method, ())
    return [Feature(kind, FEATURE_COLUMNS[kind].format(key=key)) for kind in kinds]


def levels_for(method: str, levels: list[str] | None = None) -> list[Level]:
    if method not in METHODS:
        raise KeyError(f"unknown comparison method '{method}' (known: {sorted(METHODS)})")
    chosen = METHODS[method]
    if levels is not None:
        unknown = [lv for lv in levels if lv not in {c.name for c in chosen}]
        if unknown:
            raise KeyError(f"method {method} has no level(s) {unknown} (it has {[c.name for c in chosen]})")
        chosen = [c for c in chosen if c.name in levels]
    return chosen


def m_probabilities(method: str, levels: list[Level], overrides: dict[str, float] | None = None) -> dict[str, float]:
    """Default m per level (and 'none'), normalised to sum to one."""
    raw = {lv.name: lv.m for lv in levels}
    raw["none"] = NONE_M
    raw.update(overrides or {})
    total = sum(raw.values())
    return {k: v / total for k, v in raw.items()}
