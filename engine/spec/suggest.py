"""'Did you mean …?' for a misspelt key or name: the closest known one, when one is close enough.

``keys_at`` finds the keys a typed spec allows at a location of the written file by walking the pydantic
models' annotations (mappings keyed by name, lists, optional and union members), so an unknown key can
be answered with the key the analyst meant."""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Iterable

from pydantic import BaseModel


def did_you_mean(word: str, known: Iterable[str]) -> str:
    """``"; did you mean 'where'?"`` or ``""``."""
    close = difflib.get_close_matches(str(word), sorted(set(known)), n=1, cutoff=0.75)
    return f"; did you mean '{close[0]}'?" if close else ""


def _members(annotation: object) -> list[object]:
    """An annotation's alternatives: the members of a union (``X | None``), else itself."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _members(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return [m for a in typing.get_args(annotation) for m in _members(a)]
    return [annotation]


def _field(model: type[BaseModel], key: str) -> object | None:
    for name, info in model.model_fields.items():
        if key in (name, info.alias):
            return info.annotation
    return None


def _step(annotation: object, step: object) -> object | None:
    """The annotation one step (a key, an index or a union member's name) further in."""
    for member in _members(annotation):
        origin = typing.get_origin(member)
        if isinstance(member, type) and issubclass(member, BaseModel):
            if step == member.__name__:
                return member
            found = _field(member, str(step)) if isinstance(step, str) else None
            if found is not None:
                return found
        elif origin in (dict, typing.get_origin(typing.Mapping[str, int])):
            return typing.get_args(member)[1]
        elif origin in (list, tuple) and isinstance(step, int):
            return typing.get_args(member)[0]
    return None


def keys_at(model: type[BaseModel], loc: tuple) -> list[str]:
    """The keys allowed in the mapping that holds ``loc[-1]`` (empty when the walk loses its way)."""
    annotation: object = model
    for step in loc[:-1]:
        annotation = _step(annotation, step)
        if annotation is None:
            return []
    return sorted({info.alias or name for member in _members(annotation)
                   if isinstance(member, type) and issubclass(member, BaseModel)
                   for name, info in member.model_fields.items() if name != "source_file"})
