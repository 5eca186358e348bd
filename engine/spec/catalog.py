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

import datetime as dt
import re
import unicodedata
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from engine.spec.errors import Location, Problem, SpecError
from engine.spec.names import Name
from engine.spec.yamlfile import LocatedDocument, load_located, pydantic_problems

ValueType = Literal[
    "id_cn", "credit_code", "party_id", "name_zh", "org_name", "party_name",
    "date", "month", "amount", "int", "text", "enum",
]
FILE_SUFFIXES = (".csv", ".parquet", ".xlsx")
DEFAULT_LEGAL_FORMS = ("股份有限公司", "有限责任公司", "集团有限公司", "有限公司", "公司", "集团")
DEFAULT_NEW_AREAS = ("天府新区", "高新区", "经开区")
DEFAULT_ABBREVIATIONS = {"建筑工程": "建工"}
STAGED_SUFFIXES = {"id_cn": ("_valid",), "credit_code": ("_valid",), "party_id": ("_valid_id", "_valid_code"),
                   "org_name": ("_key", "_phase"), "party_name": ("_key", "_phase")}
SYSTEM_COLUMNS = ("_rid", "_file", "_row", "_extra")  # every staged row: row id, source file and row, extra cells


def header_form(text: str) -> str:
    """How headers are compared: NFKC, trimmed, case-folded."""
    return unicodedata.normalize("NFKC", text).strip().casefold()


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ColumnSpec(_Strict):
    name: Name
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


QUALITY_PARAMETERS: dict[str, tuple[str, ...]] = {  # the parameters each check takes (besides name, blocking)
    "non_null_rate": ("column", "columns", "min"),
    "valid_id_rate": ("column", "min"),
    "value_set": ("column", "values", "min"),
    "date_range": ("column", "min_date", "max_date", "min"),
    "row_count_change": ("max_drop", "max_growth"),
    "freshness": ("column", "days"),
    "unique": ("column", "columns", "min"),
    "not_empty": (),
}
QUALITY_COLUMN_TYPES: dict[str, tuple[str, ...]] = {  # the column types a check applies to (absent: any)
    "valid_id_rate": ("id_cn", "credit_code", "party_id"),
    "value_set": ("enum", "text"),
    "date_range": ("date", "month"),
    "freshness": ("date", "month"),
}
_DATE_BOUND = re.compile(r"^as_of(?:\s*([+-])\s*(\d+)\s*days?)?$")


def parse_date_bound(text: str) -> tuple[dt.date | None, int]:
    """``2024-01-31`` → (that date, 0); ``as_of``, ``as_of + 7 days``, ``as_of - 30 days`` → (None, ±days).

    Raises ValueError for anything else.
    """
    text = str(text).strip()
    m = _DATE_BOUND.match(text)
    if m:
        days = int(m.group(2) or 0)
        return None, -days if m.group(1) == "-" else days
    try:
        return dt.date.fromisoformat(text), 0
    except ValueError:
        raise ValueError(f"date bound '{text}' is neither an ISO date (2024-01-31) nor 'as_of', "
                         f"'as_of + N days' or 'as_of - N days'") from None


def resolve_date_bound(text: str | None, as_of: dt.date) -> dt.date | None:
    """The date a bound stands for on a run with this as-of date."""
    if text is None:
        return None
    absolute, days = parse_date_bound(text)
    return absolute if absolute is not None else as_of + dt.timedelta(days=days)


def _percent(share: float) -> str:
    return f"{share * 100:.4g}%"


class QualityCheckSpec(_Strict):
    """A data-quality expectation on one dataset, run by the quality gate (see docs/data-contract.md).

    ``blocking: true`` — a failure keeps the dataset out of the run (its models are skipped, exit
    status 3); ``blocking: false`` — a failure is a warning, reported only.
    """

    check: Literal["non_null_rate", "valid_id_rate", "value_set", "date_range", "row_count_change",
                   "freshness", "unique", "not_empty"]
    blocking: bool
    name: str | None = None
    column: str | None = None
    columns: tuple[str, ...] = ()
    min: float | None = None  # the share of rows that must pass (0..1)
    values: tuple[str, ...] = ()
    min_date: str | None = None
    max_date: str | None = None
    max_drop: float | None = None
    max_growth: float | None = None
    days: int | None = None

    @field_validator("min_date", "max_date")
    @classmethod
    def _date_bound(cls, value):
        if value is not None:
            parse_date_bound(value)
        return value

    @model_validator(mode="after")
    def _check(self) -> QualityCheckSpec:
        allowed = QUALITY_PARAMETERS[self.check]
        given = sorted(self.model_fields_set - {"check", "name", "blocking"})
        unexpected = [k for k in given if k not in allowed]
        if unexpected:
            raise ValueError(f"check '{self.check}' does not take {', '.join(unexpected)} "
                             f"(it takes {', '.join(allowed)})")
        if "column" in allowed:
            if self.column and self.columns:
                raise ValueError(f"check '{self.check}': give either column or columns, not both")
            if not self.column and not self.columns:
                raise ValueError(f"check '{self.check}' needs " + ("column or columns" if "columns" in allowed
                                                                   else "column"))
        if len(set(self.columns)) != len(self.columns):
            raise ValueError(f"check '{self.check}': columns {list(self.columns)} repeat a column")
        if self.min is not None and not 0 <= self.min <= 1:
            raise ValueError(f"check '{self.check}': min {self.min} must be a share between 0 and 1 (0.95 = 95%)")
        if self.check == "valid_id_rate" and self.min is None:
            raise ValueError("check 'valid_id_rate' needs min (the share of IDs that must pass their check, e.g. 0.95)")
        if self.check == "date_range":
            if self.min_date is None and self.max_date is None:
                raise ValueError("check 'date_range' needs min_date, max_date or both")
            low, high = (parse_date_bound(self.min_date)[0] if self.min_date else None,
                         parse_date_bound(self.max_date)[0] if self.max_date else None)
            if low and high and low > high:
                raise ValueError(f"check 'date_range': min_date {low} is after max_date {high}")
        if self.check == "row_count_change":
            if self.max_drop is None and self.max_growth is None:
                raise ValueError("check 'row_count_change' needs max_drop, max_growth or both (fractions: 0.5 = 50%)")
            if self.max_drop is not None and not 0 <= self.max_drop <= 1:
                raise ValueError(f"check 'row_count_change': max_drop {self.max_drop} must be between 0 and 1")
            if self.max_growth is not None and self.max_growth < 0:
                raise ValueError(f"check 'row_count_change': max_growth {self.max_growth} must be 0 or more")
        if self.check == "freshness":
            if self.days is None:
                raise ValueError("check 'freshness' needs days (the newest value may be at most this many days "
                                 "before the as-of date)")
            if self.days < 0:
                raise ValueError(f"check 'freshness': days {self.days} must be 0 or more")
        if self.name is not None and not self.name.strip():
            raise ValueError("a check's name must not be empty")
        return self

    @property
    def targets(self) -> tuple[str, ...]:
        """The columns the check is about (empty for row_count_change)."""
        return (self.column,) if self.column else self.columns

    @property
    def share(self) -> float:
        """The share of rows that must pass (``min``; 1.0 when not given)."""
        return 1.0 if self.min is None else self.min

    def title(self, dataset: DatasetSpec) -> str:
        """The check's name: as written, or a readable Chinese one made from its parameters."""
        if self.name:
            return self.name.strip()

        def zh(name: str) -> str:
            return next((c.zh for c in dataset.columns if c.name == name), name)

        cols = "、".join(zh(c) for c in self.targets) if len(self.targets) <= 3 else f"{len(self.targets)}个列"
        at_least = "" if self.share >= 1 else f"≥{_percent(self.share)}"
        if self.check == "non_null_rate":
            return f"{cols}非空率{at_least or '100%'}"
        if self.check == "valid_id_rate":
            return f"{cols}校验通过率≥{_percent(self.share)}"
        if self.check == "value_set":
            listed = f"[{'/'.join(self.values)}]" if self.values else "规定范围"
            return f"{cols}取值在{listed}内{at_least}"
        if self.check == "date_range":
            bounds = f"{self.min_date or '…'}至{self.max_date or '…'}"
            return f"{cols}在{bounds}之间{at_least}"
        if self.check == "row_count_change":
            parts = []
            if self.max_drop is not None:
                parts.append(f"减少不超过{_percent(self.max_drop)}")
            if self.max_growth is not None:
                parts.append(f"增长不超过{_percent(self.max_growth)}")
            return "接收行数较上次" + "、".join(parts)
        if self.check == "freshness":
            return f"{cols}最新值不早于as_of前{self.days}天"
        if self.check == "not_empty":
            return "接收行数大于零"
        return f"{cols}唯一" + (f"率{at_least}" if at_least else "")


class DatasetSpec(_Strict):
    name: Name
    title: str
    agency: str
    description: str = ""
    grain: str = ""
    patterns: tuple[str, ...] = ()
    primary_key: tuple[Name, ...] = ()
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

    @property
    def staged_columns(self) -> list[str]:
        """Names of the staged columns: normal forms, check flags, org keys, then the system columns
        (row id, source file, row number, extra cells) — what a model's input can read."""
        names: list[str] = []
        for column in self.columns:
            names.append(column.name)
            names.extend(column.name + s for s in STAGED_SUFFIXES.get(column.type, ()))
        return names + list(SYSTEM_COLUMNS)

    def header_index(self) -> dict[str, str]:
        """Header form → canonical column name."""
        return {header_form(h): c.name for c in self.columns for h in c.headers}


class OrgNameSettings(_Strict):
    abbreviations: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_ABBREVIATIONS))
    new_areas: tuple[str, ...] = DEFAULT_NEW_AREAS
    legal_forms: tuple[str, ...] = DEFAULT_LEGAL_FORMS


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
        if ("datasets", dname, "__key__") in doc.locations:  # a name given as a mapping key
            remapped[("datasets", i, "name")] = doc.locations[("datasets", dname, "__key__")]
        columns = dval.get("columns") if isinstance(dval, dict) else None
        for j, cname in enumerate(columns if isinstance(columns, dict) else []):
            if ("datasets", dname, "columns", cname, "__key__") in doc.locations:
                remapped[("datasets", i, "columns", j, "name")] = doc.locations[
                    ("datasets", dname, "columns", cname, "__key__")]
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
    catalogue, _ = _load_part(path, display_name)
    return catalogue


def _load_part(path: Path, display_name: str | None) -> tuple[Catalogue, LocatedDocument]:
    doc = load_located(path, display_name)
    if not isinstance(doc.data, dict):
        raise SpecError([Problem(Location(doc.file, 1, 1), "the catalogue must be a mapping with 'datasets'")])
    try:
        catalogue = Catalogue.model_validate({**doc.data, "source_file": doc.file})
    except ValidationError as exc:
        raise SpecError(pydantic_problems(_remap_locations(doc), exc, model=Catalogue)) from exc
    located = _remap_locations(doc)
    problems = _check_expressions(catalogue, located) + _check_quality(catalogue, located)
    if problems:
        raise SpecError(problems)
    return catalogue, located


def load_catalogues(main: Path, parts: list[Path], display=str) -> Catalogue:
    """``sources.yaml`` and the ``*.sources.yaml`` files next to it as one catalogue: a part declares more
    datasets (checked exactly as the main file's) and nothing else; a dataset name must be new. Raises
    SpecError with every problem of every file."""
    problems: list[Problem] = []
    loaded: list[tuple[Catalogue, LocatedDocument]] = []
    for path in [main, *parts]:
        try:
            loaded.append(_load_part(path, display(path)))
        except SpecError as exc:
            problems.extend(exc.problems)
    if problems:
        raise SpecError(problems)
    (catalogue, _), extra = loaded[0], loaded[1:]
    declared = {d.name: catalogue.source_file for d in catalogue.datasets}
    datasets = list(catalogue.datasets)
    for part, doc in extra:
        for key in sorted(set(doc.data) - {"version", "datasets"}):
            problems.append(Problem(_where(doc, (key,)), f"'{key}' belongs in {catalogue.source_file}: a "
                                    f"*.sources.yaml file only declares datasets"))
        for i, dataset in enumerate(part.datasets):
            if dataset.name in declared:
                problems.append(Problem(_where(doc, ("datasets", i, "name")), f"dataset '{dataset.name}' is "
                                        f"already declared in {declared[dataset.name]}; choose another name"))
                continue
            declared[dataset.name] = part.source_file
            datasets.append(dataset)
    if problems:
        raise SpecError(problems)
    return catalogue.model_copy(update={"datasets": tuple(datasets)})


def _where(doc: LocatedDocument, path: tuple) -> Location:
    loc = doc.locations.get((*path, "__key__")) or doc.locations.get(path)
    return loc or Location(doc.file, 1, 1)


def _polars():
    """Polars parses ``required_when`` (it evaluates it at ingest); imported on first use so that listing
    the models (``lsm models``) does not pay its 0.2 s import."""
    import polars

    return polars


def _check_expressions(catalogue: Catalogue, doc: LocatedDocument) -> list[Problem]:
    """``required_when`` conditions must parse and name only the dataset's columns."""
    problems = []
    for i, dataset in enumerate(catalogue.datasets):
        for j, column in enumerate(dataset.columns):
            if not column.required_when:
                continue
            try:
                expr = _polars().sql_expr(column.required_when)
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


def _check_quality(catalogue: Catalogue, doc: LocatedDocument) -> list[Problem]:
    """Quality checks must name the dataset's columns, of a type the check applies to, and have distinct names."""
    problems = []
    for i, dataset in enumerate(catalogue.datasets):
        names: dict[str, int] = {}
        for j, check in enumerate(dataset.quality):
            path = ("datasets", i, "quality", j)
            for k, column_name in enumerate(check.targets):
                where = (*path, "column") if check.column else (*path, "columns", k)
                if column_name not in dataset.column_names:
                    problems.append(doc.problem(where, f"quality check '{check.check}' names unknown column "
                                                       f"'{column_name}' (columns of {dataset.name}: "
                                                       f"{', '.join(dataset.column_names)})"))
                    continue
                column = dataset.column(column_name)
                types = QUALITY_COLUMN_TYPES.get(check.check)
                if types and column.type not in types:
                    problems.append(doc.problem(where, f"quality check '{check.check}' applies to columns of "
                                                       f"type {'/'.join(types)}; '{column_name}' is {column.type}"))
                    continue
                if check.check == "value_set":
                    if column.type == "enum":
                        outside = [v for v in check.values if v not in column.values]
                        if outside:
                            problems.append(doc.problem((*path, "values"), f"values {outside} are not among the "
                                                        f"enum's values {list(column.values)}"))
                    elif not check.values:
                        problems.append(doc.problem(path, f"quality check 'value_set' on text column "
                                                          f"'{column_name}' needs values"))
            title = check.title(dataset)
            if title in names:
                problems.append(doc.problem(path, f"two quality checks of {dataset.name} are both named '{title}' "
                                                  f"(give one of them its own `name:`)"))
            names[title] = j
    return problems
