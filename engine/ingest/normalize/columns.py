"""Per-column normalisation plans: raw text column in, typed columns and a reason out.

For every catalogue column this registers, in a :class:`StagedFrame`, the
Polars expressions that produce the normal form (plus validity flags and
org-name keys where the type has them) and the reason the cell makes its row
unreadable (or null). ``required_when`` conditions are SQL over the row's
*normalised* values, so the frame stages them after the values exist.
Pure: no I/O, nothing evaluated here.

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

    frame = StagedFrame(dataset.column_names)
    plan = column_plan(frame, dataset.column("released_on"), OrgKeyRules.default())
    reason = put_reason(frame, plan)
    frame.run(df).select(*plan.outputs, reason)
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import polars as pl

from engine.ingest.normalize import ids, numbers, orgs, temporal, text
from engine.ingest.normalize.staged import StagedFrame
from engine.spec.catalog import ColumnSpec

_TYPE_WORDS = {"date": ("日期", "a date"), "month": ("月份", "a month"), "amount": ("金额", "an amount"),
               "int": ("整数", "a whole number")}


@dataclass(frozen=True)
class ColumnPlan:
    column: ColumnSpec
    outputs: list[str]  # staged column names this column produces
    cleaned: str  # intermediate: the NFKC-trimmed cell, null when missing


def _keep_values(column: ColumnSpec) -> tuple[str, ...]:
    return tuple(v for v in column.values if v in text.MISSING_MARKERS)


def _enum_value(column: ColumnSpec, cleaned: pl.Expr) -> pl.Expr:
    s = cleaned
    if column.value_map:
        mapping = {unicodedata.normalize("NFKC", k).strip(): v for k, v in column.value_map.items()}
        s = s.replace(mapping)
    return pl.when(s.is_in(list(column.values))).then(s)


def column_plan(frame: StagedFrame, column: ColumnSpec, rules: orgs.OrgKeyRules) -> ColumnPlan:
    """Register the column's normalisation in ``frame``; the raw column is ``pl.col(column.name)``."""
    name, kind = column.name, column.type
    tmp = f"__{name}"
    cleaned = frame.put(f"{tmp}_clean", text.clean(pl.col(name), _keep_values(column)))
    outputs = [name]
    if kind == "id_cn":
        compact = frame.put(f"{tmp}_compact", ids.compact_code(cleaned))
        value = frame.put(name, ids.id_cn(compact))
        frame.put(f"{name}_valid", ids.id_cn_valid(value))
        outputs.append(f"{name}_valid")
    elif kind == "credit_code":
        value = frame.put(name, ids.compact_code(cleaned))
        frame.put(f"{name}_valid", ids.credit_code_valid(value))
        outputs.append(f"{name}_valid")
    elif kind == "party_id":
        compact = frame.put(f"{tmp}_compact", ids.compact_code(cleaned))
        value = frame.put(name, ids.id_cn(compact))
        frame.put(f"{name}_valid_id", ids.id_cn_valid(value))
        frame.put(f"{name}_valid_code", ids.credit_code_valid(value))
        outputs += [f"{name}_valid_id", f"{name}_valid_code"]
    elif kind == "name_zh":
        value = frame.put(name, text.name_zh(cleaned))
    elif kind in ("org_name", "party_name"):
        normal = frame.put(f"{tmp}_normal", orgs.org_name(cleaned))
        value = frame.put(name, text.name_zh(normal) if kind == "party_name" else normal)
        rules.put_key(frame, normal, f"{name}_key", f"{name}_phase")
        outputs += [f"{name}_key", f"{name}_phase"]
    elif kind in ("date", "month"):
        unified = frame.put(f"{tmp}_unified", temporal.unify(cleaned))
        value = frame.put(name, temporal.date(unified) if kind == "date" else temporal.month(unified))
    elif kind == "amount":
        stripped = frame.put(f"{tmp}_stripped", numbers.amount_text(cleaned))
        value = frame.put(name, numbers.amount(stripped))
    elif kind == "int":
        value = frame.put(name, numbers.integer(cleaned))
    elif kind == "enum":
        value = frame.put(name, _enum_value(column, cleaned))
    elif kind == "text":
        value = frame.put(name, text.code_text(cleaned) if column.compact else cleaned)
    else:  # pragma: no cover - the catalogue's Literal type forbids it
        raise ValueError(f"unknown value type {kind}")

    return ColumnPlan(column, outputs, f"{tmp}_clean")


def put_reason(frame: StagedFrame, plan: ColumnPlan) -> str:
    """Register the reason a cell of this column makes its row unreadable; returns its column name.

    Call after every column's values are registered: ``required_when`` reads other normalised values.
    """
    column, kind = plan.column, plan.column.type
    cleaned, value = pl.col(plan.cleaned), pl.col(column.name)
    present = cleaned.is_not_null()
    if kind in _TYPE_WORDS:
        zh, en = _TYPE_WORDS[kind]
        unreadable = pl.format("{}: '{}' 无法识别为{} / is not {}", pl.lit(column.label), cleaned, pl.lit(zh),
                               pl.lit(en))
    elif kind == "enum":
        unreadable = pl.format("{}: '{}' 不在取值范围 [{}] 内 / not one of the allowed values",
                               pl.lit(column.label), cleaned, pl.lit("/".join(column.values)))
    else:
        unreadable = None
    reasons = []
    if unreadable is not None:
        reasons.append(pl.when(present & value.is_null()).then(unreadable))
    if column.required:
        reasons.append(pl.when(~present).then(pl.lit(f"{column.label}: 必填项为空 / required but empty")))
    elif column.required_when:
        condition = pl.sql_expr(column.required_when).fill_null(False)
        reasons.append(pl.when(~present & condition).then(pl.lit(
            f"{column.label}: 当 {column.required_when} 时必填，但为空 / required when {column.required_when}, but empty")))
    # A present cell and an empty one are exclusive, so at most one reason applies.
    name = f"__{column.name}_reason"
    frame.put(name, pl.coalesce(reasons) if reasons else pl.lit(None, pl.String))
    return name


def normalize_values(column: ColumnSpec, values: list[str | None], rules: orgs.OrgKeyRules | None = None
                     ) -> pl.DataFrame:
    """Normalise a list of raw cells of one column (for notebooks and tests).

    Returns the staged columns plus ``reason``. ``required_when`` conditions are
    not evaluated (they read other columns).

    Example::

        normalize_values(ColumnSpec(name="d", type="date", zh="日期"), ["2023年1月5日"])
    """
    column = column.model_copy(update={"required_when": None})
    frame = StagedFrame([column.name])
    plan = column_plan(frame, column, rules or orgs.OrgKeyRules.default())
    reason = put_reason(frame, plan)
    raw = pl.DataFrame({column.name: values}, schema={column.name: pl.String})
    return frame.run(raw).select(*plan.outputs, pl.col(reason).alias("reason"))
