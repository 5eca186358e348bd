"""The one atomic writer: a file appears whole under its name, or not at all.

Every file the engine writes that another process may read — run outputs, staged Parquet, caches,
manifests — is written under a hidden temporary name in the same folder, flushed, and renamed into
place (``os.replace`` is atomic on one file system). A killed process leaves only a ``.*.tmp<pid>``
file that nothing reads.

Example::

    atomic_write_bytes(run_dir / "manifest.json", payload)
    atomic_parquet(table, run_dir / "clues.parquet")
    with atomic_target(run_dir / "clues.xlsx") as tmp:  # any writer that takes a path
        workbook = xlsxwriter.Workbook(str(tmp))
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq


def _temporary(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp{os.getpid()}")


@contextlib.contextmanager
def atomic_target(path: Path) -> Iterator[Path]:
    """A temporary path to write ``path``'s content to (by any writer: DuckDB, xlsxwriter …); renamed
    into place when the block ends without an error, removed when it raises."""
    path = Path(path)
    tmp = _temporary(path)
    try:
        yield tmp
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, path)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    path = Path(path)
    tmp = _temporary(path)
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def atomic_parquet(table: pa.Table, path: Path) -> None:
    with atomic_target(path) as tmp:
        pq.write_table(table, tmp, compression="zstd")
