"""The queue as an XLSX workbook: every clue the queue's filters match for this user (not one page),
in the queue's order, capped at :data:`MAX_EXPORT_ROWS`.

What it must never do: write a full ID number (``subject_id`` and every ID number inside the summary are
masked for every role — unmasking is a per-clue, audited action on the clue page, never an export), or
write a cell a spreadsheet would run as a formula (text starting with ``= + - @``, a tab or a carriage
return gets a leading ``'`` — :func:`engine.report.cells.neutralise` —, every text cell is written
with ``write_string`` and the workbook is opened with ``strings_to_formulas: False``). The caller audits
the export (action ``export``) in the same transaction.

The workbook is written in xlsxwriter's constant-memory mode (row by row, the rows streamed from the
database), so 100,000 rows do not sit in memory as cell objects.

Example::

    with store.engine.begin() as conn:
        book = export_queue(conn, user, Filters(model_id="prisoner_dibao"))
    book.content  # the .xlsx bytes; book.rows, book.total, book.truncated
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from decimal import Decimal

import xlsxwriter
from sqlalchemy.engine import Connection

from engine.masking import mask_text
from engine.report.cells import neutralise
from engine.report.outputs import SUBJECT_TYPES_ZH
from engine.review.loop import RECTIFICATION_LABELS
from engine.review.queries import (
    LIFECYCLE_LABELS,
    STATUS_LABELS,
    Filters,
    count_matching,
    mask_subject,
    matching,
)
from engine.review.store import utcnow
from engine.review.users import User

MAX_EXPORT_ROWS = 100_000
MAX_CELL_TEXT = 32_000            # Excel holds at most 32,767 characters in a cell
MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BOOK_OPTIONS = {"constant_memory": True, "strings_to_formulas": False, "strings_to_numbers": False,
                "strings_to_urls": False}

# (header, how to read the cell from a clue row, column width); the readers return None, a number,
# a date or text — never a formula.
COLUMNS = (
    ("线索编号", lambda r: r.clue_id, 18),
    ("模型", lambda r: r.model_id, 18),
    ("规则", lambda r: r.rule_id, 14),
    ("得分", lambda r: r.score, 8),
    ("排名", lambda r: r.rank, 6),
    ("对象类型", lambda r: SUBJECT_TYPES_ZH.get(r.subject_type, r.subject_type), 10),
    ("对象", lambda r: r.subject_name, 16),
    ("证件号码（已脱敏）", lambda r: mask_subject(r.subject_id), 22),
    ("金额（元）", lambda r: r.amount, 14),
    ("期间起", lambda r: r.period_start, 12),
    ("期间止", lambda r: r.period_end, 12),
    ("区县", lambda r: r.county, 10),
    ("生命周期", lambda r: LIFECYCLE_LABELS.get(r.lifecycle, r.lifecycle), 8),
    ("状态", lambda r: STATUS_LABELS.get(r.status, r.status), 8),
    ("回头看", lambda r: RECTIFICATION_LABELS.get(r.rectification, r.rectification), 12),
    ("承办人", lambda r: r.assignee, 10),
    ("追回金额（元）", lambda r: r.recovered_amount, 14),
    ("决定后有变化", lambda r: "是" if r.changed_since_decision else None, 10),
    ("摘要", lambda r: mask_text(r.summary) if r.summary else None, 80),
)
MONEY_COLUMNS = {"金额（元）", "追回金额（元）"}
FILTER_LABELS = {"model_id": "模型", "rule_id": "规则", "lifecycle": "生命周期", "status": "状态",
                 "county": "区县", "assignee": "承办人", "changed": "决定后有变化", "rectification": "回头看",
                 "q": "搜索", "min_score": "最低分", "max_score": "最高分", "recommended": "优先核查",
                 "suppressed": "暂缓", "sort": "排序"}


@dataclass(frozen=True)
class Export:
    content: bytes
    rows: int          # rows written
    total: int         # rows the filters match
    truncated: bool


def filter_summary(f: Filters) -> dict:
    """The filters that are set (the search masked: an ID number typed in is never stored in full)."""
    out = {name: getattr(f, name) for name in FILTER_LABELS if getattr(f, name) not in (None, "")}
    if not f.recommended:           # a flag: off is not a filter (``changed=False`` is one)
        out.pop("recommended")
    if "q" in out:
        out["q"] = mask_text(out["q"])
    return out


class _Cells:
    """Writes one value into a cell by its type: numbers, dates, else neutralised text."""

    def __init__(self, book):
        self.money = book.add_format({"num_format": "#,##0.00"})
        self.date = book.add_format({"num_format": "yyyy-mm-dd"})
        self.bold = book.add_format({"bold": True, "bg_color": "#F0ECE4", "border": 1})
        self.warn = book.add_format({"bold": True, "font_color": "#AA0000"})

    def write(self, sheet, row: int, col: int, value, money: bool = False) -> None:
        if value is None:
            return
        if isinstance(value, bool):
            value = "是" if value else "否"
        if isinstance(value, (int, float, Decimal)):
            sheet.write_number(row, col, float(value), self.money if money else None)
        elif isinstance(value, dt.date):
            sheet.write_datetime(row, col, dt.datetime.combine(value, dt.time()), self.date)
        else:
            sheet.write_string(row, col, neutralise(str(value)[:MAX_CELL_TEXT]))


def _clue_sheet(book, cells: _Cells, rows) -> int:
    sheet = book.add_worksheet("线索")
    for col, (header, _read, width) in enumerate(COLUMNS):
        sheet.set_column(col, col, width)
        sheet.write_string(0, col, header, cells.bold)
    sheet.freeze_panes(1, 0)
    n = 0
    for n, row in enumerate(rows, start=1):
        for col, (header, read, _width) in enumerate(COLUMNS):
            cells.write(sheet, n, col, read(row), money=header in MONEY_COLUMNS)
    sheet.autofilter(0, 0, max(n, 1), len(COLUMNS) - 1)
    return n


def _notes_sheet(book, cells: _Cells, user: User, f: Filters, written: int, total: int, limit: int) -> None:
    sheet = book.add_worksheet("导出说明")
    sheet.set_column(0, 0, 18)
    sheet.set_column(1, 1, 90)
    lines = [("导出时间（UTC）", utcnow().isoformat(timespec="seconds")), ("导出人", user.name),
             ("匹配线索", total), ("已导出", written)]
    lines += [(f"筛选：{FILTER_LABELS[k]}", v) for k, v in filter_summary(f).items()]
    lines.append(("证件号码", "一律脱敏；完整号码须在线索页逐条查看（记入审计）。"))
    for row, (label, value) in enumerate(lines):
        sheet.write_string(row, 0, label, cells.bold)
        cells.write(sheet, row, 1, value)
    if total > written:
        sheet.write_string(len(lines), 0, "注意", cells.warn)
        sheet.write_string(len(lines), 1, f"匹配 {total} 条，超过导出上限 {limit} 条，仅导出按当前排序的前 "
                                          f"{written} 条；请缩小筛选范围后分批导出。", cells.warn)
        sheet.activate()   # the workbook opens on the warning


def export_queue(conn: Connection, user: User, f: Filters, limit: int = MAX_EXPORT_ROWS) -> Export:
    """Every clue the filters match for ``user`` (their model and county limits apply), at most ``limit``."""
    total = count_matching(conn, user, f)
    result = conn.execute(matching(conn, user, f).limit(limit).execution_options(yield_per=2000))
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, BOOK_OPTIONS)
    cells = _Cells(book)
    written = _clue_sheet(book, cells, result)
    _notes_sheet(book, cells, user, f, written, total, limit)
    book.close()
    return Export(buffer.getvalue(), written, total, total > written)
