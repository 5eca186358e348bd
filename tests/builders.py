"""Builders for test inputs: agency files in every format and encoding they arrive in."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq


def write_csv(path: Path, header: list[str], rows: list[list[str]], encoding: str = "utf-8",
              bom: bool = False, delimiter: str = ",") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    data = buffer.getvalue().encode(encoding)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return path


def write_text(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path


def write_xlsx(path: Path, header: list[str], rows: list[list[object]], extra_sheet: bool = False,
               date_format: str = "yyyy-mm-dd") -> Path:
    """Cells that are ``datetime.date`` become real Excel date cells; numbers stay numbers."""
    import xlsxwriter

    path.parent.mkdir(parents=True, exist_ok=True)
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("数据")
    date_cell = book.add_format({"num_format": date_format})
    sheet.write_row(0, 0, header)
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row):
            if isinstance(value, dt.date):
                sheet.write_datetime(r, c, dt.datetime.combine(value, dt.time()), date_cell)
            elif value is None:
                continue
            else:
                sheet.write(r, c, value)
    if extra_sheet:
        book.add_worksheet("说明").write(0, 0, "this sheet must be ignored")
    book.close()
    return path


def write_parquet(path: Path, columns: dict[str, list]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(columns), path)
    return path


PRISON_HEADER_ZH = ["姓名", "身份证号", "性别", "出生日期", "监所名称", "羁押类型", "刑罚", "入监日期", "出监日期"]
PRISON_HEADER_EN = ["person_name", "id_number", "gender", "birth_date", "facility", "custody_type", "sentence",
                    "admitted_on", "released_on"]


def prison_row(name="张伟", id_number="510104199001010019", gender="男", birth="1990-01-01", facility="第一监狱",
               custody="已决", sentence="有期徒刑", admitted="2020-01-01", released="") -> list[str]:
    return [name, id_number, gender, birth, facility, custody, sentence, admitted, released]


def valid_id(body17: str) -> str:
    """Complete a 17-digit body with its check character (via python-stdnum, the oracle)."""
    from stdnum.cn import ric

    return body17 + ric.calc_check_digit(body17 + "0")  # stdnum drops the last character
