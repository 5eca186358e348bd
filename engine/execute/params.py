"""Match parameters (Fellegi–Sunter): u from random pairs, m from priors or EM, the prior.

* ``u`` (P(level | two random records)) — counted on a random sample of
  left × right pairs, with a floor so no level is impossible.
* ``m`` (P(level | same entity)) — the comparators' defaults, or trained by
  expectation–maximisation on the candidate pairs' level patterns (``train: em``;
  u stays fixed, as Splink does).
* the prior — the probability that two random records match, by default
  min(n_left, n_right) / (n_left × n_right).

A pair's match weight is log2(prior / (1 − prior)) + Σ log2(m / u) over its
fields' levels (a missing value contributes nothing); its probability is
2^w / (1 + 2^w). Everything here is numpy over level *patterns* (a few hundred
distinct rows however many pairs there are).

Example::

    table = build_params(comparisons, u_counts, pattern_counts=None)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

U_FLOOR = 1e-9


@dataclass
class ComparisonParams:
    name: str
    levels: list[str]  # in order, ending with 'none'
    m: dict[str, float]
    u: dict[str, float] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)

    def weight(self, level: str) -> float:
        return math.log2(max(self.m.get(level, U_FLOOR), U_FLOOR) / max(self.u.get(level, U_FLOOR), U_FLOOR))


def u_from_counts(levels: list[str], counts: dict[str, int]) -> dict[str, float]:
    """u per level from level counts among random pairs ('null' excluded); floored, renormalised."""
    total = sum(counts.get(lv, 0) for lv in levels)
    if total == 0:
        return {lv: 1.0 / len(levels) for lv in levels}
    floor = 0.5 / max(total, 1)
    raw = {lv: max(counts.get(lv, 0) / total, floor) for lv in levels}
    norm = sum(raw.values())
    return {lv: v / norm for lv, v in raw.items()}


def monotone(m: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Levels are ordered from the strongest agreement down to 'none': their evidence m/u must not grow
    down the list. Pool adjacent violators (a pooled group keeps its total m, spread in proportion to u)."""
    blocks = [[i] for i in range(len(m))]
    ratio = lambda block: m[block].sum() / max(u[block].sum(), U_FLOOR)  # noqa: E731
    merged = True
    while merged:
        merged = False
        for i in range(len(blocks) - 1):
            if ratio(blocks[i]) < ratio(blocks[i + 1]):
                blocks[i] = blocks[i] + blocks.pop(i + 1)
                merged = True
                break
    out = m.copy()
    for block in blocks:
        if len(block) > 1:
            out[block] = m[block].sum() * u[block] / max(u[block].sum(), U_FLOOR)
    return out


def em(patterns: np.ndarray, counts: np.ndarray, m: list[np.ndarray], u: list[np.ndarray],
       prior: float = 0.1, iterations: int = 60, tolerance: float = 1e-6, max_share: float = 1.0,
       train_u: bool = False) -> tuple[list[np.ndarray], list[np.ndarray], float]:
    """Train m, the share of matches among the pairs and (with ``train_u``) u by EM.

    With ``train_u`` every probability is conditional on being a candidate pair, which absorbs what
    blocking does to the comparisons (blocked on the birth date, half the non-matching candidates share
    a birth date and a gender: evidence that random pairs would overrate).

    ``patterns``: int array (n_patterns × n_comparisons) of level indexes, -1 for a missing value;
    ``counts``: how many pairs show each pattern; ``m``/``u``: per comparison, probability per level.
    After each step the levels' evidence is kept monotone (:func:`monotone`), and the share of
    matches never exceeds ``max_share`` (each record links at most once: min(n_left, n_right) /
    pairs) — both keep EM from settling on a "match" class made of weak agreements that blocking
    happens to make common.
    """
    m = [mi.copy() for mi in m]
    u = [ui.copy() for ui in u]
    lam = prior
    n_comp = patterns.shape[1]
    for _ in range(iterations):
        log_m = np.zeros(len(patterns))
        log_u = np.zeros(len(patterns))
        for k in range(n_comp):
            idx = patterns[:, k]
            present = idx >= 0
            log_m[present] += np.log(np.maximum(m[k][idx[present]], U_FLOOR))
            log_u[present] += np.log(np.maximum(u[k][idx[present]], U_FLOOR))
        a = np.log(lam) + log_m
        b = np.log(1 - lam) + log_u
        p = 1.0 / (1.0 + np.exp(np.clip(b - a, -700, 700)))
        weighted = counts * p
        unweighted = counts * (1 - p)
        new_lam = float(weighted.sum() / counts.sum())
        new_m, new_u = [], []
        for k in range(n_comp):
            idx = patterns[:, k]
            present = idx >= 0
            uk = u[k]
            if train_u:
                counted = np.bincount(idx[present], weights=unweighted[present], minlength=len(u[k]))
                if counted.sum() > 0:
                    uk = np.maximum(counted / counted.sum(), U_FLOOR)
            new_u.append(uk)
            mk = np.bincount(idx[present], weights=weighted[present], minlength=len(m[k]))
            total = mk.sum()
            new_m.append(monotone(np.maximum(mk / total, U_FLOOR), uk) if total > 0 else m[k])
        change = max(abs(new_lam - lam), *(float(np.abs(a_ - b_).max()) for a_, b_ in zip(new_m, m, strict=True)),
                     *(float(np.abs(a_ - b_).max()) for a_, b_ in zip(new_u, u, strict=True)))
        new_lam = min(new_lam, max_share)
        m, u, lam = new_m, new_u, min(max(new_lam, 1e-6), 1 - 1e-6)
        if change < tolerance:
            break
    return m, u, lam


def default_prior(n_left: int, n_right: int) -> float:
    if n_left == 0 or n_right == 0:
        return 1e-6
    return min(n_left, n_right) / (n_left * n_right)


def prior_weight(prior: float) -> float:
    prior = min(max(prior, 1e-12), 1 - 1e-12)
    return math.log2(prior / (1 - prior))
