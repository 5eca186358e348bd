"""Language features beyond M01–M04: lookup tables, semi/anti joins, several rules, ranking ties, explain."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import REPO, run_lsm

from engine.model_tests import run_model_tests
from engine.spec.load import load_model

MODEL = """\
id: penalty_demo
version: "0.1"
title: {zh: 以罚代刑演示, en: language features}
legal_basis: {citation: 测试依据}
subject_type: penalty
inputs:
  penalties: {dataset: admin_penalties}
  cases: {dataset: criminal_cases}
tables:
  thresholds:
    columns: {violation: text, party_type: text, threshold: amount}
    rows:
      - [非法经营, 个人, 50000]
      - [非法经营, 单位, 500000]
rules:
  - id: not_transferred
    title: 达到追诉标准未移送
    from: penalties
    join:
      - {to: thresholds, alias: t, on: t.violation = penalties.violation AND t.party_type = penalties.party_type}
      - {to: cases, kind: anti, on: "cases.suspect_name = penalties.party_name AND within_days(cases.filed_on, penalties.decided_on, 365)"}
    where: penalties.amount_involved >= t.threshold AND penalties.transferred = '否'
    clue:
      subject_id: penalties.decision_no
      subject_name: any_value(penalties.party_name)
      amount: sum(penalties.amount_involved)
      values: {ratio: "max(penalties.amount_involved / t.threshold)"}
      summary: "{subject_name} 涉案金额 {amount:yuan}，为追诉标准的 {ratio} 倍。"
    score:
      signals: {ratio: {value: ratio, scale: max, weight: 1}}
      rank_by: [ratio DESC]
  - id: with_case
    title: 已立案（semi join）
    from: penalties
    join:
      - {to: cases, kind: semi, on: cases.suspect_name = penalties.party_name}
    clue:
      subject_id: penalties.decision_no
      subject_name: any_value(penalties.party_name)
      summary: "{subject_name} 已有刑事立案。"
    score:
      rank_by: [subject_name ASC]
test_defaults:
  admin_penalties: {agency: 市场监管局, party_type: 个人, violation: 非法经营, fine: "1000", decided_on: 2023-06-01, transferred: 否}
  criminal_cases: {charge: 非法经营罪}
tests:
  - name: thresholds per party type, anti join within 365 days, two rules, ties by subject
    as_of: 2024-06-30
    given:
      admin_penalties:
        - {decision_no: A1, party_name: 张伟, amount_involved: "50000"}                  # at the threshold: clue
        - {decision_no: A2, party_name: 李娜, amount_involved: "49999.99"}               # one fen below: no clue
        - {decision_no: A3, party_type: 单位, party_name: 华建公司, amount_involved: "60000"}  # 单位 threshold 500000
        - {decision_no: A4, party_name: 王强, amount_involved: "100000"}                 # a case 365 days later: no clue
        - {decision_no: A5, party_name: 赵敏, amount_involved: "100000"}                 # a case 366 days later: clue
        - {decision_no: A6, party_name: 孙丽, amount_involved: "100000"}                 # same ratio as A5: tie
        - {decision_no: A7, party_name: 周杰, amount_involved: "90000", transferred: 是}   # transferred: no clue
      criminal_cases:
        - {case_no: C1, suspect_name: 王强, filed_on: 2024-05-31}
        - {case_no: C2, suspect_name: 赵敏, filed_on: 2024-06-01}
    expect:
      - {rule: not_transferred, subject_id: A1, amount: 50000}
      - {rule: not_transferred, subject_id: A5, amount: 100000}
      - {rule: not_transferred, subject_id: A6, amount: 100000}
      - {rule: with_case, subject_id: A4}
      - {rule: with_case, subject_id: A5}
"""


@pytest.fixture()
def models(tmp_path) -> Path:
    d = tmp_path / "models"
    d.mkdir()
    shutil.copy(REPO / "models" / "sources.yaml", d / "sources.yaml")
    (d / "penalty_demo.yaml").write_text(MODEL, encoding="utf-8")
    return d


def test_in_file_test_covers_tables_anti_semi_and_two_rules(models, catalogue):
    outcomes = run_model_tests(load_model(models / "penalty_demo.yaml", models), catalogue)
    assert [o.problems for o in outcomes] == [[]]


def test_ranks_restart_per_rule_and_ties_break_by_subject(models, catalogue):
    import datetime as dt

    from engine.compile.model import compile_model
    from engine.execute.duckdb_backend import DuckDBBackend
    from engine.model_tests import staged_from_rows

    loaded = load_model(models / "penalty_demo.yaml", models)
    test = loaded.spec.tests[0]
    plan = compile_model(loaded, catalogue, dt.date(2024, 6, 30))
    backend = DuckDBBackend.in_memory(models / ".tmp")
    for dataset in plan.datasets:
        frame, problems = staged_from_rows(catalogue, dataset, test.given[dataset], loaded.spec.test_defaults[dataset])
        assert problems == []
        backend.load_frame(dataset, frame)
    rows = backend.run_model(plan).to_pylist()
    backend.close()
    ranks = {(r["rule_id"], r["subject_id"]): r["rank"] for r in rows}
    # A5 and A6 have the same ratio (2.0): the subject id decides; A1 (ratio 1.0) comes last.
    assert ranks[("not_transferred", "A5")] == 1 and ranks[("not_transferred", "A6")] == 2
    assert ranks[("not_transferred", "A1")] == 3
    assert {ranks[("with_case", "A4")], ranks[("with_case", "A5")]} == {1, 2}
    summary = next(r["summary"] for r in rows if r["subject_id"] == "A1" and r["rule_id"] == "not_transferred")
    assert summary == "张伟 涉案金额 50,000.00元，为追诉标准的 1.0 倍。"


def test_explain_prints_every_step_with_its_location_and_sql(models):
    proc = run_lsm("explain", "penalty_demo", "--models", str(models), "--as-of", "2024-06-30")
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout
    assert "-- step 1: input m_penalty_demo__penalties (view)" in text
    assert "table m_penalty_demo__thresholds" in text  # a lookup table is data, loaded as it is:
    assert "-- 2 rows: violation string, party_type string, threshold decimal128(18, 2)" in text
    assert "NOT EXISTS(" in text and "penalty_demo.yaml:" in text
    spark = run_lsm("explain", "penalty_demo", "--models", str(models), "--dialect", "spark")
    assert spark.returncode == 0 and "STRUCT(" in spark.stdout


def test_unknown_engine_is_a_usage_error(tmp_path):
    proc = run_lsm("run", "--engine", "oracle", "--out", str(tmp_path))
    assert proc.returncode == 2 and "duckdb or spark" in proc.stderr


def test_a_duckdb_only_function_is_refused_for_spark_before_anything_runs(tmp_path):
    folder = tmp_path / ("long_" * 30) / "models"  # a long path: located errors must never be wrapped mid-message
    folder.mkdir(parents=True)
    (folder / "sources.yaml").write_text((REPO / "models" / "sources.yaml").read_text(encoding="utf-8"),
                                         encoding="utf-8")
    (folder / "m.yaml").write_text("""\
id: hamming_demo
version: "1"
title: {zh: 仅DuckDB函数}
legal_basis: {citation: 测试}
subject_type: person
inputs:
  payments: {dataset: dibao_payments, where: "hamming(payments.id_number, '510104199001010019') <= 1"}
rules:
  - id: default
    from: payments
    clue: {subject_id: payments.id_number, subject_name: any_value(payments.person_name), summary: x}
""", encoding="utf-8")
    assert run_lsm("validate", "--models", str(folder)).returncode == 0  # fine on DuckDB
    proc = run_lsm("run", "--engine", "spark", "--models", str(folder), "--out", str(tmp_path / "out"))
    assert proc.returncode == 2
    first_line = proc.stderr.splitlines()[0]  # one problem, one line: never wrapped, however long the path
    assert "m.yaml:7:13:" in first_line and "hamming() does not run on Spark" in first_line
    assert first_line.endswith("this model runs with --engine duckdb only")
    assert not (tmp_path / "out").exists()


LEFT_JOIN_MODEL = """\
id: evidence_demo
version: "0.1"
title: {zh: 证据演示}
legal_basis: {citation: 测试依据}
subject_type: penalty
inputs:
  penalties: {dataset: admin_penalties}
  cases: {dataset: criminal_cases}
rules:
  - id: default
    from: penalties
    join:
      - {to: cases, kind: left, on: cases.suspect_name = penalties.party_name}
    distinct_on: null
    clue:
      subject_id: penalties.decision_no
      subject_name: any_value(penalties.party_name)
      summary: "{subject_name}"
      evidence:
        rows: [penalties, cases]
        values: {case_nos: list(cases.case_no) FILTER (WHERE cases.case_no IS NOT NULL)}
test_defaults:
  admin_penalties: {agency: 市场监管局, party_type: 个人, violation: 非法经营, amount_involved: "1", fine: "1", decided_on: 2023-06-01, transferred: 否}
  criminal_cases: {charge: 非法经营罪, filed_on: 2023-01-01}
"""


def _run_rows(tmp_path: Path, catalogue, model_text: str, given: dict) -> list[dict]:
    """Compile a model written here and run it on the given rows (clean values, defaults from the model)."""
    import datetime as dt

    import yaml

    from engine.compile.model import compile_model
    from engine.execute.duckdb_backend import DuckDBBackend
    from engine.model_tests import staged_from_rows

    d = tmp_path / "models"
    d.mkdir(exist_ok=True)
    shutil.copy(REPO / "models" / "sources.yaml", d / "sources.yaml")
    model_id = yaml.safe_load(model_text)["id"]
    (d / f"{model_id}.yaml").write_text(model_text, encoding="utf-8")
    loaded = load_model(d / f"{model_id}.yaml", d)
    backend = DuckDBBackend.in_memory(tmp_path / ".tmp")
    for dataset, rows in given.items():
        frame, problems = staged_from_rows(catalogue, dataset, rows, loaded.spec.test_defaults[dataset])
        assert problems == []
        backend.load_frame(dataset, frame)
    rows = backend.run_model(compile_model(loaded, catalogue, dt.date(2024, 6, 30))).to_pylist()
    backend.close()
    return rows


def test_evidence_is_whole_json_when_a_left_joined_side_is_missing(tmp_path, catalogue):
    import json

    given = {"admin_penalties": [{"decision_no": "A1", "party_name": "张伟"}, {"decision_no": "A2", "party_name": "李娜"}],
             "criminal_cases": [{"case_no": "C1", "suspect_name": "张伟"}]}
    rows = _run_rows(tmp_path, catalogue, LEFT_JOIN_MODEL, given)
    evidence = {r["subject_id"]: json.loads(r["evidence"]) for r in rows}
    assert [s["dataset"] for s in evidence["A1"]["sources"]] == ["admin_penalties", "criminal_cases"]
    assert [s["dataset"] for s in evidence["A2"]["sources"]] == ["admin_penalties"]     # no case: still whole
    assert evidence["A2"]["values"]["case_nos"] in ([], None)


UNION_MODEL = """\
id: union_demo
version: "0.1"
title: {zh: 合并演示}
legal_basis: {citation: 测试依据}
subject_type: penalty
inputs:
  penalties: {dataset: admin_penalties}
  cases: {dataset: criminal_cases}
relations:
  by_name:
    from: penalties
    join: [{to: cases, on: cases.suspect_name = penalties.party_name}]
    select: {decision_no: penalties.decision_no, how: "'姓名'"}
  by_id:
    from: penalties
    join: [{to: cases, on: cases.suspect_id = penalties.party_id}]
    select: {decision_no: penalties.decision_no, how: "'证件'", case_no: cases.case_no}
  links:
    union: [by_name, by_id]
rules:
  - id: default
    from: links
    clue:
      subject_id: links.decision_no
      subject_name: any_value(links.decision_no)
      summary: "{hows}"
      values:
        hows: string_agg(links.how, '、' ORDER BY links.how)
        case_nos: list(links.case_no ORDER BY links.case_no) FILTER (WHERE links.case_no IS NOT NULL)
      evidence: {rows: [links]}
test_defaults:
  admin_penalties: {agency: 市场监管局, party_type: 个人, party_id: "", violation: 非法经营, amount_involved: "1", fine: "1", decided_on: 2023-06-01, transferred: 否}
  criminal_cases: {charge: 非法经营罪, filed_on: 2023-01-01, suspect_id: ""}
"""


def test_union_keeps_each_parts_rows_columns_by_name_and_lineage(tmp_path, catalogue):
    import json

    given = {"admin_penalties": [
        {"decision_no": "A1", "party_name": "张伟", "party_id": "510104198001010014"},
        {"decision_no": "A2", "party_name": "李娜"},
        {"decision_no": "A3", "party_name": "王强"}],
        "criminal_cases": [{"case_no": "C1", "suspect_name": "张伟", "suspect_id": "510104198001010014"},
                           {"case_no": "C2", "suspect_name": "李娜"}]}
    rows = {r["subject_id"]: r for r in _run_rows(tmp_path, catalogue, UNION_MODEL, given)}
    assert sorted(rows) == ["A1", "A2"]
    assert rows["A1"]["summary"] == "姓名、证件" and rows["A2"]["summary"] == "姓名"
    evidence = {s: json.loads(r["evidence"]) for s, r in rows.items()}
    assert evidence["A1"]["values"]["case_nos"] == ["C1"]          # only the by_id part has case_no
    assert evidence["A2"]["values"]["case_nos"] in ([], None)
    sources = {s: sorted((x["dataset"], x["fields"].get("decision_no") or x["fields"].get("case_no"))
                         for x in e["sources"]) for s, e in evidence.items()}
    assert sources["A1"] == [("admin_penalties", "A1"), ("criminal_cases", "C1")]
    assert sources["A2"] == [("admin_penalties", "A2"), ("criminal_cases", "C2")]


def test_a_union_needs_two_different_parts(tmp_path, catalogue):
    from engine.spec.errors import SpecError

    bad = UNION_MODEL.replace("union: [by_name, by_id]", "union: [by_name, by_name]")
    with pytest.raises(SpecError, match="at least two different relations"):
        _run_rows(tmp_path, catalogue, bad, {})
