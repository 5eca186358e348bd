"""Blocking on shared rare character n-grams (``{ngrams: column, n, keep}``): every one-character typo
is still a candidate pair, while the pairs grow with the matches instead of with two large blocks."""

from __future__ import annotations

import random

import pyarrow as pa
import pytest

from engine.linking import link
from engine.spec.errors import SpecError

POOL = "华建鑫源泰丰恒达宏盛锦江川蜀天府金牛武侯青羊成都龙泉温江新都郫县双流彭州邛崃崇州大邑蒲江金堂简阳"
SUFFIXES = ["餐饮管理", "餐饮服务", "食品", "商贸", "超市"]  # shared by thousands: their grams are frequent


def _names(rng: random.Random, n: int) -> list[str]:
    names: set[str] = set()
    while len(names) < n:
        names.add("".join(rng.choices(POOL, k=rng.randint(3, 6))) + rng.choice(SUFFIXES))
    return sorted(names)


def _one_typo(rng: random.Random, name: str) -> str:
    position = rng.randrange(len(name))
    replacement = rng.choice([ch for ch in POOL if ch != name[position]])
    return name[:position] + replacement + name[position + 1:]


def _match(left: list[str], right: list[str], keep: int = 3) -> pa.Table:
    spec = {"left": "a", "right": "b", "block": [{"ngrams": "k", "n": 2, "keep": keep}],
            "compare": [{"field": "k", "method": "exact"}], "accept": "match_probability >= 0"}
    return link(pa.table({"k": left}), pa.table({"k": right}), spec).scored


def test_every_one_character_typo_is_a_candidate_and_pairs_stay_few():
    rng = random.Random(20241204)
    registry = _names(rng, 4000)
    originals = rng.sample(registry, 300)
    typos = [_one_typo(rng, name) for name in originals]
    scored = _match(typos, registry)
    found = {(r["_lrid"], r["_rrid"]) for r in scored.select(["_lrid", "_rrid"]).to_pylist()}
    expected = {(i + 1, registry.index(name) + 1) for i, name in enumerate(originals)}
    assert expected <= found                                  # recall of the blocking: every typo pair
    # The suffix alone would block each typo with about 800 registry names (240,000 pairs in all).
    assert len(found) < 20 * len(typos), len(found)


def test_a_name_sharing_only_frequent_grams_is_not_paired():
    registry = ["锦江鑫源餐饮管理", "华建泰丰餐饮管理", "龙泉宏盛餐饮管理", "天府恒达餐饮管理"]
    scored = _match(["双流崇州餐饮管理", "锦江鑫源餐饮管理"], registry)
    pairs = {(r["_lrid"], r["_rrid"]) for r in scored.select(["_lrid", "_rrid"]).to_pylist()}
    assert (2, 1) in pairs                                    # the same name: its rare grams agree
    assert all(left != 1 for left, _ in pairs)                # 餐饮/饮管/管理 are not among its rarest


def test_short_keys_are_their_own_gram_and_empty_keys_never_block():
    scored = _match(["华", "", None, "华建"], ["华", "华建", "建"], keep=2)
    pairs = sorted((r["_lrid"], r["_rrid"]) for r in scored.select(["_lrid", "_rrid"]).to_pylist())
    assert (1, 1) in pairs and (4, 2) in pairs
    assert all(left in (1, 4) for left, _ in pairs)


def test_the_gram_column_must_exist_on_both_sides():
    spec = {"left": "a", "right": "b", "block": [{"ngrams": "missing", "n": 2}],
            "compare": [{"field": "k", "method": "exact"}]}
    with pytest.raises(SpecError, match="n-gram blocking column 'missing' must exist on both 'a' and 'b'"):
        link(pa.table({"k": ["x"]}), pa.table({"k": ["x"]}), spec)
