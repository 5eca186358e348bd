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

import contextlib
import gc
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from engine.spec.errors import Location, Problem, SpecError
from engine.spec.names import shown
from engine.spec.suggest import did_you_mean, keys_at

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

    def token_location(self, path: Path_, text: object, offset: int | None) -> Location:
        """Where the token at ``offset`` of the text written at ``path`` stands in the file.

        The token is found in the source from the value's start on (its n-th occurrence, as in the
        text), which holds for plain, quoted and block scalars alike; else the value's location."""
        base = self.where(path)
        lines = self.sources.get(base.file)
        if offset is None or not isinstance(text, str) or not lines or not 0 <= offset < len(text):
            return base
        token = _TOKEN.match(text, offset)
        snippet = token.group(0) if token else text[offset]
        wanted, seen = text[:offset].count(snippet), 0
        for row in range(base.line - 1, min(len(lines), base.line + 200)):
            position = lines[row].find(snippet, base.column - 1 if row == base.line - 1 else 0)
            while position >= 0:
                if seen == wanted:
                    return Location(base.file, row + 1, position + 1)
                seen += 1
                position = lines[row].find(snippet, position + 1)
        return base

    def where(self, path: Path_) -> Location:
        """The location of ``path``, or of its nearest ancestor that has one."""
        path = tuple(path)
        while path:
            if path in self.locations:
                return self.locations[path]
            path = path[:-1]
        return self.locations.get((), Location(self.file, 1, 1))


_TOKEN = re.compile(r"[\w\"]+(?:\.[\w\"]+)*")  # an identifier or alias.column, as written
MAX_FILE_BYTES = 32 << 20  # a model file (with a 100,000-row lookup table) is a few MB
MAX_NODES = 2_000_000  # values built from one file, aliases expanded: a "billion laughs" stops here
MAX_DEPTH = 64  # nested lists and mappings (a model nests about ten deep)


class _UniqueKeyLoader(yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader):  # type: ignore[misc]
    """A safe loader (libyaml's parser when present) with YAML 1.2 booleans: only true/false are
    booleans, so keys such as ``on`` (a join condition) and values such as ``no``/``yes`` stay
    strings; dates stay strings too (a cell like 2023-02-30 is data, not a loader crash).
    Duplicate mapping keys are detected by our own walker."""


_UniqueKeyLoader.yaml_implicit_resolvers = {  # dates stay text: the typed specs parse them (with clear errors)
    first: [(tag, regexp) for tag, regexp in resolvers
            if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_UniqueKeyLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


_FIRST_CHARACTERS = frozenset(k for k in _UniqueKeyLoader.yaml_implicit_resolvers if k)
_STR = "tag:yaml.org,2002:str"


def _resolve(self, kind, value, implicit):
    """PyYAML's resolver, with a shortcut for the common case: a plain scalar whose first character no
    implicit type can start with (Chinese text, names) is a string."""
    if kind is yaml.ScalarNode and implicit[0] and value and value[0] not in _FIRST_CHARACTERS:
        return _STR
    return yaml.resolver.BaseResolver.resolve(self, kind, value, implicit)


_UniqueKeyLoader.resolve = _resolve  # type: ignore[method-assign]


class _TooLarge(Exception):
    pass


class _TooDeep(Exception):
    def __init__(self, location: Location):
        super().__init__(str(location))
        self.location = location


@dataclass
class _Builder:
    """Builds plain values from composed nodes, recording every value's location."""

    file: str
    loader: Any
    locations: dict = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    built: int = 0

    def location(self, node: yaml.Node) -> Location:
        mark = node.start_mark
        return Location(self.file, mark.line + 1, mark.column + 1)

    def scalar(self, node: yaml.Node) -> Any:
        if node.tag == _STR and isinstance(node, yaml.ScalarNode):
            return node.value
        try:
            return self.loader.construct_object(node, deep=True)
        except yaml.YAMLError as exc:
            problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            self.problems.append(Problem(self.location(node), f"YAML: {problem} (tag {shown(node.tag)}); "
                                                              f"only plain values, lists and mappings are allowed"))
            return None

    def build(self, node: yaml.Node, path: Path_) -> Any:
        self.built += 1
        if self.built > MAX_NODES:
            raise _TooLarge
        if len(path) > MAX_DEPTH:
            raise _TooDeep(self.location(node))
        self.locations[path] = self.location(node)
        if isinstance(node, yaml.MappingNode):
            self.loader.flatten_mapping(node)
            out: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                key = self.scalar(key_node) if isinstance(key_node, yaml.ScalarNode) else None
                key_at = self.location(key_node)
                if not isinstance(key, (str, int, float, bool)):
                    self.problems.append(Problem(key_at, "a mapping key must be a plain value"))
                    continue
                key = str(key) if not isinstance(key, str) else key
                if key in out:
                    self.problems.append(Problem(key_at, f"duplicate key '{shown(key)}' (the later one would "
                                                         f"silently win)"))
                out[key] = self.build(value_node, (*path, key))
                # The key's own position is more useful than the value's for "unknown key" errors.
                self.locations[(*path, key, "__key__")] = key_at
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        return self.scalar(node)


def load_located(path: str | Path, display_name: str | None = None) -> LocatedDocument:
    """Load one YAML document with locations; YAML syntax errors become SpecError."""
    path = Path(path)
    file = display_name or str(path)
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise SpecError([Problem(Location(file), f"the file is {size:,} bytes; a model or catalogue file may hold "
                                                 f"at most {MAX_FILE_BYTES:,} (move large tables into a dataset)")])
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise SpecError([Problem(Location(file, line, 1), f"not UTF-8 text ({exc.reason} at byte {exc.start}); "
                                                           f"save the file as UTF-8")]) from exc
    return loads_located(text, file)


def expanded_count(root: yaml.Node) -> int:
    """How many values the document holds once every alias is expanded — counted over the node graph
    (aliases share nodes), so a "billion laughs" is measured in microseconds, never built."""
    counts: dict[int, int] = {}
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:  # post-order over the graph: a node is counted after all its children
        node, children_done = stack.pop()
        if id(node) in counts:
            continue
        if children_done:
            counts[id(node)] = 1 + sum(counts[id(child)] for child in _children(node))
            continue
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node) if id(child) not in counts)
    return counts[id(root)]


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


@contextlib.contextmanager
def gc_paused():
    """Build many small objects without Python's cyclic garbage collector running over and over
    (it made a 100,000-row lookup table three times slower to load); nothing built here is cyclic."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def loads_located(text: str, file: str = "<string>") -> LocatedDocument:
    with gc_paused():
        return _loads_located(text, file)


def _loads_located(text: str, file: str) -> LocatedDocument:
    loader = _UniqueKeyLoader(text)
    try:
        node = loader.get_single_node()
    except RecursionError:
        raise SpecError([Problem(Location(file, 1, 1), f"the document is nested too deeply (at most {MAX_DEPTH} "
                                                       f"levels)")]) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        loc = Location(file, mark.line + 1, mark.column + 1) if mark else Location(file)
        lines = text.splitlines()
        source = lines[loc.line - 1] if 0 < loc.line <= len(lines) else None
        raise SpecError([Problem(loc, f"YAML syntax: {exc.problem}", source=source)]) from None
    except yaml.YAMLError as exc:
        raise SpecError([Problem(Location(file), f"YAML: {str(exc).splitlines()[0]}")]) from None
    finally:
        loader.dispose()
    if node is None:
        raise SpecError([Problem(Location(file, 1, 1), "the file is empty")])
    builder = _Builder(file, _UniqueKeyLoader(""))
    try:
        if "&" in text and expanded_count(node) > MAX_NODES:  # only anchors make aliases possible
            raise _TooLarge
        data = builder.build(node, ())
    except _TooDeep as exc:
        raise SpecError([Problem(exc.location, f"the document is nested too deeply (at most {MAX_DEPTH} "
                                               f"levels)")]) from None
    except _TooLarge:
        raise SpecError([Problem(Location(file, 1, 1), f"the document expands to more than {MAX_NODES:,} values "
                                                       f"(YAML aliases repeated too often?); write it out "
                                                       f"plainly or move large tables into a dataset")]) from None
    doc = LocatedDocument(file, data, builder.locations, {file: text.splitlines()})
    if builder.problems:
        raise SpecError([doc.problem_at(p.location, p.message) for p in builder.problems])
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
    return ".".join(shown(p) for p in parts)


def pydantic_problems(doc: LocatedDocument, exc: Any, prefix: Path_ = (),
                      model: type[BaseModel] | None = None) -> list[Problem]:
    """Turn a pydantic ValidationError into located problems (one per error); with the validated
    ``model``, an unknown key is answered with the closest allowed one."""
    problems = []
    for err in exc.errors(include_url=False):
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        full = (*prefix, *loc)
        message = err["msg"]
        if message.startswith("Value error, "):
            message = message[len("Value error, "):]
        if loc and loc[-1] == "[key]":  # a mapping key (a name) is wrong: point at the key itself
            problems.append(doc.problem(full[:-1], message, key=True))
        elif err["type"] == "extra_forbidden":
            hint = did_you_mean(str(loc[-1]), keys_at(model, loc)) if model else ""
            problems.append(doc.problem(full, f"unknown key '{shown(loc[-1])}'{hint}", key=True))
        elif err["type"] == "missing":
            problems.append(doc.problem(full[:-1], f"missing key '{shown(loc[-1])}'"))
        else:
            where = dotted(full, doc.data)
            problems.append(doc.problem(full, f"{where}: {message}" if where else message))
    return problems
