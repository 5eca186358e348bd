"""The clue's evidence as a reviewer reads it: the source records grouped by dataset, side by side, with
the fields that made the match marked, and every field comparison of the model's match steps (E3's
explanation: method, level, the values compared, the fuzzy scores, the weight) as a table of its own.

Pure functions over the evidence JSON the engine writes (``sources``, ``values``); the masking of ID
numbers happens before, on the JSON text, so nothing here sees more than the reader may.

A field is marked in a record when

* a match step compared it (a key of a comparison: ``{"project_name": {"method": "org_name", ...}}``), or
* its value also appears in a record of another dataset of the same clue: the value the datasets collided
  on (an ID number, a credit code, a licence number, a name), dates and numbers aside, which coincide by
  chance.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Values that coincide across datasets without being what joined them: dates, short numbers (an ID number
# or a licence number is longer), booleans.
_INCIDENTAL = re.compile(r"^(\d{4}-\d{2}(-\d{2})?([ T].*)?|[-+]?\d{1,12}(\.\d+)?|true|false|[是否])$")
LEVEL_LABELS = {"exact": "完全一致", "one_edit": "一位之差", "birth_gender": "出生日期与性别一致", "pinyin": "同音",
                "similar": "相似", "key": "规范化后一致", "fuzzy": "近似", "token": "词序不同", "transposed": "日月颠倒",
                "within": "相近", "jw_high": "高度相似", "jw": "相似", "none": "不一致"}
_SCORES = (("ratio", "相似度"), ("token_set", "词集相似度"), ("jaro_winkler", "Jaro-Winkler"),
           ("pinyin", "拼音"), ("distance", "编辑距离"), ("days", "相差天数"))


@dataclass(frozen=True)
class Comparison:
    """One field compared by a match step of the model."""

    group: str                  # the key of ``values`` the comparisons came under (e.g. name_match)
    field: str
    method: str                 # the comparator: id_cn, name_zh, org_name, date, ...
    level: str                  # exact, one_edit, pinyin, fuzzy, key, none, ...
    left: str | None
    right: str | None
    scores: tuple[tuple[str, float], ...]   # (label, value) of every fuzzy score recorded
    weight: float | None        # the level's match weight (log2 Bayes factor)
    probability: float | None   # the pair's match probability


def _is_comparison(value) -> bool:
    return isinstance(value, dict) and "method" in value and "level" in value


def _pairs(value) -> list[dict]:
    """The compared pairs under one ``values`` entry: a dict of comparisons, or a list of them."""
    items = value if isinstance(value, list) else [value]
    return [i for i in items if isinstance(i, dict) and any(_is_comparison(v) for v in i.values())]


def _text(value) -> str | None:
    return None if value is None else str(value)


def comparisons(values: dict) -> list[Comparison]:
    """Every field comparison recorded in the clue's ``values``, each distinct one once, in order."""
    found: list[Comparison] = []
    for group, value in (values or {}).items():
        for pair in _pairs(value):
            probability = pair.get("match_probability")
            for field, c in pair.items():
                if not _is_comparison(c):
                    continue
                scores = tuple((label, float(c[key])) for key, label in _SCORES
                               if isinstance(c.get(key), (int, float)))
                item = Comparison(str(group), str(field), str(c["method"]), str(c["level"]), _text(c.get("left")),
                                  _text(c.get("right")), scores, c.get("weight"),
                                  float(probability) if isinstance(probability, (int, float)) else None)
                if item not in found:
                    found.append(item)
    return found


def plain_values(values: dict) -> dict:
    """The clue's key facts without the match explanations (those are shown by :func:`comparisons`)."""
    return {k: v for k, v in (values or {}).items() if not _pairs(v)}


def _shared_values(sources: list[dict]) -> set[str]:
    """Text values that appear in records of two or more datasets."""
    seen: dict[str, set[str]] = {}
    for source in sources:
        for value in (source.get("fields") or {}).values():
            text = _text(value)
            if text and len(text) >= 2 and not _INCIDENTAL.match(text):
                seen.setdefault(text, set()).add(str(source.get("dataset", "")))
    return {text for text, datasets in seen.items() if len(datasets) > 1}


def evidence_tables(evidence: dict) -> list[dict]:
    """The evidence's source records grouped by dataset, one table each (the columns in order of
    appearance, each record once by dataset, file and row); each row's ``matched`` names the fields to
    mark, each table's ``compared`` the columns a match step compared."""
    names = evidence.get("datasets") or {}
    sources = evidence.get("sources") or []
    compared = {c.field for c in comparisons(evidence.get("values") or {})}
    shared = _shared_values(sources)
    tables: dict[str, dict] = {}
    shown: set[tuple] = set()
    for source in sources:
        dataset = str(source.get("dataset", ""))
        at = (dataset, source.get("file"), source.get("row"))
        if source.get("row") is not None and at in shown:
            continue            # a record cited twice (an input row that is also behind a relation): once
        shown.add(at)
        table = tables.setdefault(dataset, {"dataset": dataset, "title": names.get(dataset, dataset),
                                            "columns": [], "rows": [], "compared": []})
        fields = source.get("fields") or {}
        for key in fields:
            if key not in table["columns"]:
                table["columns"].append(key)
            if key in compared and key not in table["compared"]:
                table["compared"].append(key)
        matched = {k for k, v in fields.items() if k in compared or _text(v) in shared}
        table["rows"].append({"file": source.get("file"), "row": source.get("row"), "fields": fields,
                              "matched": matched})
    return list(tables.values())
