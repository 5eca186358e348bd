"""YAML loading that remembers where every value was written.

PyYAML's composer gives nodes with start marks; we build plain Python values
from them and keep a map from the value's path (``("rules", 0, "where")``) to
its location. Pydantic validation errors carry such paths, so they can be
reported as ``file:line:column``.

Example::

    doc = load_located("models/prisoner_dibao.yaml")
    doc.data["id"]                       # 'prisoner_dibao'
    doc.where(("rules", 0, "where"))     # Location('models/…', 31, 12)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from engine.errors import Location, Problem, SpecError

Path_ = tuple[str | int, ...]


@dataclass
class LocatedDocument:
    file: str
    data: Any
    locations: dict[Path_, Location] = field(default_factory=dict)
    sources: dict[str, list[str]] = field(default_factory=dict)  # file -> its lines (for error display)

    def problem(self, path: Path_, message: str, key: bool = False) -> Problem:
        """A problem located at ``path`` (at its key when ``key``), carrying the source line."""
        location = (self.locations.get((*tuple(path), "__key__")) if key else None) or self.where(path)
        return self.problem_at(location, message)

    def problem_at(self, location: Location, message: str) -> Problem:
        lines = self.sources.get(location.file, [])
        source = lines[location.line - 1] if 0 < location.line <= len(lines) else None
        return Problem(location, message, source=source)

    def where(self, path: Path_) -> Location:
        """The location of ``path``, or of its nearest ancestor that has one."""
        path = tuple(path)
        while path:
            if path in self.locations:
                return self.locations[path]
            path = path[:-1]
        return self.locations.get((), Location(self.file, 1, 1))


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader with YAML 1.2 booleans: only true/false are booleans, so keys such
    as ``on`` (a join condition) and values such as ``no``/``yes`` stay strings; dates
    stay strings too (a cell like 2023-02-30 is data, not a loader crash).
    Duplicate mapping keys are detected by our own walker."""


_UniqueKeyLoader.yaml_implicit_resolvers = {  # dates stay text: the typed specs parse them (with clear errors)
    first: [(tag, regexp) for tag, regexp in resolvers
            if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_UniqueKeyLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", __import__("re").compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


def _construct(node: yaml.Node, path: Path_, file: str, locations: dict, problems: list[Problem],
               loader: yaml.SafeLoader) -> Any:
    mark = node.start_mark
    locations[path] = Location(file, mark.line + 1, mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, (str, int, float, bool)) and key is not None:
                km = key_node.start_mark
                problems.append(Problem(Location(file, km.line + 1, km.column + 1),
                                        "a mapping key must be a plain value"))
                continue
            key = str(key) if not isinstance(key, str) else key
            if key in out:
                km = key_node.start_mark
                problems.append(Problem(Location(file, km.line + 1, km.column + 1),
                                        f"duplicate key '{key}' (the later one would silently win)"))
            out[key] = _construct(value_node, (*path, key), file, locations, problems, loader)
            # The key's own position is more useful than the value's for "unknown key" errors.
            km = key_node.start_mark
            locations[(*path, key, "__key__")] = Location(file, km.line + 1, km.column + 1)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_construct(item, (*path, i), file, locations, problems, loader)
                for i, item in enumerate(node.value)]
    return loader.construct_object(node, deep=True)


def load_located(path: str | Path, display_name: str | None = None) -> LocatedDocument:
    """Load one YAML document with locations; YAML syntax errors become SpecError."""
    path = Path(path)
    file = display_name or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise SpecError([Problem(Location(file), f"not UTF-8 text ({exc.reason}); save the file as UTF-8")]) from exc
    return loads_located(text, file)


def loads_located(text: str, file: str = "<string>") -> LocatedDocument:
    loader = _UniqueKeyLoader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        loc = Location(file, mark.line + 1, mark.column + 1) if mark else Location(file)
        lines = text.splitlines()
        source = lines[loc.line - 1] if 0 < loc.line <= len(lines) else None
        raise SpecError([Problem(loc, f"YAML syntax: {exc.problem}", source=source)]) from exc
    finally:
        loader.dispose()
    locations: dict[Path_, Location] = {}
    problems: list[Problem] = []
    if node is None:
        raise SpecError([Problem(Location(file, 1, 1), "the file is empty")])
    data = _construct(node, (), file, locations, problems, _UniqueKeyLoader(""))
    doc = LocatedDocument(file, data, locations, {file: text.splitlines()})
    if problems:
        raise SpecError([doc.problem_at(p.location, p.message) for p in problems])
    return doc


def dotted(path: Path_, data: Any) -> str:
    """A readable path: list positions that came from YAML mappings shown by their keys."""
    parts, node = [], data
    for step in path:
        if isinstance(step, int) and isinstance(node, dict) and 0 <= step < len(node):
            key = list(node)[step]
            parts.append(str(key))
            node = node[key]
        else:
            parts.append(str(step))
            node = node.get(step) if isinstance(node, dict) else (
                node[step] if isinstance(node, list) and isinstance(step, int) and step < len(node) else None)
    return ".".join(parts)


def pydantic_problems(doc: LocatedDocument, exc: Any, prefix: Path_ = ()) -> list[Problem]:
    """Turn a pydantic ValidationError into located problems (one per error)."""
    problems = []
    for err in exc.errors(include_url=False):
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        full = (*prefix, *loc)
        message = err["msg"]
        if message.startswith("Value error, "):
            message = message[len("Value error, "):]
        if err["type"] == "extra_forbidden":
            problems.append(doc.problem(full, f"unknown key '{loc[-1]}'", key=True))
        elif err["type"] == "missing":
            problems.append(doc.problem(full[:-1], f"missing key '{loc[-1]}'"))
        else:
            where = dotted(full, doc.data)
            problems.append(doc.problem(full, f"{where}: {message}" if where else message))
    return problems
