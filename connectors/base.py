"""What every connector hands over: a table of raw text cells with lineage.

Connectors are read-only and know nothing about datasets or value types. They
return every cell as text exactly as the file holds it (typed Parquet and XLSX
cells are rendered as text), the header as read, and for every row the number
a person would use to find it in the original file.

``row_number`` conventions (documented in docs/data-contract.md):

* CSV: the physical line number where the record starts (the header is line 1);
* XLSX: the sheet row (the header row is row 1);
* Parquet: the 1-based row index.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa


class ConnectorError(Exception):
    """A whole file cannot be read; the message names the file and the fix."""


@dataclass(frozen=True)
class BrokenRow:
    """A record that could not be split into the header's fields."""

    row_number: int
    text: str
    reason: str


@dataclass
class RawTable:
    """Raw text cells of one file, columns in file order, plus lineage."""

    path: str
    file_format: str  # csv | parquet | xlsx
    headers: list[str]
    table: pa.Table  # string columns named c0..cN, in header order; plus _row (int64)
    broken_rows: list[BrokenRow] = field(default_factory=list)
    encoding: str | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def num_rows(self) -> int:
        return self.table.num_rows + len(self.broken_rows)


def positional_names(n: int) -> list[str]:
    return [f"c{i}" for i in range(n)]
