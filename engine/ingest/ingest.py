"""Ingest: agency files → normalised, de-duplicated staged tables, with nothing lost.

For each dataset of the catalogue: find its files → read each (connectors) →
map headers to columns → normalise in slices (Polars) → quarantine unreadable
rows with their reason and raw cells → drop exact duplicates across all files
(DuckDB) → one staged Parquet table. Per dataset, always:
``rows_read = rows_accepted + rows_quarantined + rows_duplicate``.

A file that cannot be read at all (empty, wrong content for its extension, not
UTF-8/GB18030, truncated Parquet, a required column missing) is reported with
a message naming the file and the fix, never crashes the other files or
datasets, and fails the dataset's blocking ``files_readable`` check. A file
whose header lacks a column has every row quarantined with that reason, so its
rows are still counted.

Staged per-file results are cached under ``<staging>/files/`` by the file's
SHA-256 and the dataset definition, so an unchanged file is never parsed twice.

Example::

    result = ingest(catalogue, Path("sample_data/generated"), Staging(Path("runs/staging")))
    result.dataset("dibao_payments").rows_accepted
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from connectors.base import ConnectorError, RawTable
from connectors.files import discover, open_file, sha256
from connectors.postgres import read_postgres
from engine import __version__
from engine.atomic import atomic_parquet, atomic_target
from engine.code_version import code_hash
from engine.database import connect
from engine.ingest.normalize.frame import normalize_frame
from engine.ingest.normalize.orgs import OrgKeyRules
from engine.reporting import Reporter, SilentReporter
from engine.spec.catalog import SYSTEM_COLUMNS, Catalogue, DatasetSpec, header_form
from engine.spec.connections import ConnectionSpec, PostgresSpec, load_connections
from engine.spec.errors import Location, Problem, SpecError

INGEST_FORMAT = 3  # bump when staged files change shape or meaning
SLICE_ROWS = 1_000_000
QUARANTINE_SCHEMA = pa.schema([
    ("dataset", pa.string()), ("source_file", pa.string()), ("row_number", pa.int64()),
    ("reason", pa.string()), ("raw", pa.string()),
])


@dataclass
class FileResult:
    path: str
    sha256: str
    file_format: str
    encoding: str | None = None
    rows_read: int = 0
    rows_quarantined: int = 0
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    extra_columns: list[str] = field(default_factory=list)
    reused: bool = False


@dataclass
class DatasetResult:
    name: str
    files: list[FileResult] = field(default_factory=list)
    rows_read: int = 0
    rows_accepted: int = 0
    rows_quarantined: int = 0
    rows_duplicate: int = 0
    staged: str | None = None  # staged Parquet of accepted rows
    quarantine: str | None = None  # Parquet of this dataset's quarantined rows
    error: str | None = None  # the dataset could not be ingested at all
    missing: str | None = None  # no file for it under the data root (not an error by itself)

    @property
    def balanced(self) -> bool:
        return self.rows_read == self.rows_accepted + self.rows_quarantined + self.rows_duplicate

    @property
    def file_errors(self) -> list[str]:
        return [f.error for f in self.files if f.error]

    def to_manifest(self) -> dict:
        return {
            "name": self.name,
            "files": [{"path": f.path, "sha256": f.sha256, "encoding": f.encoding, "format": f.file_format,
                       "rows_read": f.rows_read, "rows_quarantined": f.rows_quarantined, "error": f.error,
                       "warnings": f.warnings, "extra_columns": f.extra_columns} for f in self.files],
            "rows_read": self.rows_read, "rows_accepted": self.rows_accepted,
            "rows_quarantined": self.rows_quarantined, "rows_duplicate": self.rows_duplicate,
            "error": self.error, "missing": self.missing,
        }


@dataclass
class IngestResult:
    data_root: str
    datasets: list[DatasetResult]

    def dataset(self, name: str) -> DatasetResult:
        for d in self.datasets:
            if d.name == name:
                return d
        raise KeyError(name)

    def quarantine_table(self) -> pa.Table:
        parts = [pq.read_table(d.quarantine) for d in self.datasets if d.quarantine]
        return pa.concat_tables(parts) if parts else QUARANTINE_SCHEMA.empty_table()


class Staging:
    """Where staged data lives: ``files/`` (per-file cache) and ``datasets/``; and the limits of the
    DuckDB connection that de-duplicates (``--memory-limit``, ``--threads``, the spill folder)."""

    def __init__(self, root: Path, memory_limit: str | None = None, threads: int | None = None,
                 spill_dir: Path | None = None):
        self.root = Path(root)
        self.memory_limit, self.threads = memory_limit, threads
        self.spill_dir = Path(spill_dir) if spill_dir else self.root / "tmp"
        (self.root / "files").mkdir(parents=True, exist_ok=True)
        (self.root / "datasets").mkdir(parents=True, exist_ok=True)

    def file_dir(self, file_sha: str, fingerprint: str) -> Path:
        return self.root / "files" / f"{file_sha[:24]}-{fingerprint[:16]}"

    def dataset_path(self, name: str, suffix: str) -> Path:
        return self.root / "datasets" / f"{name}{suffix}"


SYSTEM_TYPES = dict(zip(SYSTEM_COLUMNS, (pl.Int64, pl.String, pl.Int64, pl.String), strict=True))


def empty_staged_frame(dataset: DatasetSpec, rules: OrgKeyRules) -> pl.DataFrame:
    """A zero-row frame with exactly the staged columns and types of ``dataset``."""
    raw = pl.DataFrame({c: [] for c in dataset.column_names}, schema={c: pl.String for c in dataset.column_names})
    raw = raw.with_columns(pl.lit(None, pl.Int64).alias("_row"), pl.lit(None, pl.String).alias("_extra"))
    out = normalize_frame(raw, dataset, rules).drop("_h1", "_h2", "_reason", "_row", "_extra")
    return out.with_columns([pl.lit(None, t).alias(n) for n, t in SYSTEM_TYPES.items()])


def dataset_fingerprint(dataset: DatasetSpec, rules: OrgKeyRules) -> str:
    """Changes whenever the staged form of a file of this dataset could change."""
    payload = json.dumps({
        "dataset": dataset.model_dump(mode="json", exclude={"quality", "description", "title", "agency", "grain"}),
        "rules": asdict(rules), "format": INGEST_FORMAT, "polars": pl.__version__, "engine": __version__,
        "code": code_hash(),
    }, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()


# --------------------------------------------------------------------------- headers


@dataclass
class HeaderMapping:
    columns: dict[str, int]  # canonical column -> position in the file
    extras: dict[int, str]  # position -> header as read
    missing: list[str]
    conflicts: list[str]


def map_headers(headers: list[str], dataset: DatasetSpec) -> HeaderMapping:
    index = dataset.header_index()
    columns: dict[str, int] = {}
    extras: dict[int, str] = {}
    conflicts = []
    for position, header in enumerate(headers):
        name = index.get(header_form(header))
        if name is None:
            extras[position] = header
        elif name in columns:
            conflicts.append(f"'{headers[columns[name]]}' and '{header}' both map to column {name}")
        else:
            columns[name] = position
    missing = [c.name for c in dataset.columns if c.name not in columns]
    return HeaderMapping(columns, extras, missing, conflicts)


def _unique_labels(headers: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    labels = []
    for h in headers:
        label = h if h.strip() else "(空表头)"
        n = seen.get(label, 0)
        seen[label] = n + 1
        labels.append(label if n == 0 else f"{label}#{n + 1}")
    return labels


# --------------------------------------------------------------------------- one file


def _blank_mask(names: list[str]) -> pl.Expr:
    if not names:
        return pl.lit(True)
    # Blank after stripping Unicode whitespace. No NFKC here: no character's NFKC form is whitespace unless
    # it is whitespace itself (checked over every code point in tests/test_ingest.py), and NFKC over every
    # cell was 90 % of this mask's time (1.5 s of 2.3 M rows; 0.15 s without).
    return pl.all_horizontal([pl.col(n).str.strip_chars().fill_null("") == "" for n in names])


def _stage_file(raw: RawTable, dataset: DatasetSpec, rules: OrgKeyRules, relpath: str, out_dir: Path,
                reporter: Reporter) -> FileResult:
    """Normalise one file into ``accepted.parquet`` and ``quarantine.parquet`` under out_dir."""
    result = FileResult(relpath, "", raw.file_format, raw.encoding, warnings=list(raw.warnings))
    labels = _unique_labels(raw.headers)
    positional = [f"c{i}" for i in range(len(raw.headers))]
    mapping = map_headers(raw.headers, dataset)
    result.extra_columns = [raw.headers[p] for p in sorted(mapping.extras)]
    file_problem = None
    if mapping.missing or mapping.conflicts:
        accepted = []
        for name in mapping.missing:
            column = dataset.column(name)
            accepted.append(f"缺少列 {column.label}（可用表头：{' / '.join(column.headers)}）"
                            f" / missing column {name}, accepted headers: {', '.join(column.headers)}")
        file_problem = "; ".join(accepted + mapping.conflicts)
        result.error = f"{relpath}: {file_problem}"
    if result.extra_columns and not file_problem:
        result.warnings.append(f"extra columns kept but unused: {result.extra_columns}")

    accepted_writer: pq.ParquetWriter | None = None
    quarantine_parts: list[pa.Table] = []
    accepted_path = out_dir / "accepted.parquet"
    if raw.broken_rows:
        quarantine_parts.append(pa.table({
            "dataset": [dataset.name] * len(raw.broken_rows),
            "source_file": [relpath] * len(raw.broken_rows),
            "row_number": pa.array([b.row_number for b in raw.broken_rows], pa.int64()),
            "reason": [b.reason for b in raw.broken_rows],
            "raw": [json.dumps({"_line": b.text}, ensure_ascii=False) for b in raw.broken_rows],
        }, schema=QUARANTINE_SCHEMA))
    rows_read = len(raw.broken_rows)
    total = raw.table.num_rows
    with reporter.progress(f"{dataset.name} · {relpath}", total=max(total, 1)) as advance:
        for start in range(0, total, SLICE_ROWS):
            chunk = pl.from_arrow(raw.table.slice(start, SLICE_ROWS))
            assert isinstance(chunk, pl.DataFrame)
            chunk = chunk.filter(~_blank_mask(positional))
            rows_read += chunk.height
            raw_json = pl.struct([pl.col(c).alias(label) for c, label in zip(positional, labels, strict=True)]
                                 ).struct.json_encode()
            if file_problem:
                q = chunk.select(pl.lit(file_problem).alias("reason"), pl.col("_row"), raw_json.alias("raw"))
            else:
                extra = (pl.struct([pl.col(f"c{p}").alias(labels[p]) for p in sorted(mapping.extras)]
                                   ).struct.json_encode() if mapping.extras else pl.lit(None, pl.String))
                named = chunk.select(*[pl.col(f"c{p}").alias(n) for n, p in mapping.columns.items()],
                                     pl.col("_row"), extra.alias("_extra"))
                normalised = normalize_frame(named, dataset, rules)
                unreadable = normalised["_reason"].is_not_null()
                good = normalised.filter(~unreadable).drop("_reason")
                # Raw JSON only for the (few) unreadable rows; row order is preserved by normalize_frame.
                q = chunk.filter(unreadable).select(normalised.filter(unreadable)["_reason"].alias("reason"),
                                                    pl.col("_row"), raw_json.alias("raw"))
                table = good.to_arrow()
                if accepted_writer is None:  # no dictionary pages: 2.5x faster to write, the cache is read once
                    accepted_writer = pq.ParquetWriter(accepted_path, table.schema, compression="zstd",
                                                       use_dictionary=False)
                accepted_writer.write_table(table.cast(accepted_writer.schema))
            if q.height:
                quarantine_parts.append(pa.table({
                    "dataset": pa.array([dataset.name] * q.height, pa.string()),
                    "source_file": pa.array([relpath] * q.height, pa.string()),
                    "row_number": q["_row"].to_arrow().cast(pa.int64()),
                    "reason": q["reason"].to_arrow().cast(pa.string()),
                    "raw": q["raw"].to_arrow().cast(pa.string()),
                }, schema=QUARANTINE_SCHEMA))
            advance(min(SLICE_ROWS, total - start))
    if accepted_writer is None and not file_problem:  # a header and no rows: an empty dataset, not an error
        empty = pl.DataFrame(schema={**{c: pl.String for c in mapping.columns}, "_row": pl.Int64, "_extra": pl.String})
        pq.write_table(normalize_frame(empty, dataset, rules).drop("_reason").to_arrow(), accepted_path)
    if accepted_writer is not None:
        accepted_writer.close()
    quarantine = pa.concat_tables(quarantine_parts) if quarantine_parts else QUARANTINE_SCHEMA.empty_table()
    pq.write_table(quarantine, out_dir / "quarantine.parquet")
    result.rows_read = rows_read
    result.rows_quarantined = quarantine.num_rows
    if rows_read == 0 and not result.error:
        result.warnings.append("the file has a header but no rows")
    return result


def stage_file(path: Path, root: Path, dataset: DatasetSpec, rules: OrgKeyRules, staging: Staging,
               fingerprint: str, reporter: Reporter) -> tuple[FileResult, Path | None]:
    """Stage one file, reusing the cached result when its content and the dataset are unchanged."""
    relpath = path.relative_to(root).as_posix()
    return _stage(relpath, sha256(path), path.suffix.lstrip(".").lower(), lambda: open_file(path), str(path),
                  dataset, rules, staging, fingerprint, reporter)


def stage_database(source: PostgresSpec, dataset: DatasetSpec, rules: OrgKeyRules, staging: Staging,
                   fingerprint: str, reporter: Reporter, environ=os.environ) -> tuple[FileResult, Path | None]:
    """Stage a dataset served by PostgreSQL: rows read (and hashed) each time, staged again only when changed."""
    dsn = environ.get(source.dsn_env)
    if not dsn:
        return FileResult(source.label, "", "postgresql", error=f"{source.label}: the environment variable "
                          f"{source.dsn_env} holds no connection string; set it for the nightly job"), None
    try:
        raw, digest = read_postgres(dsn, source.table, source.query, source.label)
    except ConnectorError as exc:
        return FileResult(source.label, "", "postgresql", error=str(exc)), None
    return _stage(source.label, digest, "postgresql", lambda: raw, source.label, dataset, rules, staging,
                  fingerprint, reporter)


def _stage(relpath: str, digest: str, file_format: str, read, shown_as: str, dataset: DatasetSpec,
           rules: OrgKeyRules, staging: Staging, fingerprint: str, reporter: Reporter
           ) -> tuple[FileResult, Path | None]:
    """The staged result of one source: from the cache when its content and the dataset are unchanged,
    else read (``read()``), normalised and written under the cache key, atomically."""
    out_dir = staging.file_dir(digest, fingerprint)
    meta = out_dir / "meta.json"
    if meta.exists():
        result = FileResult(**json.loads(meta.read_text(encoding="utf-8")))
        if result.error and result.path != relpath:  # same content, another name
            result.error = _rename_error(result.error, relpath, result.path)
        result.path, result.reused = relpath, True
        return result, out_dir
    tmp = out_dir.with_name(out_dir.name + f".tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        raw = read()
    except ConnectorError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        return FileResult(relpath, digest, file_format, error=_rename_error(str(exc), relpath, shown_as)), None
    result = _stage_file(raw, dataset, rules, relpath, tmp, reporter)
    del raw
    pa.default_memory_pool().release_unused()  # hand the raw cells' memory back before the next file
    result.sha256 = digest
    (tmp / "meta.json").write_text(json.dumps(asdict(result), ensure_ascii=False), encoding="utf-8")
    shutil.rmtree(out_dir, ignore_errors=True)
    os.replace(tmp, out_dir)
    return result, out_dir


def _rename_error(message: str, relpath: str, old: str) -> str:
    """Errors start with the file's path; show the data-root-relative one."""
    return relpath + message[len(old):] if message.startswith(old) else message


# --------------------------------------------------------------------------- one dataset


def ingest_dataset(dataset: DatasetSpec, root: Path, rules: OrgKeyRules, staging: Staging,
                   reporter: Reporter, connection: ConnectionSpec | None = None) -> DatasetResult:
    result = DatasetResult(dataset.name)
    if connection is not None:  # served by a database (connections.yaml): files of the same name are not read
        file_result, out_dir = stage_database(connection.postgres, dataset, rules, staging,
                                              dataset_fingerprint(dataset, rules), reporter)
        result.files.append(file_result)
        reporter.event("source_staged", dataset=dataset.name, source=file_result.path, rows=file_result.rows_read,
                       reused=file_result.reused, error=file_result.error)
        result.rows_read = file_result.rows_read
        _combine(result, [(0, file_result.path, out_dir)] if out_dir is not None else [], staging)
        return result
    paths = discover(root, dataset.file_patterns)
    if not paths:
        result.missing = (f"数据目录 {root} 中没有 {dataset.name} 的文件 / no file for dataset {dataset.name} under "
                        f"{root} (looked for {', '.join(dataset.file_patterns[:3])} …)")
        return result
    fingerprint = dataset_fingerprint(dataset, rules)
    parts: list[tuple[int, str, Path]] = []
    for order, path in enumerate(paths):
        file_result, out_dir = stage_file(path, root, dataset, rules, staging, fingerprint, reporter)
        result.files.append(file_result)
        reporter.event("file_staged", dataset=dataset.name, file=file_result.path, rows=file_result.rows_read,
                       quarantined=file_result.rows_quarantined, reused=file_result.reused, error=file_result.error)
        if out_dir is not None:
            parts.append((order, file_result.path, out_dir))
    result.rows_read = sum(f.rows_read for f in result.files)
    _combine(result, parts, staging)
    return result


def _combine(result: DatasetResult, parts: list[tuple[int, str, Path]], staging: Staging) -> None:
    """Union the files' accepted rows, drop exact duplicates (first kept), gather quarantine."""
    staged = staging.dataset_path(result.name, ".parquet")
    quarantine = staging.dataset_path(result.name, ".quarantine.parquet")
    accepted_parts = [(o, rel, d / "accepted.parquet") for o, rel, d in parts if (d / "accepted.parquet").exists()]
    q_parts = [pq.read_table(d / "quarantine.parquet") for _, rel, d in parts]
    q_parts = [q.set_column(1, "source_file", pa.array([rel] * q.num_rows, pa.string()))
               for q, (_, rel, _) in zip(q_parts, parts, strict=True)]
    q_table = pa.concat_tables(q_parts) if q_parts else QUARANTINE_SCHEMA.empty_table()
    q_table = q_table.sort_by([("source_file", "ascending"), ("row_number", "ascending")])
    atomic_parquet(q_table, quarantine)
    result.quarantine = str(quarantine)
    result.rows_quarantined = q_table.num_rows
    if not accepted_parts:
        result.rows_accepted = 0
        result.rows_duplicate = 0
        return
    before = sum(pq.ParquetFile(p).metadata.num_rows for _, _, p in accepted_parts)
    con = connect(staging.spill_dir, staging.memory_limit, staging.threads, default_memory="2GB")
    try:
        with atomic_target(staged) as tmp:
            after = _deduplicate(con, accepted_parts, tmp)
    finally:
        con.close()
    result.staged = str(staged)
    result.rows_accepted = after
    result.rows_duplicate = before - after


def _deduplicate(con, accepted_parts: list[tuple[int, str, Path]], target: Path) -> int:
    """Write the union of the files' accepted rows without exact duplicates; returns the rows kept.

    Exact duplicates share both raw-cell hashes; the first (file order, row) is kept. Only the narrow
    (hash, position) columns are aggregated, so memory stays small, and the rows are filtered by
    anti-joining the (few) repeats' positions rather than semi-joining every first position (a hash
    table of the repeats instead of one of every row: 7.6 s → 5.4 s per 4.6 M rows)."""
    return con.execute(
        """
        COPY (
            WITH rows AS (
                SELECT *, $files[file_index::BIGINT + 1] AS _file,
                       $orders[file_index::BIGINT + 1] * 1000000000000 + _row AS _pos
                FROM read_parquet($parts, union_by_name = true)
            ),
            repeats AS (SELECT unnest(list(_pos ORDER BY _pos)[2:]) AS _pos FROM rows GROUP BY _h1, _h2
                        HAVING count(*) > 1)
            SELECT * EXCLUDE (_h1, _h2, _pos), _pos AS _rid FROM rows ANTI JOIN repeats USING (_pos)
        ) TO $out (FORMAT parquet, COMPRESSION zstd)
        """,
        {"parts": [str(p) for _, _, p in accepted_parts], "files": [rel for _, rel, _ in accepted_parts],
         "orders": [o for o, _, _ in accepted_parts], "out": str(target)},
    ).fetchall()[0][0]


# --------------------------------------------------------------------------- all datasets


def ingest(catalogue: Catalogue, root: Path, staging: Staging, names: list[str] | None = None,
           reporter: Reporter | None = None) -> IngestResult:
    """Ingest the named datasets (all by default); one dataset's failure never stops the others."""
    reporter = reporter or SilentReporter()
    rules = OrgKeyRules.of(catalogue.org_name)
    connections = load_connections(root)
    unknown = sorted(set(connections) - set(catalogue.names))
    if unknown:
        raise SpecError([Problem(Location(str(Path(root) / "connections.yaml")),
                                 f"connections.yaml names dataset(s) {unknown} the catalogue does not have")])
    results = []
    todo = [d for d in catalogue.datasets if names is None or d.name in names]
    with reporter.phase("ingest", "读取数据 / datasets", len(todo)) as phase:
        for dataset in todo:
            try:
                result = ingest_dataset(dataset, Path(root), rules, staging, reporter, connections.get(dataset.name))
            except Exception as exc:  # a bug or an unforeseen file problem must not stop other datasets
                result = DatasetResult(dataset.name,
                                       error=f"ingest of {dataset.name} failed: {type(exc).__name__}: {exc}")
            reporter.event("dataset_ingested", dataset=dataset.name, rows_read=result.rows_read,
                           rows_accepted=result.rows_accepted, rows_quarantined=result.rows_quarantined,
                           rows_duplicate=result.rows_duplicate, error=result.error)
            results.append(result)
            phase.done(dataset.name, result.rows_read)
    return IngestResult(str(root), results)

