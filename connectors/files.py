"""Find a dataset's files under a data root and open each with the right reader.

A dataset arrives as ``<name>.csv|parquet|xlsx`` or as a folder ``<name>/`` of
such files (e.g. one per month), read as one table; the catalogue may give
other globs. A file's extension must agree with its content: an XLSX workbook
named ``.csv`` is refused with a message that says what it really is.

Example::

    for path in discover(Path("sample_data/generated"), ("dibao_payments.csv", "dibao_payments/*.csv")):
        raw = open_file(path)
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from connectors.base import ConnectorError, RawTable
from connectors.csvfile import read_csv
from connectors.sniff import sniff_format
from connectors.tabular import read_parquet, read_xlsx

READERS = {"csv": read_csv, "parquet": read_parquet, "xlsx": read_xlsx}

SUFFIX_FORMATS = {".csv": "csv", ".parquet": "parquet", ".xlsx": "xlsx"}
_WHAT = {"xlsx": "an XLSX workbook (zip)", "parquet": "a Parquet file", "xls": "a legacy Excel .xls file",
         "binary": "a binary file", "csv": "text (CSV)"}


def discover(root: Path, patterns: tuple[str, ...]) -> list[Path]:
    """Every file matching the patterns, sorted by path, hidden and temp files skipped."""
    found: set[Path] = set()
    for pattern in patterns:
        for path in root.glob(pattern):
            if path.is_file() and not path.name.startswith((".", "~$")):
                found.add(path)
    return sorted(found)


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(8 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def open_file(path: Path) -> RawTable:
    """Read one file after checking that its content matches its extension."""
    declared = SUFFIX_FORMATS.get(path.suffix.lower())
    if declared is None:
        raise ConnectorError(f"{path}: unsupported extension '{path.suffix}'; use .csv, .parquet or .xlsx")
    actual = sniff_format(path)
    if actual == "empty":
        raise ConnectorError(f"{path}: the file is empty (0 bytes); ask the agency to export it again")
    if actual != declared:
        hint = {"xls": "save it as .xlsx", "binary": "it is not a data export"}.get(
            actual, f"rename it to {path.stem}.{actual}" if actual in ("csv", "xlsx", "parquet") else "")
        raise ConnectorError(f"{path}: named .{declared} but the content is {_WHAT[actual]}; {hint}".rstrip("; "))
    return READERS[declared](path)
