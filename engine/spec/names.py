"""The one grammar for every name a model or catalogue file can give that may reach SQL.

Relation, input, table and alias names; select/extend/values/carry/clue keys; comparison and
signal names; lookup-table columns; template and parameter names; dataset and column names of the
catalogue — all must be *names*: lower-case ASCII letters, digits and ``_``, starting with a letter,
at most 63 characters (PostgreSQL's and Spark's identifier limit). No analyst needs more, and a name
that cannot hold a quote, a semicolon, a space or a comment marker can never change the meaning of
the SQL it is embedded in (it is embedded as an identifier node anyway, never as text).

Titles, labels, descriptions and summaries are data: they only ever reach SQL as string literals.

Example::

    check_name("custody_periods")          # 'custody_periods'
    check_name("x; DROP TABLE y")          # ValueError with a readable message
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

NAME_PATTERN = r"[a-z][a-z0-9_]{0,62}"
MAX_NAME_LENGTH = 63
_NAME = re.compile(NAME_PATTERN)


def shown(value: object, limit: int = 40) -> str:
    """A user-given value as it may appear in a message: control characters escaped, cut short."""
    text = value if isinstance(value, str) else repr(value)
    text = text.encode("unicode_escape").decode("ascii") if any(ord(c) < 32 or c == "\x7f" for c in text) else text
    return text if len(text) <= limit else text[: limit - 1] + "…"


def is_name(value: object) -> bool:
    return isinstance(value, str) and _NAME.fullmatch(value) is not None


def name_problem(value: object, what: str = "name") -> str | None:
    """Why ``value`` is not a valid name (None when it is)."""
    if is_name(value):
        return None
    if not isinstance(value, str):
        return f"{what} must be text, not {type(value).__name__}"
    if len(value) > MAX_NAME_LENGTH:
        return f"{what} '{shown(value)}' is {len(value)} characters long; at most {MAX_NAME_LENGTH} are allowed"
    return (f"{what} '{shown(value)}' is not a valid name: use lower-case letters a-z, digits and _, "
            f"starting with a letter (e.g. custody_periods)")


def check_name(value: object, what: str = "name") -> str:
    problem = name_problem(value, what)
    if problem:
        raise ValueError(problem)
    return value  # type: ignore[return-value]


Name = Annotated[str, AfterValidator(check_name)]
