"""Whole-array helpers for building text columns (Arrow, numpy): no Python loop over rows.

Example::

    serials("YLB", np.arange(3), 9)                  # YLB000000000, YLB000000001, YLB000000002
    join(pa.array(["张"]), "某")                      # 张某
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def ascii_strings(codes: np.ndarray) -> pa.Array:
    """An (n, width) uint8 matrix of ASCII codes → an Arrow string array (no Python loop)."""
    n, width = codes.shape
    data = pa.py_buffer(np.ascontiguousarray(codes, dtype=np.uint8).tobytes())
    return pa.Array.from_buffers(pa.binary(width), n, [None, data]).cast(pa.binary()).cast(pa.string())


def digit_codes(values: np.ndarray, width: int) -> np.ndarray:
    """ASCII codes of the decimal digits of integers that all have ``width`` digits: shape (n, width)."""
    text = pa.array(values, pa.int64()).cast(pa.string())
    codes = np.frombuffer(text.buffers()[2], dtype=np.uint8, count=len(values) * width, offset=text.offset)
    return codes.reshape(len(values), width)


def serials(prefix: str, index: np.ndarray, width: int) -> pa.Array:
    """Distinct record numbers such as ``YLB000000042``: an ASCII prefix and the zero-padded index."""
    head = np.frombuffer(prefix.encode("ascii"), dtype=np.uint8)
    out = np.empty((len(index), len(head) + width), dtype=np.uint8)
    out[:, :len(head)] = head
    out[:, len(head):] = digit_codes(10**width + index, width + 1)[:, 1:]
    return ascii_strings(out)


def join(*parts) -> pa.Array:
    """Element-wise concatenation of string arrays (numpy or Arrow) and plain strings."""
    return pc.binary_join_element_wise(*[pa.array(p) if isinstance(p, np.ndarray) else p for p in parts], "")


def concat(*columns) -> pa.ChunkedArray:
    """Arrays or chunked arrays of one type, one after the other."""
    return pa.chunked_array([c for column in columns
                             for c in (column.chunks if isinstance(column, pa.ChunkedArray) else [column])])


def years(days: np.ndarray) -> pa.Array:
    """The year of each date (datetime64[D]) as text."""
    return pa.array(days.astype("datetime64[Y]").astype(np.int64) + 1970).cast(pa.string())


def nulls_where(mask: np.ndarray, values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """``values`` with empty cells where ``mask`` is true."""
    return pc.if_else(pa.array(mask), pa.scalar(None, values.type), values)
