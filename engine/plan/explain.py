"""``lsm explain``: a plan printed step by step, with each step's location and SQL in a dialect.

A visitor over the typed steps: query steps print their statement; computed steps print what they
compute. Printed text is for people — descriptions are folded onto one comment line, so nothing a
model file says can start a line of SQL.

Example::

    print(explain(plan, "spark"))
"""

from __future__ import annotations

from engine.dialects import render
from engine.plan.steps import (
    BlockGuardStep,
    CluesStep,
    CrossGuardStep,
    FeaturesStep,
    LookupStep,
    ModelPlan,
    ParameterFitStep,
    QueryStep,
    Step,
)


def _comment(text: str) -> str:
    return " ".join(str(text).split())


def _details(step: Step, dialect: str) -> list[str]:
    """What a step does, as comment lines (before its SQL)."""
    if isinstance(step, CluesStep) and step.fanout_check:
        return [f"--   check: each {step.fanout_check} row appears at most once per subject"]
    if isinstance(step, BlockGuardStep):
        return [f"--   guard: block sizes of {_comment(step.rule_text)}; keys over {step.max_block_pairs:,} pairs "
                f"excluded, over {step.max_pairs:,} candidate pairs in all stops the model"]
    if isinstance(step, CrossGuardStep):
        return [f"--   guard: cross join {step.join} pairs at most {step.max_rows:,} rows"]
    return []


def _body(step: Step, dialect: str) -> str:
    if isinstance(step, QueryStep):
        return render(step.query, dialect, pretty=True) + ";"
    if isinstance(step, LookupStep):
        return f"-- {step.data.num_rows} rows: " + ", ".join(f"{f.name} {f.type}" for f in step.data.schema)
    if isinstance(step, FeaturesStep):
        scores = ", ".join(f"{r.kind}({r.left}, {r.right}) AS {r.column}" for r in step.requests)
        return f"-- computed: {step.source} + {scores}"
    if isinstance(step, ParameterFitStep):
        filters = [f"{side} WHERE {render(f, dialect)}" for side, f in
                   ((step.left, step.left_filter), (step.right, step.right_filter)) if f is not None]
        return (f"-- computed: m, u and weights of {', '.join(c.name for c in step.comparisons)} from "
                f"{step.levels} and {step.ulevels}; train {step.train}; prior "
                f"{'default' if step.prior is None else step.prior}" + (f"; {'; '.join(filters)}" if filters else ""))
    raise TypeError(f"no explanation for {type(step).__name__}")  # pragma: no cover - every step class is above


def explain(plan: ModelPlan, dialect: str = "duckdb") -> str:
    lines = [f"-- model {plan.model_id} v{_comment(plan.version)} ({_comment(plan.title_zh)})",
             f"-- fingerprint {plan.fingerprint} (metadata {plan.metadata_fingerprint})",
             f"-- datasets: {', '.join(plan.datasets)}", ""]
    for i, step in enumerate(plan.steps, 1):
        where = f"  [{step.location}]" if step.location else ""
        made = "view" if isinstance(step, QueryStep) and step.view else "table"
        lines.append(f"-- step {i}: {step.kind} {step.name} ({made}){where}")
        if step.description:
            lines.append(f"--   {_comment(step.description)}")
        lines += _details(step, dialect)
        lines.append(_body(step, dialect))
        lines.append("")
    return "\n".join(lines)
