"""The organisation/project comparison key of MODELS.md, step by step."""

from __future__ import annotations

import polars as pl
import pytest

from engine.ingest.normalize.orgs import OrgKeyRules, division_names


def keys(rules: OrgKeyRules, *names: str) -> list[str]:
    return rules.frame_keys(pl.Series(list(names)))["key"].to_list()


def test_normal_form_is_half_width_without_spaces_and_unified_brackets(org_rules):
    out = org_rules.frame_keys(pl.Series(["华建 建筑工程【成都】有限公司", "ＡＢＣ（集团）"]))
    assert out["normal"].to_list() == ["华建建筑工程(成都)有限公司", "ABC(集团)"]


@pytest.mark.parametrize("a,b", [
    ("华建建筑工程（成都）有限公司", "华建建筑工程有限公司"),                 # bracketed region deleted
    ("四川省成都市锦江区华建建筑工程有限公司", "华建建筑工程有限公司"),       # leading divisions, repeatedly
    ("四川华建建筑工程有限公司", "成都华建建筑工程有限责任公司"),             # bare names; legal forms
    ("华建建筑工程股份有限公司", "华建建工"),                                 # abbreviation table
    ("天府新区华建建工集团有限公司", "华建建工集团"),                         # new-area name; 集团有限公司
    ("華建建築工程有限公司", "华建建筑工程有限公司"),                         # traditional characters
    ("锦江花园（二期）", "锦江花园二期"),
    ("锦江花园第二期", "锦江花园2期"),
    ("锦江花园(2期)", "锦江花园二标段"),
    ("高新区天府软件园第十二期", "天府软件园12期"),
])
def test_same_entity_same_key(org_rules, a, b):
    ka, kb = keys(org_rules, a, b)
    assert ka == kb


@pytest.mark.parametrize("a,b", [
    ("锦江花园一期", "锦江花园二期"),          # phase numbers differ: never the same project
    ("锦江花园二期", "锦江花园"),
    ("华建建筑工程有限公司", "华建建材有限公司"),
])
def test_different_entities_different_keys(org_rules, a, b):
    ka, kb = keys(org_rules, a, b)
    assert ka != kb


def test_phase_is_extracted_in_one_form(org_rules):
    out = org_rules.frame_keys(pl.Series(["锦江花园（二期）", "锦江花园第2期", "锦江花园3标段", "锦江花园"]))
    assert out["phase"].to_list() == ["二期", "二期", "三期", None]


def test_one_character_bare_division_names_are_never_stripped(org_rules):
    # 赵县 → the bare form 赵 has one character: not a prefix to strip (the full 赵县 is).
    assert "赵" not in division_names() and "赵县" in division_names()
    assert keys(org_rules, "赵氏建筑有限公司")[0] == "赵氏建筑"
    assert keys(org_rules, "赵县赵氏建筑有限公司")[0] == "赵氏建筑"
    assert "锦江" in division_names() and "四川" in division_names() and "成都" in division_names()


def test_stripping_never_empties_a_name(org_rules):
    assert keys(org_rules, "成都市有限公司")[0] != ""
    assert keys(org_rules, "成都市")[0] == "成都市"


def test_analysts_extend_the_abbreviation_table(org_rules):
    extended = org_rules.extended({"工程咨询": "工咨"})
    assert keys(extended, "四川华建工程咨询有限公司")[0] == keys(extended, "华建工咨公司")[0]
    assert keys(org_rules, "四川华建工程咨询有限公司")[0] != keys(org_rules, "华建工咨公司")[0]
