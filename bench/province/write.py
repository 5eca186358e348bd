"""Typed background tables → the text cells agencies send, written as Parquet (and CSV) files.

``render`` turns a typed table into text columns by the catalogue's value types: dates as ISO, months
as ``2023-01``, amounts (int64 fen) as ``1234.50``, integers as digits, empty cells as nulls — clean
forms at scale (the planted rows carry the messy ones). ``write_dataset`` adds the planted rows,
renames the columns to one of the header forms the catalogue accepts (canonical, Chinese, or the
first alias) and writes ``<dataset>.parquet`` — or, for the monthly payment ledgers (streamed in slices),
one file per month under ``<dataset>/``, the header form changing from month to month.

Example::

    write_dataset(root, catalogue.dataset("pension_payments"), background, planted_rows, monthly=True)
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from bench.province.arrays import join
from bench.province.planted import MONTH_COLUMN
from engine.spec.catalog import DatasetSpec

HEADER_FORMS = ("zh", "en", "alias")


def _text(column: pa.ChunkedArray, kind: str) -> pa.ChunkedArray:
    if kind == "date":
        return column.cast(pa.string())
    if kind == "month":
        return pc.utf8_slice_codeunits(column.cast(pa.string()), 0, 7)
    if kind == "amount":
        fen = column.cast(pa.int64())
        yuan = pc.divide(fen, 100).cast(pa.string())
        cents = pc.utf8_lpad(pc.subtract(fen, pc.multiply(pc.divide(fen, 100), 100)).cast(pa.string()), 2, "0")
        return join(yuan, ".", cents)
    return column.cast(pa.string())


def render(table: pa.Table, dataset: DatasetSpec) -> pa.Table:
    """Text cells in catalogue column order (every column of ``dataset`` must be present)."""
    return pa.table({c.name: _text(table[c.name], c.type) for c in dataset.columns})


def headers(dataset: DatasetSpec, form: str) -> list[str]:
    """One accepted header per column: the canonical name, the Chinese header, or its first alias."""
    if form == "en":
        return [c.name for c in dataset.columns]
    if form == "alias":
        return [c.aliases[0] if c.aliases else c.zh for c in dataset.columns]
    return [c.zh for c in dataset.columns]


def _with_headers(table: pa.Table, dataset: DatasetSpec, form: str) -> pa.Table:
    return table.select(list(dataset.column_names)).rename_columns(headers(dataset, form))


def write_dataset(root: Path, dataset: DatasetSpec, background: pa.Table | Iterable[pa.Table],
                  planted: pa.Table | None, monthly: bool, form: str) -> int:
    """Write one dataset under ``root``; returns the number of rows written. A monthly ledger comes as
    slices (each sorted by month) and goes to one file per month, written slice by slice."""
    if not monthly:
        parts = [render(background, dataset)] + ([planted.drop_columns([MONTH_COLUMN])] if planted else [])
        table = pa.concat_tables(parts)
        pq.write_table(_with_headers(table, dataset, form), root / f"{dataset.name}.parquet")
        return table.num_rows
    folder = root / dataset.name
    folder.mkdir(parents=True, exist_ok=True)
    writers: dict[np.datetime64, pq.ParquetWriter] = {}

    def append(month: np.datetime64, text: pa.Table) -> None:
        if month not in writers:  # the header form changes from month to month
            month_form = HEADER_FORMS[(HEADER_FORMS.index(form) + int(month.astype(int))) % len(HEADER_FORMS)]
            names = headers(dataset, month_form)
            writers[month] = pq.ParquetWriter(folder / f"{month}.parquet", pa.schema(
                [(name, pa.string()) for name in names]))
        writers[month].write_table(text.select(list(dataset.column_names)).rename_columns(writers[month].schema.names))

    written = 0
    for part in ([background] if isinstance(background, pa.Table) else background):
        months = part["pay_month"].to_numpy().astype("datetime64[M]")
        for month in np.unique(months):
            lo, hi = np.searchsorted(months, month), np.searchsorted(months, month, side="right")
            append(month, render(part.slice(lo, hi - lo), dataset))
        written += part.num_rows
    if planted is not None:
        planted_months = planted[MONTH_COLUMN].to_numpy(zero_copy_only=False).astype("datetime64[M]")
        for month in np.unique(planted_months):
            append(month, planted.filter(pa.array(planted_months == month)).drop_columns([MONTH_COLUMN]))
        written += planted.num_rows
    for writer in writers.values():
        writer.close()
    return written


def write_csv_copies(parquet_folder: Path, utf8_folder: Path, gb18030_folder: Path) -> int:
    """The same rows as CSV: UTF-8 and GB18030 (one file per Parquet file); returns the rows."""
    for folder in (utf8_folder, gb18030_folder):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
    rows = 0
    for source in sorted(parquet_folder.glob("*.parquet")):
        table = pq.read_table(source)
        rows += table.num_rows
        utf8 = utf8_folder / f"{source.stem}.csv"
        pacsv.write_csv(table, utf8, write_options=pacsv.WriteOptions(quoting_style="needed"))
        with open(utf8, encoding="utf-8", newline="") as src, \
                open(gb18030_folder / utf8.name, "w", encoding="gb18030", newline="") as dst:
            shutil.copyfileobj(src, dst, 16 << 20)
    return rows
