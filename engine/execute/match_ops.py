"""What a backend computes around the SQL of a match: the guards' checks, features, parameters.

Each function takes a backend (``rows``/``fetch`` of a query AST, ``create_from_arrow``) and the
typed step, and creates the step's table or checks the guard's table; the block guard also
returns the funnel numbers it measured. Every query is an AST, never SQL text, so these work on
any backend. Heavy work stays columnar: aggregates in the database, Arrow tables, rapidfuzz batch
scores, numpy over level patterns.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from sqlglot import exp

from engine.execute.features import compute
from engine.execute.params import ComparisonParams, default_prior, em, prior_weight, u_from_counts
from engine.plan.steps import BlockGuardStep, CrossGuardStep, FeaturesStep, ParameterFitStep
from engine.sql import count_rows, select_all, table_ref


class MatchExplosion(Exception):
    """Blocking would produce more candidate pairs than allowed."""


def _product() -> exp.Expression:
    return exp.Mul(this=exp.column("n_left"), expression=exp.column("n_right"))


def _oversized(limit: int) -> exp.Expression:
    return exp.GT(this=_product(), expression=exp.Literal.number(limit))


def block_guard(backend, step: BlockGuardStep) -> dict:
    """Report oversized blocks (they are excluded) and stop when the pairs would still explode."""
    table, keys, limit = step.name, step.keys, step.max_block_pairs
    zero = exp.Literal.number(0)
    totals = exp.select(
        exp.Coalesce(this=exp.Sum(this=_product()), expressions=[zero]),
        exp.Coalesce(this=exp.Filter(this=exp.Sum(this=_product()), expression=exp.Where(this=_oversized(limit))),
                     expressions=[zero.copy()]),
        exp.Filter(this=exp.Count(this=exp.Star()), expression=exp.Where(this=_oversized(limit)))).from_(
        table_ref(table))
    total, excluded_pairs, excluded = backend.rows(totals)[0]
    examples = backend.rows(exp.select(*[exp.column(k) for k in keys], "n_left", "n_right").from_(table_ref(table))
                            .where(_oversized(limit)).order_by(exp.Ordered(this=_product(), desc=True)).limit(5))
    kept = int(total) - int(excluded_pairs)
    report = {"rule": step.rule_text, "candidate_pairs": kept, "excluded_keys": int(excluded),
              "excluded_pairs": int(excluded_pairs),
              "excluded_examples": [{"key": _mask("|".join(str(v) for v in row[:len(keys)])),
                                     "left": row[-2], "right": row[-1]} for row in examples]}
    if kept > step.max_pairs:
        raise MatchExplosion(
            f"match {step.match}: blocking rule {step.rule_text} would produce {kept:,} candidate "
            f"pairs (limit max_pairs = {step.max_pairs:,}); use a more selective blocking key")
    return report


def cross_guard(backend, step: CrossGuardStep) -> dict:
    """Stop a model whose declared cross join would pair more rows than its ``max_rows``."""
    pairs = int(backend.rows(select_all(step.name))[0][0] or 0)
    if pairs > step.max_rows:
        raise MatchExplosion(f"cross join {step.join} would pair {pairs:,} rows (max_rows = "
                             f"{step.max_rows:,}); compare columns in 'on' or raise max_rows")
    return {"join": step.join, "pairs": pairs}


def _mask(text: str) -> str:
    """Keys may be ID numbers: keep them out of reports in full."""
    if len(text) >= 15 and sum(ch.isdigit() for ch in text) >= 14:
        return text[:6] + "*" * (len(text) - 10) + text[-4:]
    return text


def features(backend, step: FeaturesStep) -> None:
    pairs = backend.fetch(select_all(step.source))
    backend.create_from_arrow(step.name, compute(pairs, list(step.requests)))


def params(backend, step: ParameterFitStep) -> dict:
    """m, u, weights per comparison level and the prior's weight, as a table; returns a summary."""
    rows = []
    fitted: list[ComparisonParams] = []
    for comparison in step.comparisons:
        levels = list(comparison.levels)
        level = exp.column(f"{comparison.name}_level")
        counts = dict(backend.rows(exp.select(level, exp.Sum(this=exp.column("n"))).from_(
            table_ref(step.ulevels)).group_by(level.copy())))
        fitted.append(ComparisonParams(comparison.name, levels, dict(comparison.m), u_from_counts(levels, counts),
                                       dict(comparison.labels)))
    n_left = backend.rows(count_rows(step.left, step.left_alias, step.left_filter))[0][0]
    n_right = backend.rows(count_rows(step.right, step.right_alias, step.right_filter))[0][0]
    prior = step.prior if step.prior is not None else default_prior(n_left, n_right)
    trained_share = None
    u_random = {c.name: dict(c.u) for c in fitted}
    if step.train == "em" and fitted:
        columns = [exp.column(f"{c.name}_level") for c in fitted]
        pattern_rows = backend.rows(exp.select(*columns, exp.Count(this=exp.Star())).from_(
            table_ref(step.levels)).group_by(*[c.copy() for c in columns]))
        if pattern_rows:
            index = [{lv: i for i, lv in enumerate(c.levels)} for c in fitted]
            patterns = np.array([[index[k].get(row[k], -1) for k in range(len(fitted))] for row in pattern_rows])
            counts = np.array([row[-1] for row in pattern_rows], dtype=float)
            m0 = [np.array([c.m[lv] for lv in c.levels]) for c in fitted]
            # u starts from the level frequencies among the candidate pairs (almost all of them non-matches).
            u0 = []
            for k, c in enumerate(fitted):
                present = patterns[:, k] >= 0
                freq = np.bincount(patterns[present, k], weights=counts[present], minlength=len(c.levels))
                u0.append(np.maximum(freq / max(freq.sum(), 1.0), 1e-9))
            # Each record links at most once: the share of matches among the pairs is bounded.
            bound = min(0.5, max(min(n_left, n_right), 1) / max(float(counts.sum()), 1.0))
            m_trained, u_trained, trained_share = em(patterns, counts, m0, u0, prior=bound, max_share=bound,
                                                     train_u=True)
            for c, mk, uk in zip(fitted, m_trained, u_trained, strict=True):
                c.m = {lv: float(v) for lv, v in zip(c.levels, mk, strict=True)}
                c.u = {lv: float(v) for lv, v in zip(c.levels, uk, strict=True)}
            prior = trained_share  # probabilities are now conditional on being a candidate pair
    for c in fitted:
        for level in c.levels:
            rows.append({"comparison": c.name, "level": level, "m": c.m[level], "u": c.u[level],
                         "u_random": u_random[c.name][level], "weight": c.weight(level),
                         "label": c.labels.get(level, "不一致")})
    rows.append({"comparison": "_prior", "level": "", "m": prior, "u": None, "u_random": None,
                 "weight": prior_weight(prior), "label": "先验"})
    table = pa.Table.from_pylist(rows, schema=pa.schema([("comparison", pa.string()), ("level", pa.string()),
                                                          ("m", pa.float64()), ("u", pa.float64()),
                                                          ("u_random", pa.float64()), ("weight", pa.float64()),
                                                          ("label", pa.string())]))
    backend.create_from_arrow(step.name, table)
    return {"left_records": n_left, "right_records": n_right, "prior": prior, "trained_match_share": trained_share}
