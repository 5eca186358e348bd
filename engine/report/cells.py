"""Cells made safe for spreadsheets: no text a spreadsheet would run as a formula.

A name or a permit number from an agency file such as ``=HYPERLINK("http://…","点我")`` or
``=CMD|' /C calc'!A0`` would become a live formula on a prosecutor's desktop when a CSV or XLSX
export is opened in Excel. OWASP's rule: a cell that begins with ``=``, ``+``, ``-``, ``@``, a tab
or a carriage return gets a leading ``'``, which spreadsheets show and never evaluate. Only the
exports are changed; ``clues.parquet`` keeps the true value.

Example::

    neutralise("=1+1")              # "'=1+1"
    neutralise_column(pa.array(["=1+1", "张伟"]))   # ["'=1+1", "张伟"]
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_START_RE = r"^[=+\-@\t\r]"


def neutralise(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_START) else text


def neutralise_column(column: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """The same rule over a whole text column (Arrow compute, no Python loop)."""
    risky = pc.fill_null(pc.match_substring_regex(column, _FORMULA_START_RE), False)
    return pc.if_else(risky, pc.binary_join_element_wise("'", column, ""), column)


def neutralise_table(table: pa.Table) -> pa.Table:
    """Every text column of a table neutralised."""
    for i, field in enumerate(table.schema):
        if pa.types.is_string(field.type) or pa.types.is_large_string(field.type):
            table = table.set_column(i, field, neutralise_column(table.column(i)))
    return table
