"""Ingest: every row accounted for, bad input answered clearly, one bad file never stops the rest."""

from __future__ import annotations

import json
import sys

import polars as pl
import pyarrow.parquet as pq
import pytest
from builders import (
    PRISON_HEADER_EN,
    PRISON_HEADER_ZH,
    prison_row,
    valid_id,
    write_csv,
    write_text,
    write_xlsx,
)

from engine.ingest.ingest import Staging, ingest

ID1 = valid_id("51010419900101001")
ID2 = valid_id("51010419850505002")


def run(catalogue, root, tmp_path, names=None):
    return ingest(catalogue, root, Staging(tmp_path / "staging"), names)


def assert_balanced(result):
    for d in result.datasets:
        assert d.rows_read == d.rows_accepted + d.rows_quarantined + d.rows_duplicate, d.name


def staged_rows(dataset_result):
    return pq.read_table(dataset_result.staged).to_pylist()


def test_clean_file_in_both_header_languages_and_encodings(catalogue, tmp_path):
    root = tmp_path / "data"
    write_csv(root / "prison_roster" / "a.csv", PRISON_HEADER_ZH, [prison_row(id_number=ID1)], encoding="gb18030")
    write_csv(root / "prison_roster" / "b.csv", PRISON_HEADER_EN, [prison_row(name="李四", id_number=ID2)], bom=True)
    result = run(catalogue, root, tmp_path, ["prison_roster"])
    roster = result.dataset("prison_roster")
    assert (roster.rows_read, roster.rows_accepted, roster.rows_quarantined) == (2, 2, 0)
    assert [f.encoding for f in roster.files] == ["gb18030", "utf-8-sig"]  # mixed encodings, one dataset
    rows = staged_rows(roster)
    assert {r["person_name"] for r in rows} == {"张伟", "李四"}
    assert {(r["_file"], r["_row"]) for r in rows} == {("prison_roster/a.csv", 2), ("prison_roster/b.csv", 2)}


def test_unreadable_rows_are_quarantined_with_reason_and_raw_cells(catalogue, tmp_path):
    root = tmp_path / "data"
    rows = [
        prison_row(id_number=ID1),
        prison_row(birth="2023-13-45"),                          # impossible date
        prison_row(sentence=""),                                 # 已决 without sentence
        prison_row(custody="未决", sentence=""),                  # fine: empty for 未决
        prison_row(gender="未知"),                                # enum outside its set
        prison_row(id_number="", facility=""),                   # two empty required cells
        prison_row(id_number="510104199001010010"),              # wrong check char: kept, flagged
    ]
    write_csv(root / "prison_roster.csv", PRISON_HEADER_ZH, rows)
    result = run(catalogue, root, tmp_path, ["prison_roster"])
    roster = result.dataset("prison_roster")
    assert_balanced(result)
    assert (roster.rows_read, roster.rows_accepted, roster.rows_quarantined) == (7, 3, 4)
    q = {r["row_number"]: r for r in result.quarantine_table().to_pylist()}
    assert set(q) == {3, 4, 6, 7}
    assert "出生日期(birth_date): '2023-13-45' 无法识别为日期" in q[3]["reason"]
    assert "刑罚(sentence): 当 custody_type = '已决' 时必填" in q[4]["reason"]
    assert "性别(gender): '未知' 不在取值范围" in q[6]["reason"]
    assert "身份证号(id_number): 必填项为空" in q[7]["reason"] and "监所名称(facility): 必填项为空" in q[7]["reason"]
    assert json.loads(q[3]["raw"])["出生日期"] == "2023-13-45"
    assert all(r["dataset"] == "prison_roster" and r["source_file"] == "prison_roster.csv" for r in q.values())
    flagged = [r for r in staged_rows(roster) if r["id_number"] == "510104199001010010"]
    assert len(flagged) == 1 and flagged[0]["id_number_valid"] is False


def test_conditional_blanks_of_the_contract(catalogue, tmp_path):
    root = tmp_path / "data"
    write_csv(root / "drug_users.csv", ["姓名", "身份证号", "查获日期", "管控措施", "措施开始日期", "措施结束日期"], [
        ["张伟", ID1, "2020-01-01", "无", "", ""],                 # 无: start may be empty
        ["李四", ID2, "2020-01-01", "社区戒毒", "", ""],            # start required
        ["王五", ID2, "2020-01-01", "强制隔离戒毒", "2020-02-01", ""],
    ])
    write_csv(root / "wage_deposits.csv", [
        "保证金编号", "项目名称", "施工许可证编号", "施工单位", "统一社会信用代码", "存储方式", "保证金金额", "存储日期",
        "保函到期日", "已动用金额", "退还日期"], [
        ["D1", "锦江花园", "", "华建公司", "", "现金存储", "10万", "2023-01-01", "", "", ""],
        ["D2", "锦江花园", "", "华建公司", "", "银行保函", "10万", "2023-01-01", "", "", ""],
    ])
    result = run(catalogue, root, tmp_path, ["drug_users", "wage_deposits"])
    assert result.dataset("drug_users").rows_quarantined == 1
    assert result.dataset("wage_deposits").rows_quarantined == 1
    reasons = {r["source_file"]: r["reason"] for r in result.quarantine_table().to_pylist()}
    assert "措施开始日期(measure_start)" in reasons["drug_users.csv"]
    assert "保函到期日(guarantee_expires_on)" in reasons["wage_deposits.csv"]


def test_exact_duplicates_across_files_are_counted_and_kept_once(catalogue, tmp_path):
    root = tmp_path / "data"
    header = ["发放流水号", "户编号", "姓名", "身份证号", "区县", "发放月份", "发放金额"]
    row = ["P1", "H1", "张伟", ID1, "锦江区", "2023-01", "500"]
    write_csv(root / "dibao_payments" / "2023-01.csv", header, [row, row, ["P2", *row[1:]]])
    write_csv(root / "dibao_payments" / "2023-02.csv", header, [row, [*row[:5], "202301", "500"]],
              encoding="gb18030")
    result = run(catalogue, root, tmp_path, ["dibao_payments"])
    d = result.dataset("dibao_payments")
    # 5 rows: P1 ×3 identical as read → 2 duplicates; the 202301 row differs as read → kept.
    assert (d.rows_read, d.rows_accepted, d.rows_duplicate, d.rows_quarantined) == (5, 3, 2, 0)
    kept = [(r["_file"], r["_row"]) for r in staged_rows(d) if r["payment_id"] == "P1" and r["_row"] == 2]
    assert kept == [("dibao_payments/2023-01.csv", 2)]  # the first copy is the one kept


def test_missing_required_column_names_file_column_and_accepted_headers(catalogue, tmp_path):
    root = tmp_path / "data"
    header = [h for h in PRISON_HEADER_ZH if h != "入监日期"]
    write_csv(root / "prison_roster.csv", header, [prison_row()[:7] + [""]])
    write_csv(root / "death_records.csv", ["记录编号", "姓名", "身份证号", "死亡日期", "数据来源"],
              [["R1", "张伟", ID1, "2023-01-01", "火化记录"]])
    result = run(catalogue, root, tmp_path, ["prison_roster", "death_records"])
    roster = result.dataset("prison_roster")
    error = roster.files[0].error
    assert error.startswith("prison_roster.csv:") and "admitted_on" in error
    assert "入监日期" in error and "入所日期" in error  # the aliases that would have been accepted
    assert (roster.rows_read, roster.rows_quarantined, roster.rows_accepted) == (1, 1, 0)
    assert result.dataset("death_records").rows_accepted == 1  # the other dataset is unaffected
    assert_balanced(result)


def test_extra_columns_are_kept_and_reported(catalogue, tmp_path):
    root = tmp_path / "data"
    write_csv(root / "prison_roster.csv", [*PRISON_HEADER_ZH, "备注", "经办人"], [prison_row() + ["复核", "王警官"]])
    result = run(catalogue, root, tmp_path, ["prison_roster"])
    roster = result.dataset("prison_roster")
    assert roster.files[0].extra_columns == ["备注", "经办人"]
    assert any("extra columns" in w for w in roster.files[0].warnings)
    assert json.loads(staged_rows(roster)[0]["_extra"]) == {"备注": "复核", "经办人": "王警官"}


def test_too_many_and_too_few_fields_are_quarantined_with_their_line(catalogue, tmp_path):
    root = tmp_path / "data"
    lines = [",".join(PRISON_HEADER_ZH), ",".join(prison_row()), ",".join(prison_row()[:5]),
             ",".join(prison_row() + ["多余"]), ",".join(prison_row(name="李四"))]
    write_text(root / "prison_roster.csv", "\n".join(lines) + "\n")
    result = run(catalogue, root, tmp_path, ["prison_roster"])
    roster = result.dataset("prison_roster")
    assert (roster.rows_read, roster.rows_accepted, roster.rows_quarantined) == (4, 2, 2)
    q = result.quarantine_table().to_pylist()
    assert [r["row_number"] for r in q] == [3, 4]
    assert json.loads(q[0]["raw"])["_line"] == ",".join(prison_row()[:5])


@pytest.mark.parametrize("name,content,fragment", [
    ("prison_roster.csv", b"", "the file is empty"),
    ("prison_roster.csv", b"PK\x03\x04" + b"\x00" * 64, "XLSX workbook"),
    ("prison_roster.parquet", b"PAR1 broken", "not a readable Parquet file"),
])
def test_unreadable_files_are_reported_and_others_still_ingested(catalogue, tmp_path, name, content, fragment):
    root = tmp_path / "data"
    (root / "prison_roster").mkdir(parents=True)
    (root / "prison_roster" / name).write_bytes(content)
    write_csv(root / "prison_roster" / "good.csv", PRISON_HEADER_ZH, [prison_row()])
    result = run(catalogue, root, tmp_path, ["prison_roster"])
    roster = result.dataset("prison_roster")
    errors = roster.file_errors
    assert len(errors) == 1 and errors[0].startswith(f"prison_roster/{name}:") and fragment in errors[0]
    assert roster.rows_accepted == 1
    assert_balanced(result)


def test_header_only_file_and_dataset_without_files(catalogue, tmp_path):
    root = tmp_path / "data"
    write_text(root / "prison_roster.csv", ",".join(PRISON_HEADER_ZH) + "\n")
    result = run(catalogue, root, tmp_path, ["prison_roster", "death_records"])
    roster = result.dataset("prison_roster")
    assert roster.rows_read == 0 and roster.error is None and not roster.file_errors
    assert any("no rows" in w for w in roster.files[0].warnings)
    deaths = result.dataset("death_records")
    assert deaths.missing and "death_records" in deaths.missing and deaths.error is None


def test_xlsx_dataset_with_real_date_cells_and_serials(catalogue, tmp_path):
    import datetime as dt

    root = tmp_path / "data"
    write_xlsx(root / "death_records.xlsx", ["记录编号", "姓名", "身份证号", "死亡日期", "数据来源"], [
        ["R1", "張偉", ID1, dt.date(2023, 1, 5), "火化记录"],
        ["R2", "李四", ID2, 44931, "户籍注销"],
        ["R3", "王五", ID2, "2023-13-45", "户籍注销"],
    ])
    result = run(catalogue, root, tmp_path, ["death_records"])
    d = result.dataset("death_records")
    assert (d.rows_accepted, d.rows_quarantined) == (2, 1)
    rows = {r["record_id"]: r for r in staged_rows(d)}
    assert rows["R1"]["death_date"] == dt.date(2023, 1, 5) and rows["R1"]["person_name"] == "张伟"
    assert rows["R2"]["death_date"] == dt.date(2023, 1, 5)
    assert result.quarantine_table().to_pylist()[0]["row_number"] == 4  # the sheet row


def test_unchanged_files_are_not_parsed_again(catalogue, tmp_path):
    root = tmp_path / "data"
    write_csv(root / "prison_roster" / "a.csv", PRISON_HEADER_ZH, [prison_row()])
    write_csv(root / "prison_roster" / "b.csv", PRISON_HEADER_ZH, [prison_row(name="李四")])
    first = run(catalogue, root, tmp_path, ["prison_roster"]).dataset("prison_roster")
    assert [f.reused for f in first.files] == [False, False]
    write_csv(root / "prison_roster" / "b.csv", PRISON_HEADER_ZH, [prison_row(name="王五")])
    second = run(catalogue, root, tmp_path, ["prison_roster"]).dataset("prison_roster")
    assert [f.reused for f in second.files] == [True, False]
    assert {r["person_name"] for r in staged_rows(second)} == {"张伟", "王五"}


def test_a_blank_row_is_blank_without_nfkc_for_every_code_point():
    """The blank-row mask strips Unicode whitespace without NFKC: for no character does NFKC make a
    non-blank cell blank, so both tests agree on every code point."""
    cells = pl.Series("c", [chr(i) for i in range(sys.maxunicode + 1) if not 0xD800 <= i <= 0xDFFF])
    with_nfkc = cells.str.normalize("NFKC").str.strip_chars() == ""
    without = cells.str.strip_chars() == ""
    assert (with_nfkc == without).all() and without.sum() > 20   # U+3000 and the other spaces are blank
