"""A models directory as the user wrote it: its source catalogue and its model files, loaded and checked.

The spec layer only (pydantic, YAML): listing or checking models needs no engine, so ``lsm models``
answers without importing DuckDB, Arrow or the compiler. :class:`engine.project.Project` delegates to
it, so both load exactly the same way.

Example::

    files = ModelFiles(Path("models"))
    [m.spec.id for m in files.load_models()]
"""

from __future__ import annotations

import functools
from pathlib import Path

from engine.spec.catalog import Catalogue, load_catalogues
from engine.spec.errors import SpecError
from engine.spec.load import SOURCES_SUFFIX, LoadedModel, load_models


def display_path(path: Path) -> str:
    """Paths in messages relative to the working directory when possible."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


class ModelFiles:
    def __init__(self, models_dir: Path):
        self.models_dir = Path(models_dir)

    @functools.cached_property
    def catalogue(self) -> Catalogue:
        parts = sorted(self.models_dir.glob(f"*{SOURCES_SUFFIX}"))
        return load_catalogues(self.models_dir / "sources.yaml", parts, display_path)

    def load_models(self, ids: list[str] | None = None) -> list[LoadedModel]:
        """Load the model files; raises SpecError with every problem (of the selected models), KeyError
        for an id no file has."""
        self.catalogue  # noqa: B018 - the catalogue's own problems are reported first
        result = load_models(self.models_dir, display_path(self.models_dir))
        if not ids:
            if result.problems:
                raise SpecError(result.problems)
            return result.models
        selected = [m for m in result.models if m.spec.id in ids]
        missing = sorted(set(ids) - {m.spec.id for m in selected})
        if missing and result.problems:
            raise SpecError(result.problems)  # the asked-for model may be one of the broken files
        if missing:
            raise KeyError(f"unknown model(s) {missing}; available: {sorted(m.spec.id for m in result.models)}")
        return selected
