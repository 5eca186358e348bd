"""Field comparators: each method is an ordered list of levels, the first that holds wins.

A level is a SQL condition over the pair's left and right values (``{l}``,
``{r}``) and, where a batch fuzzy score is needed, over feature columns the
features step computes with rapidfuzz (``{f}`` is the feature column's name).
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

    levels_for(CompareSpec(field="person_name", method="name_zh"))
    # [Level('exact', '{l} = {r}', 0.88), Level('pinyin', ...), ...]
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Level:
    name: str
    condition: str  # SQL over {l}, {r} and {f} (the feature column), in DuckDB dialect
    m: float  # default P(level | same entity)
    label: str = ""  # Chinese, for prosecutors


@dataclass(frozen=True)
class Feature:
    """A batch score the features step computes for every candidate pair."""

    kind: str  # ratio | token_set | pinyin_equal
    column: str


# One substitution or one swap of neighbours. hamming ≤ 2 first: a cheap necessary condition, so the
# quadratic distance runs on few pairs.
ONE_EDIT = "length({l}) = length({r}) AND hamming({l}, {r}) <= 2 AND damerau_levenshtein({l}, {r}) = 1"

METHODS: dict[str, list[Level]] = {
    "id_cn": [
        Level("exact", "{l} = {r}", 0.92, "身份证号相同"),
        Level("one_edit", ONE_EDIT, 0.05, "身份证号仅一位不同或相邻两位颠倒"),
        Level("birth_gender", "substr({l}, 7, 8) = substr({r}, 7, 8) AND birth_date_of({l}) IS NOT NULL "
              "AND (TRY_CAST(substr({l}, 17, 1) AS INT) % 2) = (TRY_CAST(substr({r}, 17, 1) AS INT) % 2)", 0.02,
              "出生日期与性别相同"),
    ],
    "name_zh": [
        Level("exact", "{l} = {r}", 0.88, "姓名相同"),
        Level("pinyin", "{f}_pinyin", 0.05, "姓名同音"),
        Level("similar", "{f}_ratio >= {threshold}", 0.04, "姓名相近"),
    ],
    "org_name": [
        Level("key", "{l} = {r}", 0.85, "名称规范化后相同"),
        Level("fuzzy", "{f}_ratio >= {threshold} AND {l}_phase IS NOT DISTINCT FROM {r}_phase", 0.08,
              "名称相近（期数相同）"),
        Level("token", "{f}_token >= {threshold} AND {l}_phase IS NOT DISTINCT FROM {r}_phase", 0.03,
              "名称用字相同（期数相同）"),
    ],
    "date": [
        Level("exact", "{l} = {r}", 0.9, "日期相同"),
        Level("transposed", "year({l}) = year({r}) AND month({l}) = day({r}) AND day({l}) = month({r})", 0.03,
              "日、月颠倒"),
        Level("within", "abs(date_diff('day', {l}, {r})) <= {within_days}", 0.04, "日期相近"),
    ],
    "text": [
        Level("exact", "{l} = {r}", 0.85, "相同"),
        Level("jw_high", "jaro_winkler_similarity({l}, {r}) >= 0.92", 0.08, "高度相似"),
        Level("jw", "jaro_winkler_similarity({l}, {r}) >= 0.8", 0.04, "相似"),
    ],
    "code": [
        Level("exact", "{l} = {r}", 0.9, "相同"),
        Level("one_edit", ONE_EDIT, 0.06, "仅一位不同"),
    ],
    "exact": [Level("exact", "{l} = {r}", 0.9, "相同")],
}
NONE_M = 0.02  # m of the implicit 'none' level before normalisation
DEFAULT_THRESHOLDS = {"name_zh": 66.0, "org_name": 90.0}
METHOD_LABELS = {"id_cn": "身份证号", "name_zh": "姓名", "org_name": "名称", "date": "日期", "text": "文本",
                 "code": "编码", "exact": "值"}


def features_for(method: str, column: str) -> list[Feature]:
    """The batch scores a method needs for one compared field."""
    if method == "name_zh":
        return [Feature("pinyin_equal", f"{column}_pinyin"), Feature("ratio", f"{column}_ratio")]
    if method == "org_name":
        return [Feature("ratio", f"{column}_ratio"), Feature("token_set", f"{column}_token")]
    return []


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
