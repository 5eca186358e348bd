"""The python steps of a match, run by the DuckDB backend: block guard, features, parameters.

Each takes the backend's connection and the step's ``operation`` (plain data
from the plan) and creates the step's table; the guard also returns the
funnel numbers it measured. Heavy work stays columnar: DuckDB aggregates,
Arrow tables, rapidfuzz batch scores, numpy over level patterns.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from engine.match.comparators import levels_for, m_probabilities
from engine.match.features import FeatureRequest, compute
from engine.match.params import ComparisonParams, default_prior, em, prior_weight, u_from_counts


class MatchExplosion(Exception):
    """Blocking would produce more candidate pairs than allowed."""


def block_guard(con, table: str, operation: dict) -> dict:
    """Report oversized blocks (they are excluded) and stop when the pairs would still explode."""
    keys = operation["keys"]
    limit = operation["max_block_pairs"]
    total, excluded_pairs, excluded = con.execute(
        f"SELECT coalesce(sum(n_left * n_right), 0), "
        f"coalesce(sum(n_left * n_right) FILTER (WHERE n_left * n_right > $m), 0), "
        f"count(*) FILTER (WHERE n_left * n_right > $m) FROM {table}", {"m": limit}).fetchall()[0]
    examples = con.execute(
        f"SELECT {', '.join(keys)}, n_left, n_right FROM {table} WHERE n_left * n_right > $m "
        f"ORDER BY n_left * n_right DESC LIMIT 5", {"m": limit}).fetchall()
    kept = int(total) - int(excluded_pairs)
    report = {"rule": operation["rule_text"], "candidate_pairs": kept, "excluded_keys": int(excluded),
              "excluded_pairs": int(excluded_pairs),
              "excluded_examples": [{"key": _mask("|".join(str(v) for v in row[:len(keys)])),
                                     "left": row[-2], "right": row[-1]} for row in examples]}
    if kept > operation["max_pairs"]:
        raise MatchExplosion(
            f"match {operation['match']}: blocking rule {operation['rule_text']} would produce {kept:,} candidate "
            f"pairs (limit max_pairs = {operation['max_pairs']:,}); use a more selective blocking key")
    return report


def _mask(text: str) -> str:
    """Keys may be ID numbers: keep them out of reports in full."""
    if len(text) >= 15 and sum(ch.isdigit() for ch in text) >= 14:
        return text[:6] + "*" * (len(text) - 10) + text[-4:]
    return text


def features(con, target: str, operation: dict) -> None:
    pairs = con.sql(f"SELECT * FROM {operation['source']}").to_arrow_table()
    out = compute(pairs, [FeatureRequest(**r) for r in operation["requests"]])
    con.register("_features_out", out)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {target} AS SELECT * FROM _features_out")
    con.unregister("_features_out")


def _count(con, table: str, alias: str, condition: str | None) -> int:
    where = f" WHERE {condition}" if condition else ""
    return int(con.execute(f"SELECT count(*) FROM {table} AS {alias}{where}").fetchall()[0][0])


def params(con, target: str, operation: dict) -> dict:
    """m, u, weights per comparison level and the prior's weight, as a table; returns a summary."""
    comparisons: dict = operation["comparisons"]
    rows = []
    fitted: list[ComparisonParams] = []
    for name, info in comparisons.items():
        levels = info["levels"]
        counts = dict(con.execute(f"SELECT {name}_level, sum(n) FROM {operation['ulevels']} "
                                  f"GROUP BY 1").fetchall())
        m = m_probabilities(info["method"], levels_for(info["method"], [lv for lv in levels if lv != "none"]),
                            info["m"])
        fitted.append(ComparisonParams(name, levels, m, u_from_counts(levels, counts), info["labels"]))
    n_left = _count(con, operation["left"], operation["left_alias"], operation["left_filter"])
    n_right = _count(con, operation["right"], operation["right_alias"], operation["right_filter"])
    prior = operation["prior"] if operation["prior"] is not None else default_prior(n_left, n_right)
    trained_share = None
    u_random = {c.name: dict(c.u) for c in fitted}
    if operation["train"] == "em" and fitted:
        columns = ", ".join(f"{c.name}_level" for c in fitted)
        pattern_rows = con.execute(f"SELECT {columns}, count(*) FROM {operation['levels']} GROUP BY ALL").fetchall()
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
    con.register("_params_out", table)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {target} AS SELECT * FROM _params_out")
    con.unregister("_params_out")
    return {"left_records": n_left, "right_records": n_right, "prior": prior, "trained_match_share": trained_share}
