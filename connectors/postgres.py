"""A PostgreSQL table or query read like a file: every cell as text, streamed as Arrow batches.

ADBC's PostgreSQL driver streams the result in Arrow record batches (PostgreSQL's binary COPY
underneath), so a million rows never pass through a Python loop. Every column is cast to text in the
query — the same raw cells a CSV gives, for the same header mapping, normalisation and quarantine
downstream — and the rows are ordered by every column so that row numbers, de-duplication ("the
first is kept") and evidence are the same every night. The transaction is read-only. The rows read
are hashed (Arrow IPC of every batch) for the manifest.

The connection string comes from the environment only; it never reaches a message (the server's
errors are reported without it).

Example::

    raw, digest = read_postgres("postgresql://lsm@db/agency", table="public.dibao_payments")
    raw.headers, raw.table.num_rows
"""

from __future__ import annotations

import hashlib

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import sqlglot
from sqlglot import exp

from connectors.base import ConnectorError, RawTable, positional_names


def _source(table: str | None, query: str | None) -> exp.Expression:
    """The table (plain names, quoted) or the one SELECT, as ``… AS src``."""
    if table is not None:
        parts = [exp.to_identifier(part, quoted=True) for part in table.split(".")]
        return exp.Table(this=parts[-1], db=parts[0] if len(parts) == 2 else None, alias=exp.TableAlias(
            this=exp.to_identifier("src")))
    return exp.Subquery(this=sqlglot.parse_one(query, read="postgres"), alias=exp.TableAlias(
        this=exp.to_identifier("src")))


def _probe_sql(source: exp.Expression) -> str:
    return exp.select(exp.Star()).from_(source.copy()).limit(0).sql("postgres")


def _cells_sql(source: exp.Expression, headers: list[str], names: list[str]) -> str:
    """Every column as text under a positional name, ordered by all of them (stable row numbers)."""
    cells = [exp.Cast(this=exp.column(h, quoted=True), to=exp.DataType.build("text")).as_(n)
             for h, n in zip(headers, names, strict=True)]
    order = [exp.Ordered(this=exp.Literal.number(i + 1)) for i in range(len(headers))]
    return exp.select(*cells).from_(source.copy()).order_by(*order).sql("postgres")


class _Sha256Sink:
    """A write-only file that hashes what is written, so the IPC stream is never held in memory."""

    def __init__(self) -> None:
        self.sha256 = hashlib.sha256()
        self.closed = False

    def write(self, data) -> int:
        self.sha256.update(data)
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True


def _digest(batches: list[pa.RecordBatch], schema: pa.Schema) -> str:
    """SHA-256 of the rows as an Arrow IPC stream (the same bytes for the same rows and types)."""
    sink = _Sha256Sink()
    with pa.PythonFile(sink, mode="w") as file, pa.ipc.new_stream(file, schema) as writer:
        for batch in batches:
            writer.write_batch(batch)
    return sink.sha256.hexdigest()


def read_postgres(dsn: str, table: str | None = None, query: str | None = None, label: str = "postgresql"
                  ) -> tuple[RawTable, str]:
    """The table's (or query's) rows as text cells, and the SHA-256 of the rows read."""
    # Imported here, not at the top: the driver pulls in pandas (through pyarrow.dataset), a good 0.4 s
    # that every command would pay at start-up although only a database source needs it.
    import adbc_driver_postgresql.dbapi as adbc

    source = _source(table, query)
    try:
        with adbc.connect(dsn, autocommit=True) as conn, conn.cursor() as cur:
            cur.execute("BEGIN READ ONLY")
            cur.execute(_probe_sql(source))
            headers = [column[0] for column in cur.description]
            cur.fetchall()
            if not headers:
                raise ConnectorError(f"{label}: the {'table' if table else 'query'} has no columns")
            names = positional_names(len(headers))
            cur.execute(_cells_sql(source, headers, names))
            reader = cur.fetch_record_batch()
            batches = list(reader)
            schema = reader.schema
            cur.execute("COMMIT")
    except adbc.Error as exc:
        detail = " ".join(str(exc).replace(dsn, "<dsn>").split())[:300]
        raise ConnectorError(f"{label}: the database could not be read ({detail}); check the server, the "
                             f"{'table' if table else 'query'} and the role's rights") from None
    table_ = pa.Table.from_batches(batches, schema=schema) if batches else schema.empty_table()
    digest = _digest(batches, schema)
    columns = [pc.fill_null(table_.column(n).cast(pa.string()), "") for n in names]  # NULL as an empty cell
    body = pa.table(dict(zip(names, columns, strict=True)))
    body = body.append_column("_row", pa.array(np.arange(1, table_.num_rows + 1, dtype=np.int64)))
    return RawTable(label, "postgresql", headers, body), digest
