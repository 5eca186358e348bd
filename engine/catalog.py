"""The source catalogue: what each agency dataset is and how its files look.

``models/sources.yaml`` is loaded into typed objects. Every mistake in the file
is reported together, each as ``models/sources.yaml:LINE:COL: message``.
The catalogue is the engine's own copy of the data contract: nothing here
reads ``../shared``.

Example::

    catalogue = load_catalogue(Path("models/sources.yaml"))
    catalogue.dataset("prison_roster").column("id_number").type   # 'id_cn'
"""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from engine.errors import Location, Problem, SpecError
from engine.normalize.orgs import DEFAULT_ABBREVIATIONS, DEFAULT_LEGAL_FORMS, DEFAULT_NEW_AREAS, OrgKeyRules
from engine.yamlfile import LocatedDocument, load_located, pydantic_problems

ValueType = Literal[
    "id_cn", "credit_code", "party_id", "name_zh", "org_name", "party_name",
    "date", "month", "amount", "int", "text", "enum",
]
FILE_SUFFIXES = (".csv", ".parquet", ".xlsx")


def header_form(text: str) -> str:
    """How headers are compared: NFKC, trimmed, case-folded."""
    return unicodedata.normalize("NFKC", text).strip().casefold()


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ColumnSpec(_Strict):
    name: str
    type: ValueType
    zh: str = Field(description="the Chinese header")
    aliases: tuple[str, ...] = ()
    values: tuple[str, ...] = ()
    value_map: dict[str, str] = Field(default_factory=dict)
    required: bool = True
    required_when: str | None = None
    empty_means: str | None = None
    compact: bool = False
    description: str = ""

    @model_validator(mode="after")
    def _check(self) -> ColumnSpec:
        if self.type == "enum" and not self.values:
            raise ValueError(f"column '{self.name}' is an enum but lists no values")
        if self.type != "enum" and (self.values or self.value_map):
            raise ValueError(f"column '{self.name}': values/value_map only apply to enums")
        bad = [v for v in self.value_map.values() if v not in self.values]
        if bad:
            raise ValueError(f"column '{self.name}': value_map targets {bad} are not among its values")
        if self.required and self.required_when:
            raise ValueError(f"column '{self.name}': required_when needs required: false")
        return self

    @property
    def headers(self) -> tuple[str, ...]:
        """Every header accepted for this column (canonical name first)."""
        return (self.name, self.zh, *self.aliases)

    @property
    def label(self) -> str:
        return f"{self.zh}({self.name})"


class QualityCheckSpec(_Strict):
    """A data-quality expectation on one dataset (run by the quality gate)."""

    check: Literal["non_null_rate", "valid_id_rate", "value_set", "date_range", "row_count_change",
                   "freshness", "unique"]
    column: str | None = None
    min: float | None = None
    max: float | None = None
    days: int | None = None
    blocking: bool = True


class DatasetSpec(_Strict):
    name: str
    title: str
    agency: str
    description: str = ""
    grain: str = ""
    patterns: tuple[str, ...] = ()
    primary_key: tuple[str, ...] = ()
    columns: tuple[ColumnSpec, ...]
    quality: tuple[QualityCheckSpec, ...] = ()

    @field_validator("columns", mode="before")
    @classmethod
    def _columns_from_mapping(cls, value):
        if isinstance(value, dict):
            return [{"name": k, **(v or {})} if isinstance(v, dict) else v for k, v in value.items()]
        return value

    @model_validator(mode="after")
    def _check(self) -> DatasetSpec:
        names = [c.name for c in self.columns]
        for key in self.primary_key:
            if key not in names:
                raise ValueError(f"primary key column '{key}' is not a column of '{self.name}'")
        seen: dict[str, str] = {}
        for column in self.columns:
            for header in column.headers:
                form = header_form(header)
                if form in seen and seen[form] != column.name:
                    raise ValueError(f"header '{header}' is claimed by both '{seen[form]}' and '{column.name}'")
                seen[form] = column.name
        for check in self.quality:
            if check.column and check.column not in names:
                raise ValueError(f"quality check '{check.check}' names unknown column '{check.column}'")
        return self

    @property
    def file_patterns(self) -> tuple[str, ...]:
        """Globs under the data root; by default ``<name>.<ext>`` and ``<name>/*.<ext>``."""
        if self.patterns:
            return self.patterns
        return tuple(f"{self.name}{s}" for s in FILE_SUFFIXES) + tuple(f"{self.name}/*{s}" for s in FILE_SUFFIXES)

    def column(self, name: str) -> ColumnSpec:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"dataset '{self.name}' has no column '{name}'")

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def header_index(self) -> dict[str, str]:
        """Header form → canonical column name."""
        return {header_form(h): c.name for c in self.columns for h in c.headers}


class OrgNameSettings(_Strict):
    abbreviations: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_ABBREVIATIONS))
    new_areas: tuple[str, ...] = DEFAULT_NEW_AREAS
    legal_forms: tuple[str, ...] = DEFAULT_LEGAL_FORMS

    def rules(self) -> OrgKeyRules:
        return OrgKeyRules(dict(self.abbreviations), tuple(self.new_areas), tuple(self.legal_forms))


class Catalogue(_Strict):
    version: int = 1
    org_name: OrgNameSettings = Field(default_factory=OrgNameSettings)
    datasets: tuple[DatasetSpec, ...]
    source_file: str = ""

    @field_validator("datasets", mode="before")
    @classmethod
    def _datasets_from_mapping(cls, value):
        if isinstance(value, dict):
            return [{"name": k, **(v or {})} if isinstance(v, dict) else v for k, v in value.items()]
        return value

    def dataset(self, name: str) -> DatasetSpec:
        for d in self.datasets:
            if d.name == name:
                return d
        raise KeyError(f"no dataset '{name}' in the catalogue")

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(d.name for d in self.datasets)


def _remap_locations(doc: LocatedDocument) -> LocatedDocument:
    """Datasets and columns are written as mappings; pydantic sees them as lists."""
    remapped = dict(doc.locations)
    data = doc.data if isinstance(doc.data, dict) else {}
    datasets = data.get("datasets") if isinstance(data.get("datasets"), dict) else {}
    for i, (dname, dval) in enumerate(datasets.items()):
        for path, loc in doc.locations.items():
            if path[:2] == ("datasets", dname):
                rest = path[2:]
                if rest[:1] == ("columns",) and isinstance(dval, dict) and isinstance(dval.get("columns"), dict):
                    cols = list(dval["columns"])
                    if len(rest) >= 2 and rest[1] in cols:
                        rest = ("columns", cols.index(rest[1]), *rest[2:])
                remapped[("datasets", i, *rest)] = loc
    return LocatedDocument(doc.file, doc.data, remapped, doc.sources)


def load_catalogue(path: Path, display_name: str | None = None) -> Catalogue:
    """Load and check ``sources.yaml``; raises SpecError with every problem found."""
    doc = load_located(path, display_name)
    if not isinstance(doc.data, dict):
        raise SpecError([Problem(Location(doc.file, 1, 1), "the catalogue must be a mapping with 'datasets'")])
    try:
        catalogue = Catalogue.model_validate({**doc.data, "source_file": doc.file})
    except ValidationError as exc:
        raise SpecError(pydantic_problems(_remap_locations(doc), exc)) from exc
    problems = _check_expressions(catalogue, _remap_locations(doc))
    if problems:
        raise SpecError(problems)
    return catalogue


def _check_expressions(catalogue: Catalogue, doc: LocatedDocument) -> list[Problem]:
    """``required_when`` conditions must parse and name only the dataset's columns."""
    problems = []
    for i, dataset in enumerate(catalogue.datasets):
        for j, column in enumerate(dataset.columns):
            if not column.required_when:
                continue
            try:
                expr = pl.sql_expr(column.required_when)
                used = set(expr.meta.root_names())
            except Exception as exc:  # polars raises several error types for bad SQL
                problems.append(doc.problem(("datasets", i, "columns", j, "required_when"),
                                            f"required_when does not parse: {exc}"))
                continue
            unknown = used - set(dataset.column_names)
            if unknown:
                problems.append(doc.problem(("datasets", i, "columns", j, "required_when"),
                                            f"required_when names unknown column(s) {sorted(unknown)}"))
    return problems
