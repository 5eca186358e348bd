"""The one facade every shell stands on: CLI, notebooks, the nightly job, the web app.

A :class:`Project` knows where the models, the data and the outputs are, and
offers each operation as a method, so a notebook can do exactly what the CLI
does (in the manner of SQLMesh's ``Context`` or Splink's ``Linker``).

Example::

    project = Project(data_dir=Path("sample_data/generated"))
    result = project.ingest()
    result.dataset("dibao_payments").rows_accepted
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from connectors.files import discover
from engine.catalog import Catalogue, load_catalogue
from engine.ingest import IngestResult, Staging, ingest
from engine.reporting import Reporter, SilentReporter

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MODELS = REPO_ROOT / "models"
DEFAULT_DATA = REPO_ROOT / "sample_data" / "generated"
DEFAULT_OUT = Path("runs")


@dataclass
class SourceFiles:
    dataset: str
    title: str
    agency: str
    files: list[Path]


class Project:
    def __init__(self, models_dir: Path | None = None, data_dir: Path | None = None, out_dir: Path | None = None,
                 reporter: Reporter | None = None):
        self.models_dir = Path(models_dir or DEFAULT_MODELS)
        self.data_dir = Path(data_dir or DEFAULT_DATA)
        self.out_dir = Path(out_dir or DEFAULT_OUT)
        self.reporter = reporter or SilentReporter()

    @functools.cached_property
    def catalogue(self) -> Catalogue:
        path = self.models_dir / "sources.yaml"
        return load_catalogue(path, display_name=_display(path))

    @property
    def staging(self) -> Staging:
        return Staging(self.out_dir / "staging")

    def sources(self) -> list[SourceFiles]:
        """The catalogue, and for the data root which files each dataset would read."""
        found = []
        for d in self.catalogue.datasets:
            files = discover(self.data_dir, d.file_patterns) if self.data_dir.is_dir() else []
            found.append(SourceFiles(d.name, d.title, d.agency, files))
        return found

    def ingest(self, datasets: list[str] | None = None) -> IngestResult:
        unknown = sorted(set(datasets or []) - set(self.catalogue.names))
        if unknown:
            raise KeyError(f"unknown dataset(s) {unknown}; the catalogue has {list(self.catalogue.names)}")
        return ingest(self.catalogue, self.data_dir, self.staging, datasets, self.reporter)


def _display(path: Path) -> str:
    """Paths in messages relative to the working directory when possible."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
