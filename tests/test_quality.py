"""Dataset-level data-quality checks (``quality:`` in sources.yaml), run through real great-expectations."""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import asdict
from pathlib import Path

import pytest

from engine.ingest.ingest import DatasetResult, IngestResult
from engine.ingest.normalize.ids import ID_CHECK_CHARS, ID_WEIGHTS, USCC_ALPHABET, USCC_WEIGHTS
from engine.masking import mask_id
from engine.model_tests import staged_from_rows
from engine.quality.expectations import run_expectations
from engine.quality.gates import basic_checks
from engine.quality.results import QualityResult
from engine.report.quality_page import render_quality_html
from engine.spec.catalog import load_catalogue
from engine.spec.errors import SpecError

AS_OF = dt.date(2024, 6, 30)
FULL_ID = re.compile(r"\d{17}[\dXx]")

HEAD = """\
version: 1
datasets:
  people:
    title: 测试人员
    agency: 测试机关
    primary_key: [pid]
    columns:
      pid: {type: text, zh: 编号}
      name: {type: name_zh, zh: 姓名}
      id_number: {type: id_cn, zh: 身份证号, required: false}
      code: {type: credit_code, zh: 信用代码, required: false}
      party: {type: party_id, zh: 证件号码, required: false}
      kind: {type: enum, zh: 类别, values: [甲, 乙, 丙]}
      seen_on: {type: date, zh: 日期}
      month: {type: month, zh: 月份, required: false}
    quality:
"""


def person_id(n: int, valid: bool = True) -> str:
    body = f"51010419900101{n:03d}"
    check = ID_CHECK_CHARS[sum(int(d) * w for d, w in zip(body, ID_WEIGHTS, strict=True)) % 11]
    return body + (check if valid else ID_CHECK_CHARS[(ID_CHECK_CHARS.index(check) + 1) % 11])


def credit_code(n: int) -> str:
    body = f"91510100MA6{n:06d}"
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(body, USCC_WEIGHTS, strict=True))
    return body + USCC_ALPHABET[(31 - total % 31) % 31]


def catalogue_with(tmp_path: Path, *checks: str):
    path = tmp_path / "sources.yaml"
    path.write_text(HEAD + "".join(f"      - {c}\n" for c in checks), encoding="utf-8")
    return load_catalogue(path, "sources.yaml")


def row(i: int, **cells) -> dict:
    return {"pid": f"P{i:04d}", "name": "张伟", "kind": "甲", "seen_on": "2024-01-05", **cells}


def staged(catalogue, tmp_path: Path, rows: list[dict], name: str = "people") -> IngestResult:
    """The rows normalised exactly as ingest does, staged as Parquet, as an IngestResult."""
    frame, problems = staged_from_rows(catalogue, name, rows, {})
    assert problems == []
    path = tmp_path / f"{name}.parquet"
    frame.write_parquet(path)
    result = DatasetResult(name, rows_read=len(rows), rows_accepted=len(rows), staged=str(path))
    return IngestResult(str(tmp_path), [result])


def check(catalogue, tmp_path, rows, as_of=AS_OF, previous_rows=None) -> list[QualityResult]:
    return run_expectations(catalogue, staged(catalogue, tmp_path, rows), as_of, previous_rows)


def only(results: list[QualityResult]) -> QualityResult:
    assert len(results) == 1, results
    return results[0]


def assert_no_full_id(results) -> None:
    text = json.dumps([asdict(r) for r in results], ensure_ascii=False)
    assert not FULL_ID.search(text), text


# --------------------------------------------------------------------------- each check


def test_non_null_rate_counts_empty_cells(tmp_path):
    cat = catalogue_with(tmp_path, "{check: non_null_rate, column: id_number, min: 0.75, blocking: true}")
    rows = [row(i, id_number=person_id(i)) for i in range(3)] + [row(9)]
    r = only(check(cat, tmp_path, rows))
    assert (r.dataset, r.check, r.blocking, r.passed) == ("people", "non_null_rate", True, True)
    assert r.expectation == "expect_column_values_to_not_be_null"
    assert r.name == "身份证号非空率≥75%"
    assert "75.0%" in r.observed and "min 75%" in r.observed

    rows = [row(i, id_number=person_id(i)) for i in range(2)] + [row(8), row(9)]
    r = only(check(cat, tmp_path, rows))
    assert not r.passed and "50.0%" in r.observed


def test_non_null_rate_over_several_columns_names_the_failing_one(tmp_path):
    cat = catalogue_with(tmp_path, "{check: non_null_rate, name: 必填列非空, columns: [name, month], blocking: true}")
    r = only(check(cat, tmp_path, [row(i, month="2024-01") for i in range(4)]))
    assert r.passed and r.name == "必填列非空" and "all 2 columns 100% non-null" in r.observed
    r = only(check(cat, tmp_path, [row(0, month="2024-01"), row(1)]))
    assert not r.passed and "month 50.0%" in r.observed and "name" not in r.observed.split("(")[0]


def test_valid_id_rate_ignores_empty_ids_and_masks_the_invalid_ones(tmp_path):
    cat = catalogue_with(tmp_path, "{check: valid_id_rate, column: id_number, min: 0.9, blocking: false}")
    rows = [row(i, id_number=person_id(i)) for i in range(9)] + [row(9, id_number=person_id(9, valid=False))]
    rows += [row(10), row(11)]  # empty IDs are the non_null_rate's business, not this check's
    r = only(check(cat, tmp_path, rows))
    assert r.passed and r.observed.startswith("valid 90.0% of 10 IDs (min 90%)")
    assert r.expectation == "expect_column_values_to_be_in_set"
    assert r.examples == [mask_id(person_id(9, valid=False))] == ["510104********009" + r.examples[0][-1]]

    rows = [row(i, id_number=person_id(i, valid=i % 2 == 0)) for i in range(5)]
    r = only(check(cat, tmp_path, rows))
    assert not r.passed and not r.blocking and "valid 60.0% of 5 IDs" in r.observed
    assert "e.g. 510104********" in r.observed
    assert_no_full_id([r])


def test_valid_id_rate_of_party_ids_and_credit_codes(tmp_path):
    cat = catalogue_with(tmp_path, "{check: valid_id_rate, column: party, min: 1, blocking: true}",
                         "{check: valid_id_rate, column: code, min: 1, blocking: true}")
    good = [row(0, party=person_id(1), code=credit_code(1)), row(1, party=credit_code(2), code=credit_code(2))]
    party, code = check(cat, tmp_path, good)
    assert party.passed and code.passed, (party, code)
    assert "valid 100% of 2 IDs" in party.observed
    wrong_code = credit_code(3)[:-1] + ("0" if credit_code(3)[-1] != "0" else "1")
    broken = good + [row(2, party=person_id(4, valid=False), code=wrong_code)]
    party, code = check(cat, tmp_path, broken)
    assert not party.passed and not code.passed
    assert party.examples == [mask_id(person_id(4, valid=False))]
    assert_no_full_id([party, code])


def test_value_set_defaults_to_the_enum_and_may_be_narrower(tmp_path):
    cat = catalogue_with(tmp_path, "{check: value_set, column: kind, blocking: true}",
                         "{check: value_set, column: kind, values: [甲, 乙], blocking: false}",
                         "{check: value_set, column: kind, values: [甲], min: 0.5, blocking: true}",
                         "{check: value_set, column: pid, values: [P0000, P0001, P0002], blocking: false}")
    rows = [row(0), row(1, kind="乙"), row(2, kind="丙")]
    full, narrow, tolerant, text = check(cat, tmp_path, rows)
    assert full.passed and full.name == "类别取值在规定范围内"
    assert not narrow.passed and "66.7%" in narrow.observed and narrow.examples == ["丙"]
    assert not tolerant.passed and "33.3%" in tolerant.observed
    assert text.passed
    rows.append(row(3, kind="甲"))
    assert [r.passed for r in check(cat, tmp_path, rows)] == [True, False, True, False]


def test_date_range_bounds_relative_to_as_of(tmp_path):
    cat = catalogue_with(tmp_path,
                         "{check: date_range, column: seen_on, min_date: 2000-01-01, max_date: as_of, blocking: false}",
                         "{check: date_range, column: seen_on, min_date: as_of - 365 days, blocking: true}",
                         "{check: date_range, column: month, max_date: as_of + 0 days, min: 0.5, blocking: true}")
    rows = [row(0, seen_on="2024-06-30", month="2024-06"), row(1, seen_on="2024-07-01", month="2024-07")]
    not_future, recent, months = check(cat, tmp_path, rows)
    assert not not_future.passed and not not_future.blocking
    assert "within [2000-01-01, 2024-06-30] 50.0% of 2 values (min 100%)" in not_future.observed
    assert not_future.examples == ["2024-07-01"] and not_future.expectation == "expect_column_values_to_be_between"
    assert recent.passed and "within [2023-07-01, …]" in recent.observed
    assert months.passed  # 2024-07 is after as_of, but half the months may be
    # The same data a month later: nothing is in the future any more.
    assert [r.passed for r in check(cat, tmp_path, rows, as_of=dt.date(2024, 7, 31))] == [True, True, True]
    # ... and two years later the dates are no longer recent.
    later = check(cat, tmp_path, rows, as_of=dt.date(2026, 7, 31))
    assert [r.passed for r in later] == [True, False, True]


def test_row_count_change_against_the_previous_load(tmp_path):
    cat = catalogue_with(tmp_path, "{check: row_count_change, max_drop: 0.5, blocking: true}",
                         "{check: row_count_change, max_growth: 3, blocking: false}")
    rows = [row(i) for i in range(4)]
    drop, growth = check(cat, tmp_path, rows)
    assert drop.passed and growth.passed and drop.observed == "no previous load (4 rows)"
    assert drop.expectation == "expect_table_row_count_to_be_between"

    drop, growth = check(cat, tmp_path, rows, previous_rows={"people": 8})
    assert drop.passed and growth.passed and "4 rows vs 8 in the previous load (-50.0%" in drop.observed
    drop, growth = check(cat, tmp_path, rows, previous_rows={"people": 9})
    assert not drop.passed and drop.blocking and growth.passed and "-55.6%" in drop.observed
    drop, growth = check(cat, tmp_path, rows, previous_rows={"people": 1})
    assert drop.passed and growth.passed  # +300% is the limit
    drop, growth = check(cat, tmp_path, rows + [row(9)], previous_rows={"people": 1})
    assert drop.passed and not growth.passed and not growth.blocking and "+400.0%" in growth.observed
    drop, growth = check(cat, tmp_path, rows, previous_rows={"other": 100})
    assert drop.passed and "no previous load" in drop.observed


def test_freshness_is_relative_to_as_of(tmp_path):
    cat = catalogue_with(tmp_path, "{check: freshness, column: month, days: 62, blocking: false}")
    rows = [row(0, month="2024-03"), row(1, month="202405"), row(2)]
    r = only(check(cat, tmp_path, rows))
    assert r.passed and r.expectation == "expect_column_max_to_be_between"
    assert r.observed == "newest 2024-05-01 on or after 2024-04-29 (as_of − 62 days)"
    r = only(check(cat, tmp_path, rows, as_of=dt.date(2024, 7, 3)))
    assert not r.passed and r.observed == "newest 2024-05-01 is older than 2024-05-02 (as_of − 62 days)"
    r = only(check(cat, tmp_path, [row(0)]))
    assert not r.passed and r.observed.startswith("no values")


def test_unique_single_and_compound_keys_mask_id_columns(tmp_path):
    cat = catalogue_with(tmp_path, "{check: unique, column: id_number, blocking: true}",
                         "{check: unique, columns: [id_number, seen_on], blocking: false}",
                         "{check: unique, column: pid, min: 0.5, blocking: true}")
    same = person_id(7)
    rows = [row(0, id_number=same), row(1, id_number=same, seen_on="2024-02-01"), row(2, id_number=person_id(8))]
    ids, compound, pids = check(cat, tmp_path, rows)
    assert not ids.passed and ids.expectation == "expect_column_values_to_be_unique"
    assert "unique 33.3% of 3 values" in ids.observed and ids.examples == [mask_id(same)]
    assert compound.passed and compound.expectation == "expect_compound_columns_to_be_unique"
    assert compound.name == "身份证号、日期唯一"
    assert pids.passed
    rows[1]["seen_on"] = "2024-01-05"
    ids, compound, pids = check(cat, tmp_path, rows)
    assert not compound.passed and compound.examples == [f"{mask_id(same)}|2024-01-05"]
    assert_no_full_id([ids, compound, pids])


def test_blocking_and_warning_differ_only_in_the_flag(tmp_path):
    cat = catalogue_with(tmp_path, "{check: value_set, column: kind, values: [甲], blocking: true}",
                         "{check: value_set, column: kind, values: [甲], name: 仅甲类, blocking: false}")
    blocking, warning = check(cat, tmp_path, [row(0, kind="乙")])
    assert (blocking.passed, blocking.blocking) == (False, True)
    assert (warning.passed, warning.blocking, warning.name) == (False, False, "仅甲类")
    assert blocking.observed == warning.observed


def test_missing_failed_and_empty_datasets(tmp_path, catalogue):
    ingested = IngestResult(str(tmp_path), [
        DatasetResult("prison_roster", missing="no file"),
        DatasetResult("dibao_payments", error="ingest failed"),
        DatasetResult("death_records"),  # read, but every row was quarantined: no staged file
    ])
    results = run_expectations(catalogue, ingested, AS_OF, {"death_records": 100})
    assert {r.dataset for r in results} == {"death_records"}
    by_check = {(r.check, r.blocking): r for r in results}
    assert not by_check[("row_count_change", True)].passed  # 0 rows after 100: a drop of 100%
    assert by_check[("non_null_rate", True)].passed and by_check[("non_null_rate", True)].observed == "no rows"
    assert not by_check[("freshness", False)].passed
    blocked = {r.dataset for r in basic_checks(ingested) if r.blocking and not r.passed}
    assert blocked == {"prison_roster", "dibao_payments"}  # the basic gates block them; run_expectations skips them


def test_great_expectations_prints_nothing(tmp_path, capfd):
    cat = catalogue_with(tmp_path, "{check: unique, column: pid, blocking: true}",
                         "{check: non_null_rate, column: month, blocking: false}")
    check(cat, tmp_path, [row(i) for i in range(50)])
    out, err = capfd.readouterr()
    assert out == "" and err == ""


# --------------------------------------------------------------------------- the catalogue


def problems_of(tmp_path, *checks: str) -> list[str]:
    with pytest.raises(SpecError) as caught:
        catalogue_with(tmp_path, *checks)
    return [p.render(with_source=False) for p in caught.value.problems]


def test_catalogue_errors_are_located(tmp_path):
    first = HEAD.count("\n") + 1  # the line of the first check
    cases = [
        ("{check: unique, column: nope, blocking: true}", "unknown column 'nope'"),
        ("{check: valid_id_rate, column: name, min: 0.9, blocking: true}",
         "applies to columns of type id_cn/credit_code/party_id; 'name' is name_zh"),
        ("{check: date_range, column: kind, max_date: as_of, blocking: true}", "'kind' is enum"),
        ("{check: freshness, column: pid, days: 3, blocking: true}", "'pid' is text"),
        ("{check: valid_id_rate, column: id_number, blocking: true}", "needs min"),
        ("{check: freshness, column: seen_on, blocking: false}", "needs days"),
        ("{check: row_count_change, blocking: false}", "needs max_drop, max_growth or both"),
        ("{check: date_range, column: seen_on, blocking: false}", "needs min_date, max_date or both"),
        ("{check: non_null_rate, column: name, min: 95, blocking: true}", "min 95.0 must be a share between 0 and 1"),
        ("{check: row_count_change, max_drop: 1.5, blocking: true}", "max_drop 1.5 must be between 0 and 1"),
        ("{check: unique, column: pid, days: 3, blocking: true}", "does not take days"),
        ("{check: date_range, column: seen_on, max_date: tomorrow, blocking: true}", "date bound 'tomorrow'"),
        ("{check: date_range, column: seen_on, min_date: 2024-02-01, max_date: 2024-01-01, blocking: true}",
         "min_date 2024-02-01 is after max_date 2024-01-01"),
        ("{check: value_set, column: kind, values: [丁], blocking: true}", "values ['丁'] are not among"),
        ("{check: value_set, column: pid, blocking: true}", "on text column 'pid' needs values"),
        ("{check: unique, column: pid}", "missing key 'blocking'"),
        ("{check: unique, column: pid, columns: [name], blocking: true}", "either column or columns"),
        ("{check: sometimes, column: pid, blocking: true}", "check"),
    ]
    for text, message in cases:
        rendered = problems_of(tmp_path, text)
        assert len(rendered) == 1, rendered
        assert rendered[0].startswith(f"sources.yaml:{first}:"), (text, rendered)
        assert message in rendered[0], (text, rendered)


def test_several_mistakes_reported_together_each_on_its_line(tmp_path):
    first = HEAD.count("\n") + 1
    rendered = problems_of(tmp_path, "{check: unique, column: pid, blocking: true}",
                           "{check: unique, columns: [pid, nope], blocking: true}",
                           "{check: valid_id_rate, column: seen_on, min: 0.5, blocking: true}",
                           "{check: unique, column: pid, blocking: false}")
    assert [r.split(": ", 1)[0].rsplit(":", 1)[0] for r in rendered] == [
        f"sources.yaml:{first + 1}", f"sources.yaml:{first + 2}", f"sources.yaml:{first + 3}"]
    assert "unknown column 'nope'" in rendered[0]
    assert "'seen_on' is date" in rendered[1]
    assert "both named '编号唯一'" in rendered[2]


def test_every_shipped_dataset_declares_checks(catalogue):
    for dataset in catalogue.datasets:
        kinds = {(c.check, c.blocking) for c in dataset.quality}
        assert ("non_null_rate", True) in kinds, dataset.name
        assert ("row_count_change", True) in kinds and ("row_count_change", False) in kinds, dataset.name
        drops = [c.max_drop for c in dataset.quality if c.check == "row_count_change" and c.blocking]
        growths = [c.max_growth for c in dataset.quality if c.check == "row_count_change" and not c.blocking]
        assert drops == [0.5] and growths == [3.0]
        for column in dataset.columns:
            if column.type in ("id_cn", "party_id", "credit_code"):
                assert any(c.check == "valid_id_rate" and c.column == column.name for c in dataset.quality)
            if column.type == "enum":
                assert any(c.check == "value_set" and c.column == column.name for c in dataset.quality)
        for key in dataset.primary_key:
            assert any(c.check == "unique" and c.targets == (key,) and c.blocking for c in dataset.quality)
        names = [c.title(dataset) for c in dataset.quality]
        assert len(names) == len(set(names))
    fresh = {(d.name, c.column) for d in catalogue.datasets for c in d.quality if c.check == "freshness"}
    assert {("dibao_payments", "pay_month"), ("pension_payments", "pay_month")} <= fresh
    assert all(not c.blocking for d in catalogue.datasets for c in d.quality if c.check == "freshness")


# --------------------------------------------------------------------------- the page and the sample data


def test_html_page_lists_the_results_in_chinese(tmp_path):
    results = [
        QualityResult("prison_roster", "ingested", True, True, "12 rows accepted", "导入成功"),
        QualityResult("prison_roster", "valid_id_rate", True, False, "valid 40.0% of 5 IDs (min 50%)",
                      "身份证号校验通过率≥50%", "expect_column_values_to_be_in_set", ["510104********0019"]),
        QualityResult("dibao_payments", "freshness", False, False,
                      "newest 2024-01-01 is older than 2024-04-29 (as_of − 62 days)", "发放月份最新值不早于as_of前62天",
                      "expect_column_max_to_be_between"),
        QualityResult("dibao_payments", "unique", False, True, f"see {person_id(3)}", "发放流水号唯一"),
    ]
    path = tmp_path / "quality.html"
    render_quality_html(results, "20240630-000000", AS_OF, path, {"prison_roster": "监所在押人员名单"})
    page = path.read_text(encoding="utf-8")
    assert "<title>数据质量检查结果" in page and "2024-06-30" in page and "20240630-000000" in page
    for text in ["监所在押人员名单", "dibao_payments", "检查", "类型", "结果", "观测值", "阻断", "警告", "通过", "未通过",
                 "身份证号校验通过率≥50%", "valid 40.0% of 5 IDs (min 50%)", "510104********0019", "导入成功"]:
        assert text in page, text
    assert "以下数据集未通过阻断检查" in page and "prison_roster" in page.split("以下数据集未通过阻断检查")[1][:200]
    assert not FULL_ID.search(page)
    assert not list(tmp_path.glob(".*tmp*"))


@pytest.mark.slow
def test_every_shipped_check_passes_on_the_sample_data(sample_root, catalogue, tmp_path):
    from engine.project import Project

    ingested = Project(data_dir=sample_root, out_dir=tmp_path).ingest()
    previous = {d.name: d.rows_accepted for d in ingested.datasets}
    for previous_rows in (None, previous):
        results = run_expectations(catalogue, ingested, AS_OF, previous_rows)
        assert len(results) == sum(len(d.quality) for d in catalogue.datasets)
        failed = [(r.dataset, r.name, r.observed) for r in results if not r.passed]
        assert failed == []
        assert_no_full_id(results)
        assert all(r.expectation.startswith("expect_") and r.name for r in results)
    valid = next(r for r in results if r.dataset == "dibao_payments" and r.check == "valid_id_rate")
    assert re.match(r"valid 9\d\.\d% of [\d,]+ IDs \(min \d+%\)", valid.observed)
    render_quality_html(basic_checks(ingested) + results, "sample", AS_OF, tmp_path / "quality.html",
                        {d.name: d.title for d in catalogue.datasets})
    page = (tmp_path / "quality.html").read_text(encoding="utf-8")
    assert "所有阻断检查均已通过" in page and "最低生活保障金发放明细" in page
    assert not FULL_ID.search(page)


def test_a_check_that_cannot_run_fails_without_stopping_the_others(tmp_path, catalogue):
    cat = catalogue_with(tmp_path, "{check: unique, column: pid, blocking: true}",
                         "{check: unique, column: id_number, blocking: false}")
    good = staged(cat, tmp_path, [row(0), row(1)])
    broken = DatasetResult("people", rows_read=2, rows_accepted=2, staged=str(tmp_path / "gone.parquet"))
    results = run_expectations(cat, IngestResult(str(tmp_path), [broken]), AS_OF)
    assert [(r.passed, r.blocking) for r in results] == [(False, True), (False, False)]
    assert all(r.observed.startswith("could not be evaluated: ") for r in results)
    assert [r.passed for r in run_expectations(cat, good, AS_OF)] == [True, True]
