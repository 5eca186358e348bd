"""What every shell knows before the engine loads: the default folders and the engines.

Kept free of heavy imports so that ``lsm --help`` and option parsing answer at once; the CLI loads
:mod:`engine.project` (and with it DuckDB, Arrow, Polars, sqlglot) only in the command that needs it.
"""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MODELS = REPO_ROOT / "models"
DEFAULT_DATA = REPO_ROOT / "sample_data" / "generated"
DEFAULT_OUT = Path("runs")
ENGINES = ("duckdb", "spark")


class EngineUnavailable(Exception):
    """The requested execution engine cannot run here."""


class BacktestFailed(Exception):
    """A backtest could not run the model (a dataset failed to ingest, the model failed on the data)."""
