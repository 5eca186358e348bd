"""Per-column normalisation plans: raw text column in, typed columns and a reason out.

For every catalogue column this builds Polars expressions that produce the
normal form (plus validity flags and org-name keys where the type has them),
and one expression that yields the reason the cell makes its row unreadable
(or null). Pure: no I/O, nothing evaluated here.

Staged column names, per type:

=============  =========================================================
type           staged columns
=============  =========================================================
id_cn          ``col`` (18-char normal form), ``col_valid`` (check char)
credit_code    ``col``, ``col_valid``
party_id       ``col``, ``col_valid_id``, ``col_valid_code``
name_zh        ``col``
org_name       ``col`` (normal form), ``col_key``, ``col_phase``
party_name     ``col`` (person-name form), ``col_key`` (org key), ``col_phase``
date / month   ``col`` (DATE; a month is its first day)
amount         ``col`` (DECIMAL(18,2) yuan)
int            ``col`` (BIGINT)
text / enum    ``col``
=============  =========================================================

Example::

    plan = column_plan(dataset.column("released_on"), OrgKeyRules.default())
    df.select(*plan.outputs, plan.reason)
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from engine.catalog import ColumnSpec
from engine.normalize import ids, numbers, orgs, temporal, text

_TYPE_WORDS = {"date": ("日期", "a date"), "month": ("月份", "a month"), "amount": ("金额", "an amount"),
               "int": ("整数", "a whole number")}


@dataclass(frozen=True)
class ColumnPlan:
    column: ColumnSpec
    outputs: list[pl.Expr]
    value: pl.Expr  # the main normalised value (null when missing or unreadable)
    present: pl.Expr  # the raw cell holds something
    reason: pl.Expr  # why the cell makes the row unreadable, or null


def _keep_values(column: ColumnSpec) -> tuple[str, ...]:
    return tuple(v for v in column.values if v in text.MISSING_MARKERS)


def _enum_value(column: ColumnSpec, raw: pl.Expr) -> pl.Expr:
    s = text.present_or_null(raw, _keep_values(column))
    if column.value_map:
        import unicodedata

        mapping = {unicodedata.normalize("NFKC", k).strip(): v for k, v in column.value_map.items()}
        s = s.replace(mapping)
    return pl.when(s.is_in(list(column.values))).then(s).otherwise(None)


def column_plan(column: ColumnSpec, rules: orgs.OrgKeyRules) -> ColumnPlan:
    raw = pl.col(column.name)
    name = column.name
    kind = column.type
    present = text.is_present(raw, _keep_values(column))
    extra: list[pl.Expr] = []
    if kind == "id_cn":
        value = ids.id_cn(raw)
        extra = [ids.id_cn_valid(raw).alias(f"{name}_valid")]
    elif kind == "credit_code":
        value = ids.credit_code(raw)
        extra = [ids.credit_code_valid(raw).alias(f"{name}_valid")]
    elif kind == "party_id":
        value = ids.id_cn(raw)
        extra = [ids.id_cn_valid(raw).alias(f"{name}_valid_id"),
                 ids.credit_code_valid(raw).alias(f"{name}_valid_code")]
    elif kind == "name_zh":
        value = text.name_zh(raw)
    elif kind == "org_name":
        value = orgs.org_name(raw)
        extra = [rules.key(raw).alias(f"{name}_key"), rules.phase(raw).alias(f"{name}_phase")]
    elif kind == "party_name":
        value = text.name_zh(raw)
        extra = [rules.key(raw).alias(f"{name}_key"), rules.phase(raw).alias(f"{name}_phase")]
    elif kind == "date":
        value = temporal.date(raw)
    elif kind == "month":
        value = temporal.month(raw)
    elif kind == "amount":
        value = numbers.amount(raw)
    elif kind == "int":
        value = numbers.integer(raw)
    elif kind == "enum":
        value = _enum_value(column, raw)
    elif kind == "text":
        value = text.code_text(raw) if column.compact else text.text(raw)
    else:  # pragma: no cover - the catalogue's Literal type forbids it
        raise ValueError(f"unknown value type {kind}")

    shown = text.cleaned(raw)
    if kind in _TYPE_WORDS:
        zh, en = _TYPE_WORDS[kind]
        unreadable = pl.format("{}: '{}' 无法识别为{} / is not {}", pl.lit(column.label), shown, pl.lit(zh), pl.lit(en))
    elif kind == "enum":
        allowed = "/".join(column.values)
        unreadable = pl.format("{}: '{}' 不在取值范围 [{}] 内 / not one of the allowed values",
                               pl.lit(column.label), shown, pl.lit(allowed))
    else:
        unreadable = None
    reasons = []
    if unreadable is not None:
        reasons.append(pl.when(present & value.is_null()).then(unreadable))
    if column.required:
        reasons.append(pl.when(~present).then(pl.lit(f"{column.label}: 必填项为空 / required but empty")))
    # The two reasons are exclusive (a present cell vs an empty one).
    reason = pl.coalesce(reasons) if reasons else pl.lit(None, pl.String)
    return ColumnPlan(column, [value.alias(name), *extra], value, present, reason)


def conditional_reason(column: ColumnSpec, present: pl.Expr) -> pl.Expr:
    """Reason for an empty cell whose ``required_when`` condition holds.

    The condition is SQL over the row's *normalised* values, so it must be
    evaluated after the typed columns exist.
    """
    assert column.required_when
    condition = pl.sql_expr(column.required_when).fill_null(False)
    return pl.when(~present & condition).then(
        pl.lit(f"{column.label}: 当 {column.required_when} 时必填，但为空 / required when {column.required_when}, but empty")
    )
