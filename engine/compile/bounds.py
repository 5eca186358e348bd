"""Resource bounds of a model expression, found without evaluating it.

An expression the sandbox allows can still exhaust the machine before any data is read: nested
``replace`` calls multiply a string's length (ten of them turn ``'a'`` into 10 GB while DuckDB
folds the constant — its memory limit does not cover that), and an edit distance over two long
built strings runs for minutes. DuckDB cannot be trusted to stop either, so they are refused here,
at validation, with the expression's location.

:func:`text_bound` gives an upper bound on the length of the text (or list) each node can produce:
literals count their characters, a column is assumed to hold at most :data:`CELL` characters,
concatenation adds, ``replace`` multiplies by the growth of one replacement. A sub-expression
that reads no column is constant: it may build at most :data:`MAX_CONSTANT` characters. Any
expression may build at most :data:`MAX_VALUE` per row, and a pairwise string distance may cost
at most :data:`MAX_DISTANCE_COST` character pairs per row.

Example::

    check_bounds(parse("length(replace('a', 'a', 'aaaaaaaaaa')) > 0"))      # fine
    check_bounds(parse("levenshtein(repeat_like, …)"))                         # BoundError
"""

from __future__ import annotations

from sqlglot import exp

CELL = 4096  # characters a column value is assumed to hold (agency cells are far shorter)
MAX_CONSTANT = 1 << 20  # a literal or a built constant string: 1 MB
MAX_VALUE = 64 << 20  # what one expression may build per row from its inputs
MAX_DISTANCE_COST = 100_000_000  # character pairs one edit distance may compare per row
MAX_EXPRESSION_TEXT = 100_000  # characters of one expression as written
AGGREGATED = 1 << 20  # an aggregate's text (string_agg, list) is data-sized; counted as 1 MB
DISTANCES = {"levenshtein", "damerau_levenshtein", "jaro_winkler_similarity", "jarowinkler_similarity",
             "jaro_similarity", "hamming", "mismatches", "jaccard"}


class BoundError(Exception):
    """An expression that could build too large a value or cost too much; the message says which part
    (and ``offset`` where it starts in the expression's text)."""

    def __init__(self, message: str, offset: int | None = None):
        super().__init__(message)
        self.offset = offset


def _start(node: exp.Expression) -> int | None:
    starts = [n.meta["start"] for n in node.walk() if "start" in n.meta]
    return min(starts) if starts else None


def _literal_text(node: exp.Expression) -> str | None:
    return node.this if isinstance(node, exp.Literal) and node.is_string else None


def _function_name(node: exp.Expression) -> str:
    return node.name.lower() if isinstance(node, exp.Anonymous) else node.key.lower()


def _arguments(node: exp.Expression) -> list[exp.Expression]:
    return [c for c in node.iter_expressions() if not isinstance(c, (exp.DataType, exp.Var))]


class _Measure:
    """Bounds of every node of one tree, computed once, children before parents."""

    def __init__(self, tree: exp.Expression):
        self.size: dict[int, int] = {}
        self.constant: dict[int, bool] = {}
        for node in reversed(list(tree.walk(bfs=False))):
            children = _arguments(node)
            self.constant[id(node)] = not isinstance(node, exp.Column) and all(
                self.constant[id(c)] for c in children)
            self.size[id(node)] = self._bound(node, children)

    def _bound(self, node: exp.Expression, children: list[exp.Expression]) -> int:
        if isinstance(node, exp.Literal):
            return len(str(node.this))
        if isinstance(node, (exp.Null, exp.Boolean)):
            return 5
        if isinstance(node, exp.Column):
            return CELL
        if isinstance(node, (exp.AggFunc, exp.GroupConcat, exp.ArrayAgg)):
            return AGGREGATED
        if isinstance(node, exp.Replace):
            pattern = _literal_text(node.expression)
            replacement = self.size[id(node.args["replacement"])] if node.args.get("replacement") else 0
            shortest = max(len(pattern), 1) if pattern else 1
            growth = max(1, -(-replacement // shortest))  # each occurrence grows by at most this factor
            return self.size[id(node.this)] * growth
        if isinstance(node, (exp.Concat, exp.ConcatWs, exp.DPipe, exp.Array, exp.Struct, exp.Tuple, exp.Anonymous,
                             exp.Case, exp.If, exp.Coalesce, exp.Flatten)):
            return sum(self.size[id(c)] for c in children)
        return max((self.size[id(c)] for c in children), default=0)


def text_bound(node: exp.Expression) -> int:
    """An upper bound on the characters (or list elements) ``node`` can produce for one row."""
    return _Measure(node).size[id(node)]


def check_bounds(tree: exp.Expression) -> None:
    """Raise BoundError for the first part of ``tree`` that could exhaust memory or time."""
    measure = _Measure(tree)
    for node in reversed(list(tree.walk(bfs=False))):  # innermost first: the message names the culprit
        size = measure.size[id(node)]
        if isinstance(node, exp.Literal) and size > MAX_CONSTANT:
            raise BoundError(f"a literal of {size:,} characters is longer than the {MAX_CONSTANT:,} allowed; "
                             f"put large values in a lookup table or a dataset", _start(node))
        if isinstance(node, (exp.Column, exp.Literal, exp.Identifier)):
            continue
        if measure.constant[id(node)] and size > MAX_CONSTANT:
            raise BoundError(f"'{_short(node)}' builds a constant of up to {size:,} characters "
                             f"(at most {MAX_CONSTANT:,} allowed)", _start(node))
        if size > MAX_VALUE:
            raise BoundError(f"'{_short(node)}' can build up to {size:,} characters per row "
                             f"(at most {MAX_VALUE:,} allowed): nested replace() multiplies lengths", _start(node))
        if _function_name(node) in DISTANCES or isinstance(node, (exp.Levenshtein, exp.JarowinklerSimilarity)):
            arguments = _arguments(node)[:2]
            if len(arguments) == 2:
                a, b = measure.size[id(arguments[0])], measure.size[id(arguments[1])]
                if a * b > MAX_DISTANCE_COST:
                    raise BoundError(f"'{_short(node)}' compares strings of up to {a:,} × {b:,} characters per "
                                     f"row (at most {MAX_DISTANCE_COST:,} character pairs allowed)", _start(node))


def _short(node: exp.Expression) -> str:
    text = node.sql("duckdb")
    return text if len(text) <= 60 else text[:59] + "…"
