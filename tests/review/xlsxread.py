"""Reading a produced workbook back without openpyxl (not a dependency): the sheet XML of the zip, with
inline and shared strings, so the tests can assert both the values and the cell types."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
import zipfile

NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}


def _column(ref: str) -> int:
    letters = re.match(r"[A-Z]+", ref).group(0)
    index = 0
    for ch in letters:
        index = index * 26 + ord(ch) - 64
    return index - 1


def _text(node) -> str:
    """A string item's text, its OOXML escapes (``_x000D_`` for a carriage return) decoded as Excel does."""
    raw = "".join(t.text or "" for t in node.iter(f"{{{NS['m']}}}t"))
    return re.sub(r"_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m.group(1), 16)), raw)


class Book:
    def __init__(self, content: bytes):
        self.zip = zipfile.ZipFile(io.BytesIO(content))
        shared = "xl/sharedStrings.xml"
        self.shared = ([_text(si) for si in ET.fromstring(self.zip.read(shared)).findall("m:si", NS)]
                       if shared in self.zip.namelist() else [])
        workbook = ET.fromstring(self.zip.read("xl/workbook.xml"))
        self.names = [s.get("name") for s in workbook.find("m:sheets", NS)]

    def xml(self, index: int) -> str:
        return self.zip.read(f"xl/worksheets/sheet{index + 1}.xml").decode("utf-8")

    def cells(self, index: int) -> list[list[tuple[str, object]]]:
        """Rows of (cell type, value): type ``str`` (inline or shared string), ``n`` (number), ``f`` (a formula)."""
        rows = []
        for row in ET.fromstring(self.xml(index)).iter(f"{{{NS['m']}}}row"):
            out: list[tuple[str, object]] = []
            for c in row.findall("m:c", NS):
                col = _column(c.get("r"))
                out.extend([("", None)] * (col - len(out)))
                kind = c.get("t")
                if c.find("m:f", NS) is not None:
                    out.append(("f", c.find("m:f", NS).text))
                elif kind == "inlineStr":
                    out.append(("str", _text(c.find("m:is", NS))))
                elif kind == "s":
                    out.append(("str", self.shared[int(c.find("m:v", NS).text)]))
                else:
                    out.append(("n", float(c.find("m:v", NS).text)))
            rows.append(out)
        return rows

    def records(self, index: int = 0) -> list[dict]:
        """The sheet as dicts keyed by its first row; each value is (type, value)."""
        rows = self.cells(index)
        header = [v for _t, v in rows[0]]
        return [{h: (row[i] if i < len(row) else ("", None)) for i, h in enumerate(header)} for row in rows[1:]]
