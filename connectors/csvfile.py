"""CSV files: detected encoding, every cell as text, exact line numbers.

pyarrow's CSV reader parses the file (transcoding GB18030 on the fly) with
every column typed as string. Records with too many or too few fields are
handed to a callback, kept as :class:`BrokenRow` and skipped; pyarrow reports
their record number. From those numbers and the count of line breaks inside
quoted cells we compute, with numpy, the physical line where every record
starts — no Python loop over rows.

Example::

    raw = read_csv(Path("data/dibao_payments.csv"))
    raw.headers, raw.table.num_rows, raw.encoding
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from connectors.base import BrokenRow, ConnectorError, RawTable, positional_names
from connectors.csvscan import scan

_BLOCK = 32 << 20


def read_csv(path: Path) -> RawTable:
    source, headers, delimiter = scan(path)
    if not headers or all(not h.strip() for h in headers):
        return RawTable(str(path), "csv", [], pa.table({"_row": pa.array([], pa.int64())}), encoding=source.encoding,
                        warnings=[*source.warnings, "the file has no header and no rows"])
    names = positional_names(len(headers))
    broken: list[tuple[int, str, int]] = []

    def on_invalid(row) -> str:
        broken.append((row.number, row.text, row.actual_columns))
        return "skip"

    try:
        table = pacsv.read_csv(
            source.open(),
            read_options=pacsv.ReadOptions(
                encoding=source.parse_encoding,
                use_threads=False,  # record numbers of broken rows are only known serially
                column_names=names,
                skip_rows=source.skip_rows,
                block_size=_BLOCK,
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter, newlines_in_values=True, ignore_empty_lines=False,
                invalid_row_handler=on_invalid,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in names}, strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except UnicodeDecodeError as exc:
        raise ConnectorError(
            f"{path}: the file is neither UTF-8 nor GB18030/GBK text; export it again as UTF-8 or GB18030 CSV"
        ) from exc
    except pa.ArrowInvalid as exc:
        raise ConnectorError(f"{path}: cannot be parsed as CSV ({exc}); check the delimiter and quoting") from exc

    table, broken_rows = _with_line_numbers(table, broken, len(headers), source.skip_rows - 1)
    table = table.set_column(table.num_columns - 1, "_row", pa.array(
        source.original_lines(table.column("_row").to_numpy()), pa.int64()))
    lines = source.original_lines(np.array([b.row_number for b in broken_rows], np.int64))
    broken_rows = [BrokenRow(int(line), b.text, b.reason) for line, b in zip(lines, broken_rows, strict=True)]
    return RawTable(str(path), "csv", headers, table, sorted(source.damaged + broken_rows, key=lambda b: b.row_number),
                    source.encoding, warnings=source.warnings)


def _with_line_numbers(table: pa.Table, broken: list[tuple[int, str, int]], n_columns: int,
                       leading_blank: int) -> tuple[pa.Table, list[BrokenRow]]:
    """Attach ``_row`` (physical start line) to good rows and number broken ones.

    pyarrow numbers records from 1, counting the skipped leading blank lines and
    the header. A record spans 1 + (line breaks inside its quoted cells) lines.
    """
    first = leading_blank + 2  # the line (and record number) of the first data record
    n_good, n_bad = table.num_rows, len(broken)
    total = n_good + n_bad
    is_broken = np.zeros(total, dtype=bool)
    bad_positions = np.array([b[0] - first for b in broken], dtype=np.int64)
    is_broken[bad_positions] = True
    extra = np.zeros(total, dtype=np.int64)
    if n_good:
        good_extra = np.zeros(n_good, dtype=np.int64)
        for column in table.columns:
            good_extra += pc.fill_null(pc.count_substring(column, "\n"), 0).to_numpy(zero_copy_only=False)
        extra[~is_broken] = good_extra
    if n_bad:
        extra[bad_positions] = [b[1].count("\n") for b in broken]
    starts = first + np.arange(total, dtype=np.int64) + np.concatenate(([0], np.cumsum(extra)[:-1]))
    good_lines = starts[~is_broken] if total else np.zeros(0, dtype=np.int64)
    table = table.append_column("_row", pa.array(good_lines, pa.int64()))
    rows = [
        BrokenRow(int(starts[pos]), text,
                  f"该行有 {actual} 个字段，表头有 {n_columns} 个 / the row has {actual} fields, the header has {n_columns}")
        for pos, (_, text, actual) in zip(bad_positions, broken, strict=True)
    ]
    return table, rows
