"""Masking ID numbers in anything a reviewer without the right role sees: pages, logs, summaries.

``510104198001010014`` → ``510104********0014`` (the area code and the last four stay, so a
prosecutor can still tell two people apart); a 15-digit number keeps its area code and last
four too. Pure functions, no I/O.

Example::

    mask_ids("张伟 510104198001010014 领取低保")   # '张伟 510104********0014 领取低保'
"""

from __future__ import annotations

import re
from typing import Any

# An ID number wherever it stands in text — also right after or before letters (`监狱ID510104…号`):
# only digits around it end the match (a longer run of digits, such as a bank card, is not an ID).
ID_PATTERN = re.compile(r"(?<!\d)(\d{6})(\d{8})(\d{3}[\dXx])(?!\d)"
                        r"|(?<!\d)(\d{6})(\d{5})(\d{4})(?![\dXx])")


def mask_ids(text: str) -> str:
    """Mask every 18- or 15-character ID number in a text: keep the area code and last four."""

    def repl(m: re.Match) -> str:
        if m.group(1):
            return f"{m.group(1)}********{m.group(3)[-4:]}"
        return f"{m.group(4)}*****{m.group(6)}"

    return ID_PATTERN.sub(repl, text)


def mask_value(value: Any) -> Any:
    """``mask_ids`` through strings inside lists and dicts (e.g. a log record's fields)."""
    if isinstance(value, str):
        return mask_ids(value)
    if isinstance(value, dict):
        return {k: mask_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [mask_value(v) for v in value]
    return value


# Credit codes and other hand-typed identifiers too (data-quality examples, error messages).
ID_LIKE = re.compile(r"(?<![0-9A-Za-z])[0-9A-Za-z]{6}[0-9A-Za-z]{5,8}[0-9A-Za-z]{4}(?![0-9A-Za-z])")


def mask_id(value: object) -> str:
    """An ID number or credit code shown safely: the first 6 and last 4 characters (``510104********0019``)."""
    text = str(value)
    if len(text) < 10:
        return "*" * len(text)
    return f"{text[:6]}********{text[-4:]}"


def mask_text(text: str) -> str:
    """Mask every ID number, then every 15–18 character run of letters and digits that contains at least
    10 digits (credit codes and other hand-typed identifiers)."""

    def repl(m: re.Match) -> str:
        token = m.group(0)
        return mask_id(token) if sum(ch.isdigit() for ch in token) >= 10 else token

    return ID_LIKE.sub(repl, mask_ids(text))
