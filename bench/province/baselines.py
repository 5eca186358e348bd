"""The ten models written by hand, each as ONE DuckDB query over the staged tables of a run.

Each query is what an expert would write from MODELS.md with the same staged columns the engine reads
(``ds_<dataset>``: normalised values, ``*_valid`` flags, ``*_key``/``*_phase`` name keys), and returns
``(rule_id, subject_id, amount)`` — the clue subjects and amounts, not the evidence JSON, the Chinese
summary, the score or the rank. Name matching uses the models' own blocking rules and decisions (equal
comparison keys, or rapidfuzz ``ratio`` ≥ 90 on the keys with equal phase numbers, through a
vectorised UDF ``ratio``); ID typos (M01) use ``m01_bench``'s hand-written query. The harness asserts
that every baseline finds exactly the engine's subjects and amounts, so a baseline is never wrong
silently.

Example::

    con = connect_with_ratio(); load_staged(con, staging_dir)
    rows = con.sql(BASELINES["deceased_pension"]).fetchall()
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
from rapidfuzz import fuzz, process

from bench.m01_bench import HAND_WRITTEN as M01_HAND_WRITTEN
from bench.m01_bench import ISLANDS
from bench.province.timeline import AS_OF

AS_OF_SQL = f"DATE '{AS_OF.isoformat()}'"


def _ratio(left: pa.Array, right: pa.Array) -> pa.Array:
    """rapidfuzz ratio of aligned pairs (null when either side is null), as the engine's features."""
    valid = pa.compute.and_(left.is_valid(), right.is_valid())
    scores = process.cpdist(left.fill_null("").to_pylist(), right.fill_null("").to_pylist(), scorer=fuzz.ratio,
                            workers=1)
    return pa.array(scores, pa.float64(), mask=pa.compute.invert(valid).to_numpy(zero_copy_only=False))


def connect_with_ratio(temp_dir: Path, memory_limit: str, threads: int) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    con.execute("SET temp_directory = $d", {"d": str(temp_dir)})
    con.execute("SET memory_limit = $m", {"m": memory_limit})
    con.execute("SET threads = $t", {"t": threads})
    con.create_function("ratio", _ratio, ["VARCHAR", "VARCHAR"], "DOUBLE", type="arrow")
    return con


def load_staged(con: duckdb.DuckDBPyConnection, staging_datasets: Path, names: list[str]) -> None:
    """The staged tables as in-memory tables ``ds_<name>``, as the engine loads them before its models."""
    for name in names:
        con.execute(f"CREATE OR REPLACE TEMPORARY TABLE ds_{name} AS SELECT * FROM read_parquet($p)",
                    {"p": str(staging_datasets / f"{name}.parquet")})


def _org_match(left: str, right: str, key: str, right_key: str | None = None) -> str:
    """MODELS.md's org_name decision: equal keys, or ratio ≥ 90 on the keys with equal phase numbers."""
    right_key = right_key or key
    return (f"({left}.{key}_key = {right}.{right_key}_key OR ({left}.{key}_phase IS NOT DISTINCT FROM "
            f"{right}.{right_key}_phase AND ratio({left}.{key}_key, {right}.{right_key}_key) >= 90))")


def _blocked_pairs(left: str, right: str, key: str, right_key: str | None = None, extra: tuple[str, ...] = ()) -> str:
    """Candidate pairs (``lrid``, ``rrid``) from the models' name blocking (equal keys, first three
    characters, characters four to six; an empty key never blocks), plus any ``extra`` equalities."""
    right_key = right_key or key
    conditions = [f"l.{key}_key = r.{right_key}_key",
                  f"nullif(substr(l.{key}_key, 1, 3), '') = nullif(substr(r.{right_key}_key, 1, 3), '')",
                  f"nullif(substr(l.{key}_key, 4, 3), '') = nullif(substr(r.{right_key}_key, 4, 3), '')", *extra]
    return " UNION ".join(f"SELECT l._rid AS lrid, r._rid AS rrid FROM {left} l JOIN {right} r ON {c}"
                          for c in conditions)


def _custody_periods(where: str) -> str:
    """CTEs ``sentenced`` → ``custody``: the spells selected by ``where``, overlapping or touching ones merged."""
    return f"""sentenced AS (
    SELECT id_number, person_name, admitted_on AS s, coalesce(released_on, DATE '9999-12-31') AS e
    FROM ds_prison_roster WHERE id_number_valid AND ({where})
),
{ISLANDS}custody AS (
    SELECT id_number, min(s) AS s, CASE WHEN max(e) = DATE '9999-12-31' THEN NULL ELSE max(e) END AS e
    FROM islands GROUP BY id_number, island
)"""


def _deceased(payments: str) -> str:
    return f"""
WITH death AS (SELECT id_number, min(death_date) AS d FROM ds_death_records WHERE id_number_valid GROUP BY id_number)
SELECT 'default' AS rule_id, p.id_number AS subject_id, sum(p.amount) AS amount
FROM ds_{payments} p JOIN death USING (id_number)
WHERE p.id_number_valid AND p.pay_month > date_trunc('month', death.d)
GROUP BY p.id_number"""


M01 = f"SELECT 'default' AS rule_id, subject_id, amount FROM ({M01_HAND_WRITTEN})"

M02 = f"""
WITH {_custody_periods("custody_type = '未决' OR (custody_type = '已决' AND sentence IN ('拘役', '有期徒刑', '无期徒刑', '死刑缓期执行'))")}
SELECT 'default' AS rule_id, p.id_number AS subject_id, sum(p.amount) AS amount
FROM ds_pension_payments p JOIN custody c ON c.id_number = p.id_number
WHERE p.id_number_valid AND date_trunc('month', c.s) < p.pay_month
  AND (c.e IS NULL OR p.pay_month < date_trunc('month', c.e))
GROUP BY p.id_number"""

M05 = f"""
WITH licences AS (
    SELECT id_number, issued_on FROM ds_driver_licenses
    WHERE id_number_valid AND status = '正常' AND valid_until >= {AS_OF_SQL}
),
drugs AS (SELECT * FROM ds_drug_users WHERE id_number_valid)
SELECT DISTINCT 'not_cancelled' AS rule_id, l.id_number AS subject_id, NULL::DECIMAL(18, 2) AS amount
FROM licences l JOIN drugs d ON d.id_number = l.id_number
WHERE d.measure IN ('社区戒毒', '社区康复', '强制隔离戒毒') AND l.issued_on <= d.measure_start
  AND d.measure_start <= {AS_OF_SQL}
UNION ALL
SELECT DISTINCT 'issued_while_barred', l.id_number, NULL
FROM licences l JOIN drugs d ON d.id_number = l.id_number
WHERE (d.found_on < l.issued_on AND l.issued_on <= CAST(d.found_on + INTERVAL 3 YEAR AS DATE))
   OR (d.measure = '强制隔离戒毒' AND d.measure_end IS NOT NULL AND d.measure_end < l.issued_on
       AND l.issued_on <= CAST(d.measure_end + INTERVAL 3 YEAR AS DATE))"""

M06 = f"""
WITH licences AS (SELECT * FROM ds_food_licenses WHERE status = '有效' AND valid_until >= {AS_OF_SQL}),
uncoded AS (SELECT l.* FROM licences l ANTI JOIN ds_business_registry r ON r.credit_code = l.credit_code),
pairs AS ({_blocked_pairs("uncoded", "ds_business_registry", "entity_name")}),
named AS (
    SELECT p.lrid, any_value(r.credit_code) AS code
    FROM pairs p JOIN uncoded l ON l._rid = p.lrid JOIN ds_business_registry r ON r._rid = p.rrid
    WHERE {_org_match("l", "r", "entity_name")}
    GROUP BY p.lrid HAVING count(*) = 1
),
food_crimes AS (
    SELECT * FROM ds_criminal_judgments
    WHERE charge IN ('生产、销售不符合安全标准的食品罪', '生产、销售有毒、有害食品罪')
      AND sentence IN ('有期徒刑', '无期徒刑', '死刑缓期执行')
),
reps AS (SELECT * FROM ds_business_registry WHERE legal_rep_id_valid),
banned AS (
    SELECT r.credit_code FROM reps r JOIN food_crimes j ON j.id_number_valid AND j.id_number = r.legal_rep_id
    UNION
    SELECT r.credit_code FROM reps r JOIN food_crimes j ON j.id_number IS NULL
     AND j.defendant_name = r.legal_rep_name
     AND j.birth_date = CAST(try_strptime(substr(r.legal_rep_id, 7, 8), '%Y%m%d') AS DATE)
)
SELECT DISTINCT 'default' AS rule_id, l.license_no AS subject_id, NULL::DECIMAL(18, 2) AS amount
FROM licences l LEFT JOIN named n ON n.lrid = l._rid
JOIN banned b ON b.credit_code = coalesce(n.code, l.credit_code)"""

M07_THRESHOLDS = ("('生产、销售伪劣产品', 50000, 50000), ('非法经营', 50000, 500000), "
                  "('销售假冒注册商标的商品', 50000, 50000), ('非法吸收公众存款', 1000000, 1000000), "
                  "('非法采矿', 100000, 100000)")
M07 = f"""
WITH thresholds(violation, individual, organisation) AS (VALUES {M07_THRESHOLDS}),
over AS (
    SELECT p.*, coalesce(CASE WHEN p.party_type = '个人' THEN p.party_id_valid_id ELSE p.party_id_valid_code END,
                         false) AS id_ok
    FROM ds_admin_penalties p JOIN thresholds t USING (violation)
    WHERE p.transferred = '否'
      AND p.amount_involved >= CASE WHEN p.party_type = '个人' THEN t.individual ELSE t.organisation END
),
pairs AS ({_blocked_pairs("over", "ds_criminal_cases", "party_name", "suspect_name",
                          ("l.party_id = r.suspect_id", "l.party_name = r.suspect_name"))}),
same_party AS (
    SELECT p.lrid, c.filed_on
    FROM pairs p JOIN over o ON o._rid = p.lrid JOIN ds_criminal_cases c ON c._rid = p.rrid
    WHERE CASE WHEN o.id_ok AND coalesce(CASE WHEN o.party_type = '个人' THEN c.suspect_id_valid_id
                                              ELSE c.suspect_id_valid_code END, false)
               THEN o.party_id = c.suspect_id
               WHEN o.party_type = '单位' THEN {_org_match("o", "c", "party_name", "suspect_name")}
               ELSE o.party_name = c.suspect_name END
)
SELECT 'default' AS rule_id, o.decision_no AS subject_id, o.amount_involved AS amount
FROM over o
WHERE NOT EXISTS (SELECT 1 FROM same_party s WHERE s.lrid = o._rid
                  AND abs(date_diff('day', o.decided_on, s.filed_on)) <= 365)"""

M08 = f"""
WITH numbered AS (
    SELECT d.deposit_id, p.permit_no, p.completion_filed_on
    FROM ds_wage_deposits d JOIN ds_construction_permits p ON p.permit_no = d.permit_no
),
unnumbered AS (SELECT d.* FROM ds_wage_deposits d ANTI JOIN ds_construction_permits p ON p.permit_no = d.permit_no),
link_pairs AS ({_blocked_pairs("unnumbered", "ds_construction_permits", "project_name")}),
links AS (
    SELECT * FROM numbered
    UNION ALL
    SELECT u.deposit_id, p.permit_no, p.completion_filed_on
    FROM link_pairs x JOIN unnumbered u ON u._rid = x.lrid JOIN ds_construction_permits p ON p._rid = x.rrid
    WHERE {_org_match("u", "p", "project_name")}
      AND CASE WHEN u.contractor_credit_code IS NOT NULL AND p.contractor_credit_code IS NOT NULL
               THEN u.contractor_credit_code = p.contractor_credit_code
               ELSE {_org_match("u", "p", "contractor_name")} END
),
complaints AS (
    SELECT * FROM ds_wage_complaints WHERE status = '未办结' AND filed_on <= {AS_OF_SQL} - INTERVAL 30 DAY
),
open_deposits AS (SELECT * FROM ds_wage_deposits WHERE coalesce(drawn_amount, 0) = 0 AND refunded_on IS NULL),
complaint_pairs AS ({_blocked_pairs("complaints", "open_deposits", "project_name")})
SELECT 'missing' AS rule_id, p.permit_no AS subject_id, NULL::DECIMAL(18, 2) AS amount
FROM ds_construction_permits p
WHERE p.permit_date <= {AS_OF_SQL} - INTERVAL 30 DAY AND p.completion_filed_on IS NULL
  AND NOT EXISTS (SELECT 1 FROM links l WHERE l.permit_no = p.permit_no)
UNION ALL
SELECT 'expired_guarantee', d.deposit_id, d.amount
FROM ds_wage_deposits d
WHERE d.form <> '现金存储' AND d.guarantee_expires_on < {AS_OF_SQL} AND d.refunded_on IS NULL
  AND NOT EXISTS (SELECT 1 FROM links l WHERE l.deposit_id = d.deposit_id
                  AND l.completion_filed_on <= d.guarantee_expires_on)
UNION ALL
SELECT DISTINCT 'arrears_unpaid', c.complaint_id, c.amount_owed
FROM complaint_pairs x JOIN complaints c ON c._rid = x.lrid JOIN open_deposits d ON d._rid = x.rrid
WHERE {_org_match("c", "d", "project_name")} AND {_org_match("c", "d", "employer_name", "contractor_name")}"""

M09 = f"""
WITH interest AS (
    SELECT creditor_id, year(received_on) AS tax_year, sum(interest_received) AS i
    FROM ds_lending_judgments WHERE creditor_id_valid GROUP BY ALL
),
declared AS (
    SELECT taxpayer_id, tax_year, sum(income_amount) AS d FROM ds_tax_filings
    WHERE taxpayer_id_valid AND income_type = '利息、股息、红利所得' GROUP BY ALL
)
SELECT 'default' AS rule_id, i.creditor_id || ':' || i.tax_year AS subject_id,
       CAST(0.2 * (i.i - coalesce(d.d, 0)) AS DECIMAL(18, 2)) AS amount
FROM interest i LEFT JOIN declared d ON d.taxpayer_id = i.creditor_id AND d.tax_year = i.tax_year
WHERE make_date(i.tax_year + 1, 6, 30) < {AS_OF_SQL} AND i.i - coalesce(d.d, 0) >= 10000"""

M10 = """
WITH staff AS (SELECT * FROM ds_school_staff WHERE employment_status = '在职' AND id_number_valid),
judgments AS (
    SELECT * FROM ds_criminal_judgments
    WHERE charge IN ('强奸罪', '负有照护职责人员性侵罪', '强制猥亵、侮辱罪', '猥亵儿童罪', '组织卖淫罪', '强迫卖淫罪',
                     '引诱、容留、介绍卖淫罪', '引诱幼女卖淫罪', '虐待被监护、看护人罪', '拐卖妇女、儿童罪', '拐骗儿童罪')
)
SELECT 'default' AS rule_id, s.id_number AS subject_id, NULL::DECIMAL(18, 2) AS amount
FROM staff s JOIN judgments j ON j.id_number_valid AND j.id_number = s.id_number
UNION
SELECT 'default', s.id_number, NULL
FROM staff s JOIN judgments j ON j.id_number IS NULL AND j.defendant_name = s.person_name
 AND j.birth_date = CAST(try_strptime(substr(s.id_number, 7, 8), '%Y%m%d') AS DATE)"""

BASELINES = {
    "prisoner_dibao": M01, "prisoner_pension": M02, "deceased_pension": _deceased("pension_payments"),
    "deceased_dibao": _deceased("dibao_payments"), "drug_user_license": M05, "food_ban_license": M06,
    "penalty_not_transferred": M07, "wage_deposit": M08, "loan_interest_tax": M09, "school_staff_offender": M10,
}
