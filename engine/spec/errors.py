"""Errors that carry a location, collected rather than raised one by one.

A model or catalogue file with three mistakes reports all three, each as
``models/x.yaml:14:7: message`` followed by the offending line. This module
only formats and collects; it never prints.

Example::

    problems = Problems()
    problems.add(Location("models/x.yaml", 14, 7), "unknown column 'foo'")
    problems.raise_if_any()      # raises SpecError listing every problem
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple


class Location(NamedTuple):
    """A 1-based line and column inside a file (line 0 = the file as a whole). A named tuple: a
    model file records one per value, and a large lookup table has hundreds of thousands."""

    file: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if self.line <= 0:
            return self.file
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Problem:
    location: Location
    message: str
    severity: str = "error"  # "error" | "warning"
    source: str | None = None  # the offending line, when known

    def render(self, with_source: bool = True) -> str:
        text = f"{self.location}: {self.message}"
        if with_source and self.location.line > 0:
            source = self.source if self.source is not None else _source_line(self.location.file,
                                                                                 self.location.line)
            if source is not None:
                caret = " " * max(self.location.column - 1, 0) + "^"
                text += f"\n    {source}\n    {caret}"
        return text


def _source_line(file: str, line: int) -> str | None:
    try:
        lines = Path(file).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    return lines[line - 1] if 0 < line <= len(lines) else None


class SpecError(Exception):
    """One or more problems in a user-written file; ``problems`` lists them all."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__(self.render())

    def render(self, with_source: bool = True) -> str:
        return "\n".join(p.render(with_source) for p in self.problems)


@dataclass
class Problems:
    """An accumulator of problems; raise them together at the end."""

    items: list[Problem] = field(default_factory=list)

    def add(self, location: Location, message: str, severity: str = "error", source: str | None = None) -> None:
        self.items.append(Problem(location, message, severity, source))

    def extend(self, other: Problems | list[Problem]) -> None:
        self.items.extend(other.items if isinstance(other, Problems) else other)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.items if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.items if p.severity == "warning"]

    def raise_if_any(self) -> None:
        if self.errors:
            raise SpecError(self.errors)

    def __bool__(self) -> bool:
        return bool(self.errors)
