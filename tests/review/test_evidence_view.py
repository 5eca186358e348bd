"""The clue page's evidence: records side by side with the collided fields marked, and the match
explanation (every field comparison with its level, values, fuzzy scores and weight)."""

from __future__ import annotations

import json
import re

from engine.review.evidence_view import comparisons, evidence_tables, plain_values
from engine.review.publish import publish_run
from tests.review.runbuilder import clue, write_run

ID = "510104198001010014"
OTHER = "510104198001010022"

WAGE_VALUES = {
    "workers": 88,
    "name_match": [{
        "project_name": {"method": "org_name", "level": "fuzzy", "weight": 5.879, "left": "融虹岳新城配套工程一期",
                         "right": "融康岳新城配套工程一期", "ratio": 90.9, "token_set": 95.2},
        "employer_name": {"method": "org_name", "level": "key", "weight": 7.289, "left": "福驰朝建工",
                          "right": "福驰朝建工", "ratio": 100.0, "token_set": 100.0},
        "match_probability": 0.989044, "match_weight": 6.496}],
}
WAGE_SOURCES = [
    {"dataset": "wage_complaints", "file": "wage_complaints.csv", "row": 19,
     "fields": {"complaint_id": "TS0000026", "project_name": "融虹岳新城一期配套工程", "employer_name": "福驰朝建工有限公司",
                "filed_on": "2024-03-05", "workers": 88}},
    {"dataset": "construction_permits", "file": "permits.xlsx", "row": 4,
     "fields": {"permit_no": "SG0000079", "project_name": "融康岳新城配套工程一期", "employer_name": "福驰朝建工有限公司",
                "issued_on": "2024-03-05", "workers": 88}},
]


def test_comparisons_read_every_field_with_its_scores_once():
    repeated = {"id_matches": [{"id_number": {"method": "id_cn", "level": "one_edit", "weight": 1.756, "left": ID,
                                              "right": OTHER}, "match_probability": 0.038216}] * 3}
    [one] = comparisons(repeated)
    assert (one.group, one.field, one.method, one.level, one.left, one.right) == \
        ("id_matches", "id_number", "id_cn", "one_edit", ID, OTHER)
    assert one.scores == () and one.weight == 1.756 and one.probability == 0.038216
    fuzzy, key = comparisons(WAGE_VALUES)
    assert (fuzzy.field, fuzzy.level, fuzzy.scores) == ("project_name", "fuzzy", (("相似度", 90.9), ("词集相似度", 95.2)))
    assert (key.field, key.level, key.probability) == ("employer_name", "key", 0.989044)
    assert comparisons({"months": 3, "custody_periods": [{"start": "2022-04-30", "end": None}]}) == []


def test_plain_values_leave_the_match_explanation_out():
    assert plain_values(WAGE_VALUES) == {"workers": 88}
    assert plain_values({"months": 3, "ids": [ID]}) == {"months": 3, "ids": [ID]}


def test_compared_and_collided_fields_are_marked_dates_and_numbers_are_not():
    deaths = {"dataset": "death_records", "row": 1, "fields": {"id_number": ID, "person_name": "张伟",
                                                                 "death_date": "2022-08-15"}}
    pay = {"dataset": "dibao_payments", "row": 7, "fields": {"id_number": ID, "person_name": "张伟", "amount": 895.5,
                                                             "pay_month": "2022-08-15", "county": "锦江区"}}
    pay2 = {"dataset": "dibao_payments", "row": 8, "fields": {"id_number": ID, "person_name": "张伟", "amount": 895.5,
                                                              "pay_month": "2022-09-01", "county": "锦江区"}}
    tables = evidence_tables({"datasets": {"death_records": "死亡人员信息"}, "values": {},
                              "sources": [pay, deaths, pay2, dict(pay)]})    # pay cited twice: shown once
    assert [t["dataset"] for t in tables] == ["dibao_payments", "death_records"]
    assert tables[1]["title"] == "死亡人员信息" and tables[0]["title"] == "dibao_payments"
    # the ID and the name are in both datasets; the same date and the county (one dataset only) are not marked
    assert [r["row"] for r in tables[0]["rows"]] == [7, 8]
    assert [r["matched"] for r in tables[0]["rows"]] == [{"id_number", "person_name"}] * 2
    assert tables[1]["rows"][0]["matched"] == {"id_number", "person_name"}

    wage = evidence_tables({"values": WAGE_VALUES, "sources": WAGE_SOURCES})
    assert wage[0]["compared"] == ["project_name", "employer_name"]
    # project_name differs between the records but was compared; the employer's name is equal and compared;
    # the shared filing/issue date and the shared worker count are incidental
    assert [t["rows"][0]["matched"] for t in wage] == [{"project_name", "employer_name"}] * 2


def _wage_clue():
    row = clue("w1", "m_wage", subject_id="TS0000026", name="融虹岳新城一期配套工程")
    evidence = {"model": "m_wage", "rule": "default", "datasets": {"wage_complaints": "欠薪投诉举报"},
                "values": {**WAGE_VALUES, "rep_id": ID},
                "sources": [*WAGE_SOURCES,
                            {"dataset": "wage_complaints", "row": 20, "fields": {"complaint_id": "TS0000027",
                                                                                 "reporter_id": ID}},
                            {"dataset": "construction_permits", "row": 5, "fields": {"permit_no": "SG0000080",
                                                                                     "owner_id": ID}}]}
    return {**row, "subject_type": "complaint", "evidence": json.dumps(evidence, ensure_ascii=False)}


def _cells(html: str) -> list[tuple[bool, str]]:
    return [(bool(marked), text) for marked, text in
            re.findall(r'<td( class="matched"[^>]*)?>([^<]*)</td>', html)]


def test_the_clue_page_shows_the_match_and_marks_the_cells(service, tmp_path):
    publish_run(service.store, write_run(tmp_path / "runs2", "r2", [_wage_clue()], models=["m_wage"]))
    client, _ = service.login("pros2")
    html = client.get("/clues/w1").text
    section = html[html.index('id="match-explanation"'):html.index("证据记录")]
    for text in ("name_match", "project_name", "org_name", "近似", "融虹岳新城配套工程一期", "融康岳新城配套工程一期",
                 "相似度 90.9；词集相似度 95.2", "5.88", "0.989", "规范化后一致", "7.29"):
        assert text in section, text
    assert "match_probability" not in html.split("关键事实")[1].split("</table>")[0]
    cells = _cells(html[html.index("证据记录"):])
    assert (True, "融虹岳新城一期配套工程") in cells and (True, "融康岳新城配套工程一期") in cells
    assert (False, "2024-03-05") in cells and (True, "2024-03-05") not in cells
    # an ID number shared by two datasets is marked, and masked for a prosecutor: in the cells and the facts
    assert (True, "510104********0014") in cells and ID not in html
    sheet = client.get("/clues/w1/sheet").text
    assert (True, "融虹岳新城一期配套工程") in _cells(sheet) and ID not in sheet


def test_a_clue_without_a_match_step_has_no_match_section(service):
    client, _ = service.login("pros2")
    html = client.get("/clues/a").text
    assert 'id="match-explanation"' not in html and "证据记录" in html
