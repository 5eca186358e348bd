"""Find and load model files: templates, parameters, located errors.

``models/*.yaml`` (except ``sources.yaml`` and ``*.sources.yaml``) are models; ``models/templates/*.yaml``
are templates. A model may say ``extends: <template>`` and ``with: {param: value}``:
the template's body is deep-merged under the model's own keys and every
``${param}`` in a string is replaced (a string that is exactly ``${param}``
takes the parameter's value with its type). A model's own ``parameters`` work
the same way. Errors keep pointing at the file and line that wrote the value,
template or model.

Example::

    specs, problems = load_models(Path("models"))
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from engine.spec.errors import Location, Problem, SpecError
from engine.spec.model import ModelSpec
from engine.spec.names import name_problem
from engine.spec.yamlfile import LocatedDocument, gc_paused, load_located, pydantic_problems

PARAM = re.compile(r"\$\{([a-z][a-z0-9_]*)\}")
NOT_MODELS = {"sources.yaml"}
SOURCES_SUFFIX = ".sources.yaml"  # more datasets, declared next to the models that read them


@dataclass
class LoadedModel:
    spec: ModelSpec
    doc: LocatedDocument
    path: Path
    template_path: Path | None = None
    text: str = ""  # model file + template text: the content fingerprint's source


@dataclass
class LoadResult:
    models: list[LoadedModel] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def model_files(models_dir: Path) -> list[Path]:
    return sorted(p for p in models_dir.glob("*.yaml")
                  if p.name not in NOT_MODELS and not p.name.endswith(SOURCES_SUFFIX))


def _merge(base: Any, override: Any, path: tuple, base_locs: dict, over_locs: dict, out_locs: dict) -> Any:
    """Deep-merge mappings (override wins); lists and scalars are replaced whole."""
    if isinstance(base, dict) and isinstance(override, dict):
        merged = {}
        for key in [*base, *[k for k in override if k not in base]]:
            if key in override and key in base:
                merged[key] = _merge(base[key], override[key], (*path, key), base_locs, over_locs, out_locs)
            elif key in override:
                merged[key] = override[key]
                _copy_locations(over_locs, out_locs, (*path, key))
            else:
                merged[key] = base[key]
                _copy_locations(base_locs, out_locs, (*path, key))
        return merged
    _copy_locations(over_locs, out_locs, path)
    return override


def _copy_locations(source: dict, target: dict, prefix: tuple) -> None:
    n = len(prefix)
    for p, loc in source.items():
        if p[:n] == prefix:
            target[p] = loc


def _substitute(value: Any, params: dict[str, Any], path: tuple, doc: LocatedDocument,
                problems: list[Problem]) -> Any:
    if isinstance(value, dict):
        return {k: _substitute(v, params, (*path, k), doc, problems) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, params, (*path, i), doc, problems) for i, v in enumerate(value)]
    if isinstance(value, str) and "${" in value:
        whole = PARAM.fullmatch(value)
        if whole and whole.group(1) in params:
            return copy.deepcopy(params[whole.group(1)])
        missing = [m.group(1) for m in PARAM.finditer(value) if m.group(1) not in params]
        if missing:
            problems.append(doc.problem(path, f"unknown parameter(s) {missing}; declared: {sorted(params)}"))
            return value
        return PARAM.sub(lambda m: str(params[m.group(1)]), value)
    return value


def load_model(path: Path, models_dir: Path, display: str | None = None) -> LoadedModel:
    """Load one model file (resolving its template); raises SpecError with every problem."""
    doc = load_located(path, display or str(path))
    if not isinstance(doc.data, dict):
        raise SpecError([Problem(Location(doc.file, 1, 1), "a model file must be a mapping")])
    data = dict(doc.data)
    locations = dict(doc.locations)
    sources = dict(doc.sources)
    text = path.read_text(encoding="utf-8")
    template_path = None
    problems: list[Problem] = []
    params: dict[str, Any] = {}
    if "extends" in data:
        name = data["extends"]
        template_path = _template_path(name, models_dir, doc)
        tdoc = load_located(template_path, _relative(template_path, models_dir, display))
        text += "\n---\n" + template_path.read_text(encoding="utf-8")
        tdata = dict(tdoc.data) if isinstance(tdoc.data, dict) else {}
        for key, spec in (tdata.get("parameters") or {}).items():
            params[key] = spec.get("default") if isinstance(spec, dict) else spec
        given = data.get("with") or {}
        if not isinstance(given, dict):
            raise SpecError([doc.problem(("with",), "'with' must map parameter names to values")])
        problems.extend(doc.problem(("with", key), why, key=True) for key in given
                        if (why := name_problem(key, "parameter name")))
        unknown = sorted(set(given) - set(params))
        if unknown:
            problems.append(doc.problem(("with",), f"template '{name}' has no parameter(s) {unknown}; "
                                                   f"it declares {sorted(params)}"))
        params.update(given)
        merged_locs: dict = {}
        own = {k: v for k, v in data.items() if k != "with"}
        data = _merge(tdata, own, (), tdoc.locations, doc.locations, merged_locs)
        locations = merged_locs
        data.pop("template", None)
        sources.update(tdoc.sources)
    for key, spec in (data.get("parameters") or {}).items():
        if key not in params:
            params[key] = spec.get("default") if isinstance(spec, dict) else spec
    merged_doc = LocatedDocument(doc.file, data, locations, sources)
    data = _substitute(data, params, (), merged_doc, problems)
    if template_path is not None and "parameters" in data:
        data["parameters"] = {k: (v if isinstance(v, dict) else {"default": v}) for k, v in data["parameters"].items()}
    merged_doc = LocatedDocument(doc.file, data, locations, sources)
    try:
        with gc_paused():
            spec = ModelSpec.model_validate({**data, "source_file": doc.file})
    except ValidationError as exc:
        problems.extend(pydantic_problems(merged_doc, exc, model=ModelSpec))
        raise SpecError(problems) from exc
    if problems:
        raise SpecError(problems)
    return LoadedModel(spec, merged_doc, path, template_path, text)


def _template_path(name: object, models_dir: Path, doc: LocatedDocument) -> Path:
    """The template file a model extends: a name, resolved strictly inside ``models/templates/``."""
    folder = (models_dir / "templates").resolve()
    available = sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []
    why = name_problem(name, "a template")
    if why:
        raise SpecError([doc.problem(("extends",), f"{why}; templates are named like the files in "
                                                   f"models/templates/ (available: {available})")])
    path = (folder / f"{name}.yaml").resolve()
    if path.parent != folder or not path.is_file():
        raise SpecError([doc.problem(("extends",), f"no template '{name}' in models/templates/ "
                                                   f"(available: {available})")])
    return path


def _relative(path: Path, models_dir: Path, display: str | None) -> str:
    if display is None:
        return str(path)
    base = Path(display).parent
    return str(base / path.relative_to(models_dir.resolve()))


def load_models(models_dir: Path, display_base: str | None = None) -> LoadResult:
    """Load every model; one broken file never hides the problems of the others."""
    result = LoadResult()
    seen: dict[str, Path] = {}
    for path in model_files(models_dir):
        display = f"{display_base}/{path.name}" if display_base else str(path)
        try:
            loaded = load_model(path, models_dir, display)
        except SpecError as exc:
            result.problems.extend(exc.problems)
            continue
        if loaded.spec.id in seen:
            result.problems.append(loaded.doc.problem(("id",), f"model id '{loaded.spec.id}' is also used by "
                                                                f"{seen[loaded.spec.id].name}"))
            continue
        seen[loaded.spec.id] = path
        result.models.append(loaded)
    return result
