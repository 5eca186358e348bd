"""A clue's SVG timeline, drawn from the evidence of real clues of the sample run."""

from __future__ import annotations

import datetime as dt
import json
import xml.etree.ElementTree as ET

import pyarrow.parquet as pq
import pytest

from engine.report.timeline import lanes_of, timeline_svg

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def evidence_of(sample_run):
    _, run_dir, _, _ = sample_run
    clues = pq.read_table(run_dir / "clues.parquet").to_pylist()

    def first(model_id: str, where=lambda evidence: True) -> dict:
        return next(e for e in (json.loads(c["evidence"]) for c in clues if c["model_id"] == model_id) if where(e))
    return first


def _dates(evidence: dict, column: str) -> list[str]:
    return [s["fields"][column] for s in evidence["sources"] if s["fields"].get(column)]


def _shapes(svg: str, cls: str) -> list[ET.Element]:
    return [el for el in ET.fromstring(svg).iter() if el.get("class") == cls]


def _left(el: ET.Element) -> float:
    return float(el.get("x")) if el.get("x") else float(el.get("d").split()[0][1:])


def test_payments_inside_a_custody_spell(evidence_of):
    evidence = evidence_of("prisoner_dibao")
    months = [f["fields"]["pay_month"] for f in evidence["sources"] if f["dataset"] == "dibao_payments"]
    svg = timeline_svg(evidence)
    ticks, bars = _shapes(svg, "month"), _shapes(svg, "bar")
    assert len(ticks) == len(set(months)) and bars
    custody = [b for b in bars if "羁押期间" in b.find(f"{SVG}title").text]
    assert custody and min(_left(b) for b in custody) <= min(_left(t) for t in ticks)


def test_payments_after_a_death(evidence_of):
    # a clue whose every paid month begins after the (earliest) death date
    evidence = evidence_of("deceased_pension", lambda e: min(_dates(e, "pay_month")) > min(_dates(e, "death_date")))
    svg = timeline_svg(evidence, labels={("death_records", "death_date"): "死亡日期"})
    death = [p for p in _shapes(svg, "point") if p.find(f"{SVG}title").text.startswith("死亡日期")]
    ticks = _shapes(svg, "month")
    assert death and ticks and all(_left(t) > min(_left(d) for d in death) for t in ticks)
    titles = [t.text for t in ET.fromstring(svg).iter(f"{SVG}text") if t.get("class") == "lane"]
    assert titles == [evidence["datasets"][d] for d in dict.fromkeys(s["dataset"] for s in evidence["sources"])]


def test_an_open_licence_validity_runs_to_the_as_of_date_dashed():
    evidence = {"as_of": "2024-06-30", "datasets": {"driver_licenses": "驾驶证"}, "sources": [
        {"dataset": "driver_licenses", "fields": {"issued_on": "2023-01-05", "valid_until": None,
                                                  "birth_date": "1950-01-01"}}]}
    (lane,) = lanes_of(evidence)
    assert [(b.start, b.end, b.open_end) for b in lane.bars] == [(dt.date(2023, 1, 5), dt.date(2024, 6, 30), True)]
    assert lane.points == []                                   # a birth date is not an event of the case
    assert 'stroke-dasharray' in timeline_svg(evidence)


def test_text_is_escaped_and_no_id_number_is_drawn():
    hostile = '<script>alert(1)</script>"><img src=x onerror=alert(1)>'
    evidence = {"as_of": "2024-06-30", "datasets": {"death_records": hostile}, "sources": [
        {"dataset": "death_records", "fields": {"id_number": "510104198001017718", "death_date": "2023-11-04"}}]}
    svg = timeline_svg(evidence, labels={("death_records", "death_date"): hostile})
    ET.fromstring(svg)                                         # well-formed: nothing broke out of its element
    assert "<script" not in svg and "<img" not in svg and "&lt;script&gt;" in svg
    assert "510104198001017718" not in svg
    assert "5101-04-19" not in svg                             # an ID number is not read as a basic ISO date


def test_no_dates_no_timeline():
    assert timeline_svg({"sources": [{"dataset": "tax_filings", "fields": {"amount": 1}}]}) == ""
