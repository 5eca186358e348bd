"""The source catalogue: the data contract's 17 datasets, typed, with located errors."""

from __future__ import annotations

import pytest

from engine.spec.catalog import header_form, load_catalogue
from engine.spec.errors import SpecError

CONTRACT_DATASETS = {  # name -> number of columns, as DATASETS.md lists them
    "prison_roster": 9, "dibao_payments": 7, "pension_payments": 6, "death_records": 5, "drug_users": 6,
    "driver_licenses": 7, "criminal_judgments": 8, "business_registry": 7, "food_licenses": 7,
    "admin_penalties": 10, "criminal_cases": 5, "construction_permits": 7, "wage_deposits": 11,
    "wage_complaints": 7, "lending_judgments": 5, "tax_filings": 6, "school_staff": 7,
}


def test_all_seventeen_datasets_with_their_columns(catalogue):
    assert {d.name: len(d.columns) for d in catalogue.datasets} == CONTRACT_DATASETS
    for dataset in catalogue.datasets:
        assert dataset.title and dataset.agency
        assert all(c.zh for c in dataset.columns)


def test_value_types_and_blanks_follow_the_contract(catalogue):
    roster = catalogue.dataset("prison_roster")
    assert roster.column("id_number").type == "id_cn"
    assert roster.column("released_on").required is False
    assert roster.column("sentence").required_when == "custody_type = '已决'"
    assert catalogue.dataset("drug_users").column("measure").values == ("社区戒毒", "强制隔离戒毒", "社区康复", "无")
    assert catalogue.dataset("admin_penalties").column("party_id").type == "party_id"
    assert catalogue.dataset("criminal_judgments").column("id_number").required is False
    assert catalogue.dataset("wage_deposits").column("guarantee_expires_on").required_when == "form <> '现金存储'"
    assert catalogue.dataset("dibao_payments").primary_key == ("payment_id",)


def test_headers_compare_after_nfkc_and_trimming(catalogue):
    index = catalogue.dataset("food_licenses").header_index()
    assert index[header_form(" 法定代表人(负责人) ")] == "legal_rep_name"
    assert index[header_form("法定代表人（负责人）")] == "legal_rep_name"
    assert index[header_form("LEGAL_REP_NAME")] == "legal_rep_name"


def test_every_mistake_is_reported_with_file_line_and_column(tmp_path):
    bad = tmp_path / "sources.yaml"
    bad.write_text(
        "datasets:\n"
        "  a:\n"
        "    title: 甲\n"
        "    agency: 乙\n"
        "    columns:\n"
        "      c1: {type: iddd, zh: 甲}\n"
        "      c2: {type: enum, zh: 乙}\n"
        "      c3: {type: text, zh: 丙, bogus: 1}\n", encoding="utf-8")
    with pytest.raises(SpecError) as caught:
        load_catalogue(bad, "sources.yaml")
    rendered = [p.render(with_source=False) for p in caught.value.problems]
    assert len(rendered) == 3
    assert rendered[0].startswith("sources.yaml:6:") and "iddd" not in rendered[0] or "type" in rendered[0]
    assert rendered[1].startswith("sources.yaml:7:") and "lists no values" in rendered[1]
    assert rendered[2].startswith("sources.yaml:8:") and "unknown key 'bogus'" in rendered[2]
    # The offending line is shown under the message.
    assert "c2: {type: enum, zh: 乙}" in caught.value.problems[1].render()


def test_required_when_must_name_known_columns(tmp_path):
    bad = tmp_path / "sources.yaml"
    bad.write_text(
        "datasets:\n  a:\n    title: 甲\n    agency: 乙\n    columns:\n"
        "      c1: {type: text, zh: 甲}\n"
        "      c2: {type: text, zh: 乙, required: false, required_when: \"nope = '1'\"}\n", encoding="utf-8")
    with pytest.raises(SpecError) as caught:
        load_catalogue(bad, "s.yaml")
    assert caught.value.problems[0].location.line == 7
    assert "unknown column" in caught.value.problems[0].message and "nope" in caught.value.problems[0].message


def test_yaml_syntax_errors_and_duplicate_keys_are_located(tmp_path):
    broken = tmp_path / "a.yaml"
    broken.write_text("datasets:\n  a: [1, 2\n", encoding="utf-8")
    with pytest.raises(SpecError) as caught:
        load_catalogue(broken, "a.yaml")
    assert caught.value.problems[0].location.line >= 2
    dup = tmp_path / "b.yaml"
    dup.write_text("version: 1\nversion: 2\ndatasets: {}\n", encoding="utf-8")
    with pytest.raises(SpecError) as caught:
        load_catalogue(dup, "b.yaml")
    assert "duplicate key 'version'" in caught.value.problems[0].message
    assert caught.value.problems[0].location.line == 2
