"""Look at a file's bytes: what it really is, and which text encoding it uses.

Agencies send UTF-8 (with or without BOM) and GB18030/GBK; the encoding is
detected, never configured per file. A file whose content contradicts its
extension (an XLSX workbook named ``.csv``) is refused with a message saying so.

Example::

    sniff_format(Path("a.csv"))      # 'csv' | 'xlsx' | 'parquet' | 'xls' | 'binary' | 'empty'
    detect_encoding(Path("a.csv"))   # 'utf-8' | 'utf-8-sig' | 'gb18030'
"""

from __future__ import annotations

import codecs
from pathlib import Path

import pyarrow as pa

CHUNK = 16 << 20


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
    if b"\x00" in head:
        return "binary"
    return "csv"


def detect_encoding(path: Path) -> str:
    """``utf-8`` (``utf-8-sig`` when a BOM starts the file) if every byte is valid
    UTF-8, else ``gb18030`` (GBK is a subset). Whether the bytes really are
    GB18030 is checked while the file is decoded by the CSV reader."""
    with open(path, "rb") as fh:
        bom = fh.read(3) == codecs.BOM_UTF8
    if is_utf8(path):
        return "utf-8-sig" if bom else "utf-8"
    return "gb18030"


def is_utf8(path: Path) -> bool:
    """Validate UTF-8 with Arrow's vectorised check, in chunks cut after a newline."""
    carry = b""
    with open(path, "rb") as fh:
        while True:
            chunk = fh.read(CHUNK)
            data = carry + chunk
            if not chunk:
                return _valid_utf8(data)
            cut = data.rfind(b"\n") + 1
            if cut == 0:  # no newline yet: keep reading (one very long line)
                carry = data
                continue
            if not _valid_utf8(data[:cut]):
                return False
            carry = data[cut:]


def _valid_utf8(data: bytes) -> bool:
    try:
        pa.array([data], type=pa.binary()).cast(pa.string())
    except pa.ArrowInvalid:
        return False
    return True
