"""The one DuckDB connection factory: limits, spill folder, and the sealed mode models run in.

Every DuckDB connection the engine opens comes from :func:`connect` — the ingest's
de-duplication as well as the model backend — with the run's memory limit, threads and spill
folder. A connection that runs model SQL is then :func:`seal`-ed once its inputs are loaded: file
system access is switched off (no ``COPY``, ``ATTACH``, ``read_text``, ``INSTALL``/``LOAD``; only
DuckDB's own spill folder stays usable) and the configuration is locked, so not even a statement
that slipped past the compiler and the guard could read or write a file or turn this back on.

Example::

    con = connect(Path("runs/.incoming/x.spill"), memory_limit="8GB", threads=2)
    con.execute("CREATE TABLE ds_x AS SELECT * FROM read_parquet('staged.parquet')")
    seal(con)
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

DEFAULT_MEMORY = "4GB"


def connect(temp_dir: Path, memory_limit: str | None = None, threads: int | None = None,
            default_memory: str = DEFAULT_MEMORY) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection that spills to ``temp_dir`` instead of running out of memory."""
    temp_dir.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    # Off unless it is on: inside Jupyter without ipywidgets DuckDB has it off already and refuses any
    # change of the setting (InvalidInputException), which would fail every ingest and run in a notebook.
    if con.execute("SELECT current_setting('enable_progress_bar')").fetchone()[0]:
        con.execute("SET enable_progress_bar = false")
    con.execute("SET temp_directory = $d", {"d": str(temp_dir)})
    con.execute("SET memory_limit = $m", {"m": memory_limit or os.environ.get("LSM_DUCKDB_MEMORY", default_memory)})
    if threads:
        con.execute("SET threads = $t", {"t": threads})
    return con


def seal(con: duckdb.DuckDBPyConnection, readable: list[str] | tuple[str, ...] = ()) -> None:
    """No file system access from now on (the spill folder and the exact files ``readable`` excepted:
    the staged Parquet files the run's views read), and no way to change settings."""
    if readable:
        con.execute("SET allowed_paths = $paths", {"paths": list(readable)})
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")


def settings(con: duckdb.DuckDBPyConnection) -> dict:
    """The limits DuckDB actually runs with (recorded in the manifest)."""
    memory, threads, temp = con.execute(
        "SELECT current_setting('memory_limit'), current_setting('threads'), "
        "current_setting('temp_directory')").fetchall()[0]
    return {"memory_limit": memory, "threads": int(threads), "temp_directory": temp}
