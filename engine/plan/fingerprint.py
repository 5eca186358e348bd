"""A model's two fingerprints: what changes its results, and what does not.

* :func:`plan_fingerprint` hashes the compiled plan — every step's class, name, SQL and parameters,
  the lookup tables' rows, the rules — with the run's as-of date left out (the cache keys on it
  separately). Editing an expression, a threshold or a lookup row changes it; the model cache and
  the history see a new model.
* :func:`text_fingerprint` hashes everything the analyst wrote (the model file and its template):
  a changed title, description or test changes it, and only it.

Example::

    plan.fingerprint, plan.metadata_fingerprint
"""

from __future__ import annotations

import dataclasses
import hashlib
import json

import pyarrow as pa
from sqlglot import exp

from engine.plan.steps import LookupStep, ModelPlan, QueryStep, Step

AS_OF_MARK = "lsm_as_of"  # meta key on the literal the compiler makes of as_of()


def _without_as_of(tree: exp.Expression) -> exp.Expression:
    return tree.transform(lambda n: exp.Anonymous(this="as_of", expressions=[]) if n.meta.get(AS_OF_MARK) else n)


def _value(value):
    if isinstance(value, exp.Expression):
        return _without_as_of(value).sql("duckdb")
    if isinstance(value, pa.Table):
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, value.schema) as writer:
            writer.write_table(value)
        return hashlib.sha256(sink.getvalue().to_pybytes()).hexdigest()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _value(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [_value(v) for v in value]
    return value


def _step_content(step: Step) -> dict:
    content = {f.name: _value(getattr(step, f.name)) for f in dataclasses.fields(step)
               if f.name not in ("description", "location")}
    content["class"] = type(step).__name__
    if isinstance(step, QueryStep | LookupStep):
        content["made"] = "view" if getattr(step, "view", False) else "table"
    return content


def plan_fingerprint(plan: ModelPlan) -> str:
    payload = {"model": plan.model_id, "datasets": plan.datasets, "rules": [[r.rule_id, r.subject_type, r.output] for r in plan.rules],
               "steps": [_step_content(s) for s in plan.steps]}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str).encode()
                          ).hexdigest()[:16]


def text_fingerprint(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]
