"""Link two arbitrary tables with a match spec — the same steps a model's ``match`` relation runs.

For notebooks, benchmarks and tests: any two Arrow tables (with or without
``_rid``) are registered in DuckDB, the match is compiled by the model
compiler (:mod:`engine.compile.matches`) and executed by the DuckDB
backend. The result holds every scored candidate pair, the accepted links and
the funnel (records → candidate pairs → links, excluded blocking keys).

Example::

    result = link(left, right, {"left": "a", "right": "b", "block": ["birth_date"],
                                "compare": [{"field": "person_name", "method": "name_zh"}]})
    result.links.to_pylist()
"""

from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import pyarrow as pa

from engine.compile.compiler import Compiler, ObjectInfo
from engine.compile.matches import compile_match
from engine.execute.duckdb_backend import DuckDBBackend
from engine.spec.errors import SpecError
from engine.spec.model import MatchSpec
from engine.spec.yamlfile import LocatedDocument
from engine.sql import count_rows


@dataclass
class LinkResult:
    scored: pa.Table  # every candidate pair: values, levels, weights, match_probability
    links: pa.Table  # the accepted links: _rid (left), selected columns, match_probability, _match
    params: pa.Table  # m, u and weight per comparison level, and the prior
    funnel: dict = field(default_factory=dict)


def _with_rid(table: pa.Table) -> pa.Table:
    if "_rid" in table.column_names:
        return table
    return table.append_column("_rid", pa.array(range(1, table.num_rows + 1), pa.int64()))


def link(left: pa.Table, right: pa.Table, spec: MatchSpec | dict, *, as_of: dt.date | None = None,
         threads: int | None = None) -> LinkResult:
    """Run one match between two tables; raises SpecError for a wrong spec (with the problem text)."""
    spec = spec if isinstance(spec, MatchSpec) else MatchSpec.model_validate(spec)
    doc = LocatedDocument("<link>", {})
    compiler = Compiler(SimpleNamespace(spec=SimpleNamespace(id="link"), doc=doc), None, as_of or dt.date.today())
    left, right = _with_rid(left), _with_rid(right)
    compiler.objects[spec.left] = ObjectInfo(spec.left, "relation", "link_left", list(left.column_names))
    compiler.objects[spec.right] = ObjectInfo(spec.right, "relation", "link_right", list(right.column_names))
    compile_match(compiler, "m", spec, ("match",))
    if compiler.problems:
        raise SpecError(compiler.problems)
    with tempfile.TemporaryDirectory(prefix="lsm-link-") as tmp:
        backend = DuckDBBackend.in_memory(Path(tmp), threads=threads)
        try:
            backend.create_from_arrow("link_left", left)
            backend.create_from_arrow("link_right", right)
            backend.seal()
            funnels: dict = {}
            for step in compiler.steps:
                backend.run_step(step, funnels)
            stem = "m_link__m"
            funnel = funnels.get("m", {})
            funnel.pop("_stem", None)
            funnel["candidate_pairs"] = backend.rows(count_rows(f"{stem}__pairs"))[0][0]
            links = backend.table(stem)
            funnel["links"] = links.num_rows
            return LinkResult(backend.table(f"{stem}__scored"), links, backend.table(f"{stem}__params"), funnel)
        finally:
            backend.close()
