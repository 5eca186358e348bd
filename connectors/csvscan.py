"""A CSV file's bytes looked at before parsing: encoding, damaged lines, and what to hand the parser.

Agencies' exports go wrong in a few recurring ways, and each used to cost whole files:

* **An opening quote that never closes** makes a CSV parser read the rest of the file as one field.
  Quote parity per physical line is computed with numpy over the bytes (a record can only span
  lines where a quote is open); only the rare odd-parity lines are followed with the parser's own
  quoting rules. A record that does not close, or that closes with the wrong number of fields, or
  that swallows lines which are rows themselves, is damaged: its first line (and only it) is
  quarantined — "unclosed quote from line N" — and reading resumes at the next line.
* **Mixed encodings**: a UTF-8 file whose last lines were appended in GB18030. Lines that are not
  valid in the file's encoding are quarantined with their line numbers; the rest is read.
* **UTF-16** ("Unicode text" from Excel, often tab-separated) is converted to UTF-8; a UTF-8 BOM in
  front of GB18030 text is dropped. Both are reported as warnings.
* **NUL bytes** inside a line (binary garbage) make that line unreadable.

When nothing is wrong the parser reads the file itself; otherwise it reads the cleaned bytes, and
:func:`original_lines` maps its line numbers back to the file's. Only the exceptional lines are
handled in Python; every pass over the bytes is numpy.

Example::

    source = scan(Path("school_staff.csv"))
    source.encoding, [(d.line, d.reason) for d in source.damaged]
"""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa

from connectors.base import BrokenRow, ConnectorError
from connectors.sniff import CHUNK as UTF8_CHUNK
from connectors.sniff import valid_utf8

CHUNK = 64 << 20
MAX_RECORD_LINES = 1000  # a quoted cell spanning more lines than this is an unclosed quote
MAX_DAMAGED = 10_000  # beyond this many damaged lines the file is refused as a whole
DELIMITERS = (",", "\t", ";", "|")
QUOTE, NEWLINE, NUL = 0x22, 0x0A, 0x00


@dataclass
class CsvSource:
    """What the parser reads: the file itself (``data is None``) or cleaned bytes, and how."""

    path: Path
    encoding: str  # as recorded in the manifest: utf-8 | utf-8-sig | gb18030 | utf-16-le | utf-16-be
    parse_encoding: str  # what the parser decodes: utf8 | gb18030
    data: bytes | None = None
    skip_rows: int = 0  # lines before the first data record in the parsed stream (blank lines, header)
    removed: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # 1-based lines left out
    damaged: list[BrokenRow] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def open(self):
        return pa.BufferReader(self.data) if self.data is not None else str(self.path)

    def original_lines(self, lines: np.ndarray) -> np.ndarray:
        """Line numbers of the parsed stream → line numbers of the file (lines were left out)."""
        if not len(self.removed):
            return lines
        shifted = self.removed - np.arange(len(self.removed))
        return lines + np.searchsorted(shifted, lines, side="right")


# --------------------------------------------------------------------------- bytes


def _line_ends(buffer) -> np.ndarray:
    """Positions of every newline byte, chunk by chunk (no copy of the file)."""
    view = np.frombuffer(buffer, dtype=np.uint8)
    parts = [np.flatnonzero(view[i:i + CHUNK] == NEWLINE) + i for i in range(0, len(view), CHUNK)]
    return np.concatenate(parts) if parts else np.zeros(0, np.int64)


def _lines_with(buffer, ends: np.ndarray, byte: int, odd_only: bool) -> np.ndarray:
    """0-based lines holding ``byte`` (an odd number of times, with ``odd_only``). Per chunk only the
    lines are kept, never every position (a file that quotes every cell has hundreds of millions)."""
    view = np.frombuffer(buffer, dtype=np.uint8)
    found = []
    for i in range(0, len(view), CHUNK):
        hits = np.flatnonzero(view[i:i + CHUNK] == byte) + i
        if not len(hits):
            continue
        lines, counts = np.unique(np.searchsorted(ends, hits, side="left"), return_counts=True)
        found.append(lines[counts % 2 == 1] if odd_only else lines)
    if not found:
        return np.zeros(0, np.int64)
    lines = np.concatenate(found)
    if not odd_only:
        return np.unique(lines)
    values, counts = np.unique(lines, return_counts=True)  # a line cut by a chunk boundary: parities add
    return values[counts % 2 == 1]


class _Lines:
    """Random access to the physical lines of a buffer (0-based), as bytes."""

    def __init__(self, buffer, ends: np.ndarray):
        self.buffer, self.ends = buffer, ends
        size = len(buffer)
        self.count = len(ends) + (1 if size and (not len(ends) or ends[-1] != size - 1) else 0)

    def span(self, i: int) -> tuple[int, int]:
        start = int(self.ends[i - 1]) + 1 if i > 0 else 0
        end = int(self.ends[i]) if i < len(self.ends) else len(self.buffer)
        return start, end

    def raw(self, i: int) -> bytes:
        start, end = self.span(i)
        return bytes(self.buffer[start:end])

    def text(self, i: int, encoding: str) -> str:
        return self.raw(i).decode(encoding, errors="replace").rstrip("\r")


# --------------------------------------------------------------------------- encodings


def _utf8_invalid_lines(buffer, lines: _Lines, first: int = 0, last: int | None = None) -> list[int]:
    """0-based lines that are not valid UTF-8: Arrow's validator over halves of the range, down to a
    few lines (a file with a handful of bad lines costs a few passes, never a Python loop per line)."""
    last = lines.count - 1 if last is None else last
    if first > last:
        return []
    start, end = lines.span(first)[0], lines.span(last)[1]
    if valid_utf8(bytes(buffer[start:end])):
        return []
    if last - first < 32:
        return [i for i in range(first, last + 1) if not valid_utf8(lines.raw(i))]
    middle = (first + last) // 2
    return _utf8_invalid_lines(buffer, lines, first, middle) + _utf8_invalid_lines(buffer, lines, middle + 1, last)


def _mostly_utf8(lines: _Lines, non_ascii: np.ndarray) -> bool:
    """Are most lines with non-ASCII bytes valid UTF-8? (A sample of up to 2,000 of them.)"""
    if not len(non_ascii):
        return True
    sample = non_ascii[np.linspace(0, len(non_ascii) - 1, min(2000, len(non_ascii))).astype(np.int64)]
    valid = sum(valid_utf8(lines.raw(int(i))) for i in sample)
    return valid * 2 > len(sample)


def _is_utf8(buffer) -> bool:
    """The whole buffer valid UTF-8? (Arrow's validator, in slices cut after a newline.)"""
    position, size = 0, len(buffer)
    while position < size:
        stop = min(size, position + UTF8_CHUNK)
        if stop < size:
            cut = bytes(buffer[stop - 4096:stop]).rfind(b"\n")
            stop = stop - 4096 + cut + 1 if cut >= 0 else stop
        if not valid_utf8(bytes(buffer[position:stop])):
            return False
        position = stop
    return True


def _undecodable_lines(buffer, lines: _Lines, encoding: str, limit: int) -> list[int]:
    """0-based lines that ``encoding`` cannot decode, found by decoding in large slices (C speed)."""
    bad: list[int] = []
    position, size = 0, len(buffer)
    while position < size and len(bad) <= limit:
        stop = min(size, position + CHUNK)
        if stop < size:
            cut = bytes(buffer[position:stop]).rfind(b"\n")
            stop = position + cut + 1 if cut >= 0 else stop
        try:
            bytes(buffer[position:stop]).decode(encoding)
            position = stop
        except UnicodeDecodeError as exc:
            line = int(np.searchsorted(lines.ends, position + exc.start, side="left"))
            bad.append(line)
            position = lines.span(line)[1] + 1
    return bad


def _choose_encoding(buffer, lines: _Lines, source: CsvSource) -> tuple[list[int], str]:
    """The file's encoding, and the 0-based lines it cannot decode (to be quarantined)."""
    if _is_utf8(buffer):
        return [], "utf8"
    view = np.frombuffer(buffer, dtype=np.uint8)
    non_ascii = _lines_with_high_bytes(view, lines.ends)
    if _mostly_utf8(lines, non_ascii):  # mostly UTF-8: the odd lines out are damage
        invalid = _utf8_invalid_lines(buffer, lines)
        if len(invalid) > MAX_DAMAGED:
            raise ConnectorError(f"{source.path}: {len(invalid):,} lines are not UTF-8 text although most are; "
                                 f"export the file again in one encoding")
        source.warnings.append(f"{len(invalid)} line(s) are not UTF-8 text although the rest of the file is "
                               f"(mixed encodings?); they are quarantined")
        return invalid, "utf8"
    bad = _undecodable_lines(buffer, lines, "gb18030", MAX_DAMAGED)
    if len(bad) > MAX_DAMAGED or len(bad) * 2 >= max(len(non_ascii), 1):
        where = ", ".join(str(i + 1) for i in bad[:5])
        raise ConnectorError(f"{source.path}: the file is neither UTF-8 nor GB18030/GBK text (lines {where} … cannot "
                             f"be decoded); export it again as UTF-8 or GB18030 CSV")
    source.encoding = "gb18030"
    if bad:
        source.warnings.append(f"{len(bad)} line(s) are not GB18030 text although the rest of the file is "
                               f"(mixed encodings?); they are quarantined")
    return bad, "gb18030"


def _lines_with_high_bytes(view: np.ndarray, ends: np.ndarray) -> np.ndarray:
    found = []
    for i in range(0, len(view), CHUNK):
        hits = np.flatnonzero(view[i:i + CHUNK] >= 0x80) + i
        if len(hits):
            found.append(np.unique(np.searchsorted(ends, hits, side="left")))
    return np.unique(np.concatenate(found)) if found else np.zeros(0, np.int64)


# --------------------------------------------------------------------------- quotes


def _record_end(lines: _Lines, first: int, encoding: str, delimiter: str, count: int) -> tuple[int | None, int]:
    """Follow the parser's quoting rules from the start of line ``first``: the 0-based line where the
    record ends and its number of fields (None when it does not end within MAX_RECORD_LINES)."""
    state, fields = "start", 1
    for line in range(first, min(first + MAX_RECORD_LINES, count)):
        for ch in lines.text(line, encoding):
            if state == "quoted":
                state = "quote" if ch == '"' else "quoted"
            elif ch == delimiter and state != "quoted":
                state, fields = "start", fields + 1
            elif state == "start" or state == "quote":
                state = "quoted" if ch == '"' else "plain"
        if state != "quoted":
            return line, fields
    return None, fields


def _damaged_quotes(lines: _Lines, odd: np.ndarray, after: int, encoding: str, delimiter: str,
                    n_fields: int) -> list[int]:
    """0-based lines where a quote opens a record that never properly closes."""
    damaged: list[int] = []
    resume = after
    for line in (int(o) for o in odd):
        if line < resume:
            continue  # inside a record already read
        end, fields = _record_end(lines, line, encoding, delimiter, lines.count)
        if end == line:
            continue  # a stray quote inside a field: the parser takes it literally
        swallowed = end is not None and any(
            lines.text(i, encoding).count(delimiter) == n_fields - 1 for i in range(line + 1, end)) and n_fields >= 3
        if end is None or fields != n_fields or swallowed:
            damaged.append(line)
            resume = line + 1
        else:
            resume = end + 1
        if len(damaged) > MAX_DAMAGED:
            break
    return damaged


# --------------------------------------------------------------------------- the scan


def _transcode(data: bytes, path: Path, source: CsvSource) -> bytes:
    """UTF-16 with a BOM → UTF-8; the manifest keeps the file's own encoding."""
    big = data.startswith(codecs.BOM_UTF16_BE)
    source.encoding = "utf-16-be" if big else "utf-16-le"
    try:
        text = data.decode("utf-16")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].decode("utf-16", errors="replace").count("\n") + 1
        raise ConnectorError(f"{path}: UTF-16 text that cannot be decoded from line {line} on; export it again "
                             f"as UTF-8 CSV") from None
    source.warnings.append("UTF-16 text (Excel \u201cUnicode text\u201d) read as UTF-16 and converted to UTF-8")
    return text.encode("utf-8")


def scan(path: Path, delimiter_hint: str | None = None) -> tuple[CsvSource, list[str], str]:
    """Look at a CSV file's bytes; returns what to parse, the header cells and the delimiter."""
    with open(path, "rb") as fh:
        head = fh.read(4)
    source = CsvSource(path, "utf-8", "utf8")
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _scan_buffer(_transcode(path.read_bytes(), path, source), source, transcoded=True)
    if not path.stat().st_size:
        return _scan_buffer(b"", source)
    return _scan_buffer(np.memmap(path, dtype=np.uint8, mode="r"), source)  # mapped, never copied whole


def _scan_buffer(buffer, source: CsvSource, transcoded: bool = False) -> tuple[CsvSource, list[str], str]:
    skip = 3 if bytes(buffer[:3]) == codecs.BOM_UTF8 else 0
    body = memoryview(buffer)[skip:]
    ends = _line_ends(body)
    lines = _Lines(body, ends)
    bad, parse_encoding = _choose_encoding(body, lines, source) if lines.count else ([], "utf8")
    source.parse_encoding = parse_encoding
    if skip and not transcoded:
        if parse_encoding == "utf8":
            source.encoding = "utf-8-sig"
        else:
            source.warnings.append("a UTF-8 byte-order mark stands in front of GB18030 text; it was dropped")
    unreadable = set(bad)
    header_line = next((i for i in range(lines.count)
                        if i not in unreadable and lines.text(i, parse_encoding).strip()), None)
    if header_line is None:
        return source, [], ","
    header_text = lines.text(header_line, parse_encoding)
    counts = {d: header_text.count(d) for d in DELIMITERS}
    delimiter = max(DELIMITERS, key=lambda d: counts[d]) if any(counts.values()) else ","
    header = next(csv.reader(io.StringIO(header_text), delimiter=delimiter))
    damaged = {i: "该行不是文件所用的编码 / the line is not in the file's encoding (mixed encodings)"
               for i in bad if i > header_line}
    for i in _lines_with(body, ends, NUL, odd_only=False):
        if i > header_line:
            damaged.setdefault(int(i), "该行含有 NUL 字节（二进制数据）/ the line holds a NUL byte (binary data)")
    odd = _lines_with(body, ends, QUOTE, odd_only=True)
    odd = odd[~np.isin(odd, list(damaged))] if damaged and len(odd) else odd
    for i in _damaged_quotes(lines, odd, header_line + 1, parse_encoding, delimiter, len(header)):
        damaged.setdefault(i, f"第 {i + 1} 行起的引号未闭合 / unclosed quote from line {i + 1}")
    if len(damaged) > MAX_DAMAGED:
        raise ConnectorError(f"{source.path}: more than {MAX_DAMAGED:,} damaged lines (unclosed quotes, NUL bytes "
                             f"or another encoding); export the file again")
    left_out = sorted(set(damaged) | {i for i in unreadable if i < header_line})
    source.skip_rows = header_line + 1 - sum(1 for i in left_out if i < header_line)
    if left_out or transcoded or (skip and parse_encoding != "utf8"):
        source.data = _without_lines(body, lines, left_out)
        source.removed = np.array([i + 1 for i in left_out], np.int64)
        other = "gb18030" if parse_encoding == "utf8" else "utf8"  # a line of the other encoding, shown readably
        source.damaged = [BrokenRow(i + 1, lines.text(i, other if i in unreadable else parse_encoding), reason)
                          for i, reason in sorted(damaged.items())]
    return source, header, delimiter


def _without_lines(body, lines: _Lines, removed: list[int]) -> bytes:
    """The bytes with the given 0-based lines (and their newlines) left out."""
    if not removed:
        return bytes(body)
    parts, position = [], 0
    for line in removed:
        start, end = lines.span(line)
        parts.append(body[position:start])
        position = end + 1
    parts.append(body[position:])
    return b"".join(parts)
