"""Parquet and XLSX files, rendered as text cells like a CSV.

* Parquet: typed columns are cast to text (dates as ISO, numbers as written by
  Arrow), so one normaliser serves every format. Row number = 1-based index.
* XLSX: the first sheet via fastexcel (calamine, Rust). Real date cells arrive
  as ``2023-01-05 00:00:00``, numbers as ``1234.5``, Excel serial numbers in a
  text/number cell stay numbers; the date normaliser reads them all. The first
  non-empty row is the header; row number = sheet row.

Example::

    raw = read_parquet(Path("data/pension_payments.parquet"))
    raw = read_xlsx(Path("data/drug_users.xlsx"))
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from connectors.base import ConnectorError, RawTable, positional_names


def _as_text(column: pa.ChunkedArray) -> pa.ChunkedArray:
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        return column.cast(pa.string())
    if pa.types.is_timestamp(column.type):
        return pc.strftime(column, format="%Y-%m-%d %H:%M:%S")
    if pa.types.is_dictionary(column.type):
        return column.cast(column.type.value_type).cast(pa.string())
    return column.cast(pa.string())


def read_parquet(path: Path) -> RawTable:
    try:
        table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise ConnectorError(f"{path}: not a readable Parquet file ({exc}); the file may be truncated") from exc
    headers = list(table.column_names)
    names = positional_names(len(headers))
    columns = [_as_text(table.column(i)) for i in range(table.num_columns)]
    out = pa.table(dict(zip(names, columns, strict=True))) if columns else pa.table({})
    out = out.append_column("_row", pa.array(range(1, table.num_rows + 1), pa.int64()))
    return RawTable(str(path), "parquet", headers, out)


def read_xlsx(path: Path) -> RawTable:
    import fastexcel

    try:
        reader = fastexcel.read_excel(str(path))
        sheet = reader.load_sheet(0, header_row=None, dtypes="string")
        batch = sheet.to_arrow()
    except Exception as exc:  # fastexcel raises its own error classes for broken workbooks
        raise ConnectorError(f"{path}: not a readable XLSX workbook ({exc}); save it again from Excel") from exc
    table = pa.Table.from_batches([batch]) if batch.num_rows else pa.table(
        {n: pa.array([], pa.string()) for n in batch.schema.names})
    if table.num_columns == 0 or table.num_rows == 0:
        return RawTable(str(path), "xlsx", [], pa.table({"_row": pa.array([], pa.int64())}),
                        warnings=["the first sheet is empty"])
    rows = pa.array(range(1, table.num_rows + 1), pa.int64())
    non_empty = _non_empty_rows(table)
    if not len(non_empty):
        return RawTable(str(path), "xlsx", [], pa.table({"_row": pa.array([], pa.int64())}),
                        warnings=["the first sheet is empty"])
    header_at = int(non_empty[0])
    headers = ["" if v is None else str(v) for v in table.slice(header_at, 1).to_pylist()[0].values()]
    body = table.slice(header_at + 1)
    names = positional_names(len(headers))
    body = pa.table([pc.fill_null(c.cast(pa.string()), "") for c in body.columns], names=names)
    body = body.append_column("_row", rows.slice(header_at + 1))
    warnings = []
    if len(reader.sheet_names) > 1:
        warnings.append(f"only the first sheet '{reader.sheet_names[0]}' is read; "
                        f"other sheets ignored: {reader.sheet_names[1:]}")
    return RawTable(str(path), "xlsx", headers, body, warnings=warnings)


def _non_empty_rows(table: pa.Table):
    mask = None
    for column in table.columns:
        has = pc.and_(pc.is_valid(column), pc.not_equal(pc.utf8_trim_whitespace(column.cast(pa.string())), ""))
        has = pc.fill_null(has, False)
        mask = has if mask is None else pc.or_(mask, has)
    return pc.indices_nonzero(mask).to_numpy()
