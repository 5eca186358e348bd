"""Write the clue list: ``clues.parquet``, ``clues.csv`` (UTF-8 with BOM) and ``clues.xlsx``.

The Parquet file has exactly the columns of CONTRACT.md; the CSV has the same
rows (Excel opens it correctly thanks to the BOM); the workbook has one sheet
per model with Chinese headers and a summary sheet first. In the CSV and the
workbook a text cell that a spreadsheet would run as a formula gets a leading
``'`` (:mod:`engine.report.cells`); the Parquet keeps the true values. Every file is
written under a temporary name and renamed, so a killed run never leaves a
half-written file that looks complete.

Example::

    write_clue_files(clues, quarantine, run_dir, models=[...])
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv

from engine.atomic import atomic_parquet, atomic_target, atomic_write_bytes
from engine.report.cells import neutralise, neutralise_table

HEADERS_ZH = {
    "run_id": "运行编号", "model_id": "模型编号", "rule_id": "规则", "clue_id": "线索编号",
    "subject_type": "对象类型", "subject_id": "对象编号", "subject_name": "对象名称", "rank": "核查顺序",
    "score": "评分", "confidence": "置信度", "amount": "金额（元）", "period_start": "起始", "period_end": "截止",
    "summary": "线索摘要", "evidence": "证据（JSON）",
}
SUBJECT_TYPES_ZH = {"person": "自然人", "license": "许可证照", "penalty": "行政处罚", "permit": "施工许可",
                    "deposit": "保证金", "complaint": "投诉", "person_year": "人员年度"}


def write_csv_with_bom(table: pa.Table, path: Path) -> None:
    """UTF-8 with BOM (Excel opens it correctly); text that Excel would run as a formula neutralised."""
    buffer = io.BytesIO()
    buffer.write(b"\xef\xbb\xbf")
    pacsv.write_csv(neutralise_table(table), buffer, write_options=pacsv.WriteOptions(quoting_style="needed"))
    atomic_write_bytes(path, buffer.getvalue())


def _sheet_name(title: str, used: set[str]) -> str:
    name = re.sub(r"[\[\]:*?/\\]", "", title)[:28] or "sheet"
    base, n = name, 2
    while name in used:
        name = f"{base[:26]}{n}"
        n += 1
    used.add(name)
    return name


def write_xlsx(clues: pa.Table, path: Path, models: list[dict]) -> None:
    """One sheet per model (Chinese headers) plus a summary sheet first."""
    import xlsxwriter

    with atomic_target(path) as tmp:
        _write_book(xlsxwriter.Workbook(str(tmp), {"strings_to_numbers": False, "strings_to_urls": False}),
                    clues, models)


def _write_book(book, clues: pa.Table, models: list[dict]) -> None:
    header = book.add_format({"bold": True, "bg_color": "#DDE4EE", "border": 1, "text_wrap": True})
    money = book.add_format({"num_format": "#,##0.00"})
    date = book.add_format({"num_format": "yyyy-mm-dd"})
    text = book.add_format({"text_wrap": False})
    summary = book.add_worksheet("汇总")
    used = {"汇总"}
    columns = ["模型编号", "模型名称", "状态", "线索数", "涉及金额（元）", "法律依据"]
    summary.write_row(0, 0, columns, header)
    rows = clues.to_pylist()
    by_model: dict[str, list[dict]] = {}
    for row in rows:
        by_model.setdefault(row["model_id"], []).append(row)
    for i, model in enumerate(models, start=1):
        mine = by_model.get(model["id"], [])
        total = sum(float(r["amount"]) for r in mine if r["amount"] is not None)
        for column, value in enumerate([model["id"], model["title"], model["status"]]):
            summary.write_string(i, column, neutralise(str(value)))
        summary.write_number(i, 3, len(mine))
        summary.write_number(i, 4, total, money)
        summary.write_string(i, 5, neutralise(str(model.get("legal_basis", ""))))
    summary.set_column(0, 0, 24)
    summary.set_column(1, 1, 36)
    summary.set_column(4, 4, 16)
    summary.set_column(5, 5, 60)
    names = list(HEADERS_ZH)
    for model in models:
        sheet = book.add_worksheet(_sheet_name(model["title"], used))
        sheet.write_row(0, 0, [HEADERS_ZH[n] for n in names], header)
        for r, row in enumerate(by_model.get(model["id"], []), start=1):
            for c, name in enumerate(names):
                value = row[name]
                if value is None:
                    continue
                if name == "amount":
                    sheet.write_number(r, c, float(value), money)
                elif name in ("period_start", "period_end"):
                    sheet.write_datetime(r, c, _as_datetime(value), date)
                elif name in ("rank", "score", "confidence"):
                    sheet.write_number(r, c, float(value))
                elif name == "subject_type":
                    sheet.write_string(r, c, SUBJECT_TYPES_ZH.get(value, value), text)
                else:
                    sheet.write_string(r, c, neutralise(str(value)[:32000]), text)
        sheet.freeze_panes(1, 0)
        sheet.set_column(names.index("summary"), names.index("summary"), 80)
        sheet.set_column(names.index("subject_id"), names.index("subject_name"), 20)
    book.close()


def _as_datetime(value):
    import datetime as dt

    return dt.datetime.combine(value, dt.time())


def write_clue_files(clues: pa.Table, quarantine: pa.Table, run_dir: Path, models: list[dict]) -> None:
    atomic_parquet(clues, run_dir / "clues.parquet")
    write_csv_with_bom(clues, run_dir / "clues.csv")
    write_xlsx(clues, run_dir / "clues.xlsx", models)
    atomic_parquet(quarantine, run_dir / "quarantine.parquet")
