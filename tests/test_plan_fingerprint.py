"""A model's fingerprint is its compiled plan (what changes results); its metadata has its own hash."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from conftest import REPO

from engine.compile.model import compile_model
from engine.spec.load import load_model

CASE = Path(__file__).parent / "fixtures" / "plans" / "custody_periods.yaml"
AS_OF = dt.date(2024, 6, 30)


def _plan(tmp_path: Path, catalogue, edit=lambda t: t, as_of=AS_OF):
    path = tmp_path / "m.yaml"
    path.write_text(edit(CASE.read_text(encoding="utf-8")), encoding="utf-8")
    return compile_model(load_model(path, REPO / "models"), catalogue, as_of)


def test_titles_and_descriptions_change_only_the_metadata_fingerprint(tmp_path, catalogue):
    base = _plan(tmp_path, catalogue)
    edited = _plan(tmp_path, catalogue, lambda t: t.replace("title: {zh: 服刑期间领取低保（样例）}",
                                                            "title: {zh: 改过的标题}\ndescription: 新的说明"))
    assert edited.fingerprint == base.fingerprint
    assert edited.metadata_fingerprint != base.metadata_fingerprint


def test_what_changes_results_changes_the_fingerprint(tmp_path, catalogue):
    base = _plan(tmp_path, catalogue)
    for edit in (lambda t: t.replace("weight: 70", "weight: 60"),                 # the score
                 lambda t: t.replace("custody_type = '已决'", "custody_type = '未决'"),  # a filter
                 lambda t: t.replace("共 {amount:yuan}", "合计 {amount:yuan}")):       # the summary a prosecutor reads
        assert _plan(tmp_path, catalogue, edit).fingerprint != base.fingerprint


def test_the_as_of_date_is_not_part_of_the_fingerprint(tmp_path, catalogue):
    assert _plan(tmp_path, catalogue).fingerprint == _plan(tmp_path, catalogue, as_of=dt.date(2025, 1, 31)).fingerprint


def test_lookup_rows_are_part_of_the_fingerprint(tmp_path, catalogue):
    case = CASE.with_name("lookup_union_cross.yaml")
    path = tmp_path / "l.yaml"
    path.write_text(case.read_text(encoding="utf-8"), encoding="utf-8")
    base = compile_model(load_model(path, REPO / "models"), catalogue, AS_OF).fingerprint
    path.write_text(case.read_text(encoding="utf-8").replace("[非法经营, 个人, 50000]", "[非法经营, 个人, 50001]"),
                    encoding="utf-8")
    assert compile_model(load_model(path, REPO / "models"), catalogue, AS_OF).fingerprint != base
