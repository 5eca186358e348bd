"""Every messy form of DATASETS.md, normalised column-wise, with the expected normal form."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from builders import valid_id

from engine.ingest.normalize.columns import normalize_values
from engine.spec.catalog import ColumnSpec


def norm(kind: str, cells: list, **spec):
    column = ColumnSpec(name="c", type=kind, zh="列", **spec)
    return normalize_values(column, cells)


ID = valid_id("51010419900101001")


@pytest.mark.parametrize("raw", [
    ID, f" {ID} ", f"{ID[:6]} {ID[6:14]} {ID[14:]}", f"{ID[:6]}-{ID[6:14]}-{ID[14:]}",
    "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in ID),  # full-width digits
])
def test_id_number_forms_normalise_to_one_value(raw):
    out = norm("id_cn", [raw])
    assert out["c"][0] == ID
    assert out["c_valid"][0] is True
    assert out["reason"][0] is None


def test_lower_case_x_is_upper_cased_and_valid():
    x_id = next(i for i in (valid_id(f"11010519800101{n:03d}") for n in range(1000)) if i.endswith("X"))
    out = norm("id_cn", [x_id.lower()])
    assert out["c"][0] == x_id and out["c_valid"][0] is True


def test_fifteen_digit_numbers_are_converted_with_check_character():
    out = norm("id_cn", ["510104900101001", "510104900101997"])
    # 19 inserted after the area code; 18 for the 996–999 sequences (centenarians).
    assert out["c"][0] == valid_id("51010419900101001")
    assert out["c"][1] == valid_id("51010418900101997")
    assert out["c_valid"].to_list() == [True, True]


def test_wrong_check_character_is_kept_and_flagged_not_quarantined():
    wrong = ID[:17] + ("0" if ID[17] != "0" else "1")
    out = norm("id_cn", [wrong, "12345"])
    assert out["c"].to_list() == [wrong, "12345"]
    assert out["c_valid"].to_list() == [False, False]
    assert out["reason"].to_list() == [None, None]


def test_empty_id_in_required_column_is_a_reason():
    out = norm("id_cn", ["", "NULL", "-", "无"])
    assert out["c"].to_list() == [None] * 4
    assert all("必填项为空" in r for r in out["reason"].to_list())


@pytest.mark.parametrize("raw,expected", [
    ("张伟", "张伟"), (" 张 伟 ", "张伟"), ("张\u3000伟", "张伟"), ("張偉", "张伟"), ("劉德華", "刘德华"),
    ("阿依古丽·买买提", "阿依古丽·买买提"), ("阿依古丽•买买提", "阿依古丽·买买提"),
    ("阿依古丽.买买提", "阿依古丽·买买提"), ("阿依古丽．买买提", "阿依古丽·买买提"),
    ("ＡＢＣ", "ABC"),
])
def test_person_names(raw, expected):
    assert norm("name_zh", [raw])["c"][0] == expected


@pytest.mark.parametrize("raw", ["2023-01-05", "2023/1/5", "20230105", "2023年1月5日", "2023.01.05",
                                 "2023-01-05 00:00:00", "44931", "44931.0", " 2023-1-5 "])
def test_date_forms(raw):
    out = norm("date", [raw])
    assert out["c"][0] == dt.date(2023, 1, 5)
    assert out["reason"][0] is None


@pytest.mark.parametrize("raw", ["2023-13-45", "2023-02-29", "20231301", "明年", "2023-1"])
def test_impossible_dates_are_reasons(raw):
    out = norm("date", [raw])
    assert out["c"][0] is None
    assert "无法识别为日期" in out["reason"][0] and raw.strip() in out["reason"][0]


def test_leap_day_is_a_date():
    assert norm("date", ["2024-02-29"])["c"][0] == dt.date(2024, 2, 29)


@pytest.mark.parametrize("raw", ["2023-01", "202301", "2023年1月", "2023/1", "2023.1", "2023-01-15", "44941"])
def test_month_forms(raw):
    assert norm("month", [raw])["c"][0] == dt.date(2023, 1, 1)


def test_bad_month_is_a_reason():
    out = norm("month", ["2023-13", "一月"])
    assert out["c"].to_list() == [None, None]
    assert all("无法识别为月份" in r for r in out["reason"].to_list())


@pytest.mark.parametrize("raw,expected", [
    ("1234.5", "1234.50"), ("1,234.50", "1234.50"), ("1234.5元", "1234.50"), ("¥1,234.50", "1234.50"),
    ("￥1,234.50", "1234.50"), ("0.5万元", "5000.00"), ("3万", "30000.00"), ("１２３４．５", "1234.50"),
    ("-12", "-12.00"), ("0", "0.00"),
])
def test_amount_forms(raw, expected):
    assert norm("amount", [raw])["c"][0] == Decimal(expected)


@pytest.mark.parametrize("raw", ["约五千", "12.3.4", "1,2,3元x"])
def test_unreadable_amounts_are_reasons(raw):
    out = norm("amount", [raw])
    assert out["c"][0] is None and "无法识别为金额" in out["reason"][0]


def test_enum_values_mapping_and_missing():
    out = norm("enum", ["男", "男性", " 女 ", "X", ""], values=("男", "女"), value_map={"男性": "男"})
    assert out["c"].to_list() == ["男", "男", "女", None, None]
    reasons = out["reason"].to_list()
    assert reasons[:3] == [None, None, None]
    assert "不在取值范围" in reasons[3] and "必填项为空" in reasons[4]


def test_wu_is_a_value_in_an_enum_that_contains_it_and_missing_elsewhere():
    measure = norm("enum", ["无", "社区戒毒"], values=("社区戒毒", "无"))
    assert measure["c"].to_list() == ["无", "社区戒毒"] and measure["reason"].to_list() == [None, None]
    other = norm("text", ["无"], required=False)
    assert other["c"][0] is None


def test_optional_empty_cells_are_not_reasons():
    out = norm("date", ["", None, "NULL", "-"], required=False)
    assert out["c"].to_list() == [None] * 4 and out["reason"].to_list() == [None] * 4


def test_integers_and_compact_codes():
    assert norm("int", ["12", "1,200", "35人", "十二"])["c"].to_list() == [12, 1200, 35, None]
    assert norm("text", [" ab 12-3 "], compact=True)["c"][0] == "AB12-3"


def test_credit_code_normal_form_and_flag():
    out = norm("credit_code", [" 91510100ma61r9xx7c ", "91350100M000100Y43"])
    assert out["c"].to_list() == ["91510100MA61R9XX7C", "91350100M000100Y43"]
    assert out["c_valid"].to_list() == [False, True]
