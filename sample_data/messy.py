"""Render clean values the way agencies type them, and write files the way they send them.

Every messy form of the data contract appears: ID numbers with spaces,
hyphens, full-width digits, lower-case ``x`` and old 15-digit numbers; names
with spaces, full-width characters, minority-name dot variants and traditional
characters; dates, months and amounts in every accepted notation; Excel date
cells and serial numbers; UTF-8, UTF-8 with BOM and GB18030 files; Chinese or
English headers; extra columns; blank lines; exact duplicates; and a few
unreadable rows (which the truth file counts, and which never carry a planted
case).

Example::

    mess = Messer(random.Random(1), rate=0.3)
    mess.id_number("510104199001010019")    # e.g. '510104 19900101 0019'
"""

from __future__ import annotations

import datetime as dt
import json
import random
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

FULL_WIDTH = {chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)}


def _full_width(text: str) -> str:
    return "".join(FULL_WIDTH.get(c, c) for c in text)


def _traditional_map() -> dict[str, str]:
    from importlib import resources

    table = resources.files("opencc").joinpath("dictionary/STCharacters.txt").read_text(encoding="utf-8")
    out = {}
    for line in table.splitlines():
        simp, _, trad = line.partition("\t")
        trad = trad.split(" ")[0].strip()
        if len(simp) == 1 and len(trad) == 1 and simp != trad:
            out[simp] = trad
    return out


class Messer:
    def __init__(self, rng: random.Random, rate: float = 0.25):
        self.rng = rng
        self.rate = rate
        self.traditional = _traditional_map()

    def messy(self) -> bool:
        return self.rng.random() < self.rate

    def id_number(self, value: str, allow_15: bool = True) -> str:
        if not value or not self.messy():
            return value
        form = self.rng.choice(["space", "hyphen", "full", "lower", "fifteen", "pad"])
        if form == "space":
            return f"{value[:6]} {value[6:14]} {value[14:]}"
        if form == "hyphen":
            return f"{value[:6]}-{value[6:14]}-{value[14:]}"
        if form == "full":
            return _full_width(value)
        if form == "lower" and value.endswith("X"):
            return value.lower()
        if form == "fifteen" and allow_15 and len(value) == 18 and value[6:8] == "19" and \
                value[14:17] not in ("996", "997", "998", "999") and _valid(value):
            return value[:6] + value[8:17]
        if form == "pad":
            return f" {value} "
        return value

    def name(self, value: str) -> str:
        if not value or not self.messy():
            return value
        form = self.rng.choice(["space", "traditional", "traditional", "dot", "trailing"])
        if form == "space" and len(value) >= 2:
            return value[0] + " " + value[1:]
        if form == "traditional":
            return "".join(self.traditional.get(c, c) for c in value)
        if form == "dot" and "·" in value:
            return value.replace("·", self.rng.choice(["•", ".", "．"]))
        if form == "trailing":
            return value + "\u3000"
        return value

    def credit_code(self, value: str) -> str:
        if not value or not self.messy():
            return value
        form = self.rng.choice(["lower", "space", "full", "pad"])
        return {"lower": value.lower(), "space": f"{value[:2]} {value[2:8]} {value[8:]}",
                "full": _full_width(value), "pad": f" {value}\t"}[form]

    def org_name(self, value: str) -> str:
        """Spaces, half- or full-width brackets and letters: the same normal form."""
        if not value or not self.messy():
            return value
        form = self.rng.choice(["space", "half", "full", "trailing"])
        if form == "space" and len(value) > 4:
            at = self.rng.randrange(2, len(value) - 1)
            return value[:at] + " " + value[at:]
        if form == "half":
            return value.replace("（", "(").replace("）", ")")
        if form == "full":
            return _full_width(value.replace("（", "(").replace("）", ")"))
        return value + " "

    def date(self, value: dt.date | None) -> str:
        if value is None:
            return self.rng.choice(["", "", "NULL", "-"]) if self.messy() else ""
        if not self.messy():
            return value.isoformat()
        form = self.rng.choice(["slash", "compact", "zh", "dot"])
        return {"slash": f"{value.year}/{value.month}/{value.day}", "compact": f"{value:%Y%m%d}",
                "zh": f"{value.year}年{value.month}月{value.day}日", "dot": f"{value:%Y.%m.%d}"}[form]

    def month(self, value: dt.date) -> str:
        if not self.messy():
            return f"{value:%Y-%m}"
        form = self.rng.choice(["compact", "zh", "slash"])
        return {"compact": f"{value:%Y%m}", "zh": f"{value.year}年{value.month}月",
                "slash": f"{value.year}/{value.month}"}[form]

    def amount(self, value: Decimal | None) -> str:
        if value is None:
            return ""
        if not self.messy():
            return f"{value:.2f}"
        form = self.rng.choice(["comma", "yuan", "sign", "wan", "plain"])
        if form == "wan" and value >= 1000 and (value * 100) % 100 == 0:
            return f"{(value / Decimal(10000)).normalize():f}万元"
        return {"comma": f"{value:,.2f}", "yuan": f"{value}元", "sign": f"¥{value:,.2f}", "plain": f"{value}",
                "wan": f"{value:.2f}"}[form]


def _valid(value: str) -> bool:
    from sample_data.people import check_char

    return len(value) == 18 and value[:17].isdigit() and check_char(value[:17]) == value[17]


# ---------------------------------------------------------------------------------- writers


def headers_for(dataset, language: str) -> list[str]:
    return [c.zh if language == "zh" else c.name for c in dataset.columns]


def write_csv(path: Path, header: list[str], rows: list[list[str]], encoding: str = "utf-8",
              bom: bool = False, blank_lines: int = 0, rng: random.Random | None = None) -> None:
    import csv
    import io

    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    lines = []
    for row in rows:
        line = io.StringIO()
        csv.writer(line, lineterminator="\n").writerow(row)
        lines.append(line.getvalue())
    for _ in range(blank_lines):
        lines.insert((rng or random).randrange(len(lines) + 1), "\n")
    data = (buffer.getvalue() + "".join(lines)).encode(encoding)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)


def write_xlsx(path: Path, header: list[str], rows: list[list]) -> None:
    """``datetime.date`` values become real Excel date cells, ints numbers (e.g. serial dates), the rest text."""
    import xlsxwriter

    path.parent.mkdir(parents=True, exist_ok=True)
    book = xlsxwriter.Workbook(str(path))
    book.set_properties({"created": dt.datetime(2024, 6, 30)})  # a fixed timestamp: same seed, same bytes
    sheet = book.add_worksheet("数据")
    date_cell = book.add_format({"num_format": "yyyy-mm-dd"})
    sheet.write_row(0, 0, header)
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row):
            if isinstance(value, dt.date):
                sheet.write_datetime(r, c, dt.datetime.combine(value, dt.time()), date_cell)
            elif isinstance(value, int):
                sheet.write_number(r, c, value)
            elif value not in (None, ""):
                sheet.write_string(r, c, str(value))
    book.add_worksheet("填表说明").write(0, 0, "本表由数据提供单位导出")
    book.close()


def write_parquet(path: Path, header: list[str], rows: list[list]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = {h: pa.array([r[i] for r in rows], pa.string()) for i, h in enumerate(header)}
    pq.write_table(pa.table(columns), path)


def write_json(path: Path, payload: dict) -> None:
    path.write_text(json.dumps(payload, ensure_ascii=False, indent=1, default=str) + "\n", encoding="utf-8")
