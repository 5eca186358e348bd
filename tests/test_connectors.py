"""Connectors: encodings, formats, line numbers, broken rows, and files that lie about themselves."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest
from builders import write_csv, write_parquet, write_text, write_xlsx

from connectors.base import ConnectorError
from connectors.csvscan import scan
from connectors.files import discover, open_file

HEADER = ["姓名", "身份证号", "金额"]
ROWS = [["张伟", "510104199001010019", "1,234.50"], ["欧阳修远", "11010519491231002X", "0.5万元"]]


@pytest.mark.parametrize("encoding,bom,expected", [
    ("utf-8", False, "utf-8"), ("utf-8", True, "utf-8-sig"), ("gb18030", False, "gb18030"), ("gbk", False, "gb18030"),
])
def test_encodings_are_detected_and_decoded(tmp_path, encoding, bom, expected):
    path = write_csv(tmp_path / "a.csv", HEADER, ROWS, encoding=encoding, bom=bom)
    assert scan(path)[0].encoding == expected
    raw = open_file(path)
    assert raw.headers == HEADER
    assert raw.encoding == expected
    assert raw.table.select(["c0", "c1", "c2"]).to_pylist() == [dict(zip(["c0", "c1", "c2"], r, strict=True)) for r in ROWS]
    assert raw.table.column("_row").to_pylist() == [2, 3]


def test_line_numbers_count_blank_lines_and_multi_line_cells(tmp_path):
    text = "\n姓名,身份证号,金额\n张伟,1,2\n\n李四,3\n\"王\n五\",4,5\n赵六,6,7,8\n钱七,9,10\n"
    raw = open_file(write_text(tmp_path / "a.csv", text))
    good = raw.table.to_pylist()
    # line 1 blank, 2 header, 3 张伟, 4 blank, 5 李四 (too few), 6-7 王五 (two lines), 8 赵六 (too many), 9 钱七
    assert [(r["c0"], r["_row"]) for r in good] == [("张伟", 3), ("", 4), ("王\n五", 6), ("钱七", 9)]
    assert [(b.row_number, b.text) for b in raw.broken_rows] == [(5, "李四,3"), (8, "赵六,6,7,8")]
    assert "2 个字段" in raw.broken_rows[0].reason and "4 个字段" in raw.broken_rows[1].reason


def test_semicolon_and_tab_delimited_files(tmp_path):
    raw = open_file(write_csv(tmp_path / "a.csv", HEADER, ROWS, delimiter="\t"))
    assert raw.headers == HEADER and raw.table.num_rows == 2


def test_xlsx_first_sheet_real_dates_serials_and_sheet_rows(tmp_path):
    path = write_xlsx(tmp_path / "a.xlsx", ["姓名", "入监日期", "金额"],
                      [["张伟", dt.date(2023, 1, 5), 1234.5], [None, None, None], ["李四", 44931, "1,234.50"]],
                      extra_sheet=True)
    raw = open_file(path)
    assert raw.headers == ["姓名", "入监日期", "金额"]
    rows = raw.table.to_pylist()
    assert rows[0]["c1"].startswith("2023-01-05") and rows[0]["c2"] == "1234.5" and rows[0]["_row"] == 2
    assert rows[2]["c1"] == "44931" and rows[2]["_row"] == 4
    assert any("only the first sheet" in w for w in raw.warnings)


def test_parquet_typed_columns_become_text(tmp_path):
    path = write_parquet(tmp_path / "a.parquet", {
        "姓名": ["张伟"], "入监日期": pa.array([dt.date(2023, 1, 5)]), "金额": pa.array([1234.5]),
        "人数": pa.array([3], pa.int64())})
    raw = open_file(path)
    assert raw.table.to_pylist() == [{"c0": "张伟", "c1": "2023-01-05", "c2": "1234.5", "c3": "3", "_row": 1}]


@pytest.mark.parametrize("name,content,message", [
    ("a.csv", b"", "the file is empty"),
    ("a.csv", b"PK\x03\x04" + b"\x00" * 100, "content is an XLSX workbook"),
    ("a.xlsx", "姓名,金额\n张伟,1\n".encode(), "content is text (CSV); rename it to a.csv"),
    ("a.parquet", b"PAR1garbage-not-really-parquet", "not a readable Parquet file"),
    ("a.csv", b"\xd0\xcf\x11\xe0" + b"\x00" * 100, "legacy Excel .xls"),
    ("a.xlsx", b"PK\x03\x04broken zip", "not a readable XLSX workbook"),
])
def test_files_that_are_not_what_they_say_get_a_clear_error(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ConnectorError) as caught:
        open_file(path)
    assert str(path) in str(caught.value) and message in str(caught.value)


def test_truncated_parquet_is_reported(tmp_path):
    path = write_parquet(tmp_path / "a.parquet", {"姓名": ["张伟"] * 1000})
    path.write_bytes(path.read_bytes()[:-40])
    with pytest.raises(ConnectorError, match="not a readable Parquet file"):
        open_file(path)


def test_neither_utf8_nor_gb18030_is_refused(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes("姓名\n".encode("utf-16-le").replace(b"\x00", b"\x01") + b"\x81\x30\xff\xff\n")
    with pytest.raises(ConnectorError, match="neither UTF-8 nor GB18030"):
        open_file(path)


def test_header_only_and_folder_discovery(tmp_path):
    raw = open_file(write_text(tmp_path / "h.csv", "姓名,金额\n"))
    assert raw.headers == ["姓名", "金额"] and raw.table.num_rows == 0
    write_csv(tmp_path / "ds" / "2023-02.csv", HEADER, ROWS)
    write_csv(tmp_path / "ds" / "2023-01.csv", HEADER, ROWS)
    (tmp_path / "ds" / "~$2023-01.xlsx").write_bytes(b"lock file")
    found = discover(tmp_path, ("ds.csv", "ds/*.csv", "ds/*.xlsx"))
    assert [p.name for p in found] == ["2023-01.csv", "2023-02.csv"]
