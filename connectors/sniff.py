"""Look at a file's first bytes: what it really is.

A file whose content contradicts its extension (an XLSX workbook named ``.csv``)
is refused with a message saying so. A CSV file's encoding is detected by
:mod:`connectors.csvscan`.

Example::

    sniff_format(Path("a.csv"))      # 'csv' | 'xlsx' | 'parquet' | 'xls' | 'binary' | 'empty'
    valid_utf8(b"\xe5\xbc\xa0")          # True
"""

from __future__ import annotations

import codecs
from pathlib import Path

import pyarrow as pa

CHUNK = 16 << 20  # bytes validated at once


def sniff_format(path: Path) -> str:
    with open(path, "rb") as fh:
        head = fh.read(8192)
    if not head:
        return "empty"
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "xls"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "csv"  # Excel's "Unicode text": UTF-16 (the CSV reader converts it)
    if b"\x00" in head:
        return "binary"
    return "csv"


def valid_utf8(data: bytes) -> bool:
    try:
        pa.array([data], type=pa.binary()).cast(pa.string())
    except pa.ArrowInvalid:
        return False
    return True
