"""S1: hostile and careless agency files — nothing silently lost, every problem located.

An open quote no longer swallows the rest of a file; a header-only export is an empty dataset that a
blocking gate keeps out (its models skipped, never failed); UTF-16 "Unicode text" and a BOM in front of
GB18030 are read; lines in another encoding or holding NUL bytes are quarantined with their line;
formula cells are neutralised in clues.csv and clues.xlsx; an ID is masked wherever it stands in text.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import zipfile
from pathlib import Path

import fastexcel
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from builders import write_text
from conftest import SAMPLE_AS_OF, run_lsm

from connectors.files import open_file
from engine.execute.backend import CLUE_SCHEMA
from engine.ingest.ingest import QUARANTINE_SCHEMA, Staging, ingest
from engine.masking import mask_ids, mask_text
from engine.report.outputs import HEADERS_ZH, write_clue_files

STAFF_HEADER = "姓名,身份证号,单位名称,岗位,在职状态,工号,入职日期"


def _staff_rows(n: int, start: int = 0) -> list[str]:
    return [f"教师{i:04d},51010419800101{i % 1000:03d}X,成都市第{i % 7}中学,教师,在职,T{i:05d},2020-09-01"
            for i in range(start, start + n)]


def test_an_unclosed_quote_costs_only_its_own_line(tmp_path):
    rows = _staff_rows(3000)
    rows[5] = rows[5].replace(",成都市", ',"成都市', 1)  # an opening quote that never closes
    path = write_text(tmp_path / "school_staff.csv", "\n".join([STAFF_HEADER, *rows]) + "\n")
    raw = open_file(path)
    assert raw.table.num_rows == 2999
    assert [(b.row_number, b.reason) for b in raw.broken_rows] == [
        (7, "第 7 行起的引号未闭合 / unclosed quote from line 7")]
    lines = raw.table.column("_row").to_pylist()
    assert lines[:6] == [2, 3, 4, 5, 6, 8] and lines[-1] == 3001  # later rows keep their exact lines
    assert raw.table.column("c0").to_pylist()[5] == "教师0006"


def test_an_unclosed_quote_before_a_real_multi_line_cell(tmp_path):
    text = "\n".join([STAFF_HEADER, '张伟,510104198001010014,"成都市第一中学,教师,在职,T1,2020-09-01',
                      *_staff_rows(3), '李娜,11010519850505002X,"成都市\n第二中学",教师,在职,T2,2020-09-01',
                      *_staff_rows(2, 10)]) + "\n"
    raw = open_file(write_text(tmp_path / "a.csv", text))
    assert [b.row_number for b in raw.broken_rows] == [2]
    names = raw.table.column("c0").to_pylist()
    assert names == ["教师0000", "教师0001", "教师0002", "李娜", "教师0010", "教师0011"]
    assert raw.table.column("_row").to_pylist() == [3, 4, 5, 6, 8, 9]
    assert raw.table.column("c2").to_pylist()[3] == "成都市\n第二中学"


def test_quotes_the_parser_takes_literally_are_not_damage(tmp_path):
    text = "\n".join([STAFF_HEADER, '张伟,510104198001010014,"成都""一中",教师,在职,T1,2020-09-01',
                      '李娜,11010519850505002X,5寸"屏幕中学,教师,在职,T2,2020-09-01']) + "\n"
    raw = open_file(write_text(tmp_path / "a.csv", text))
    assert raw.broken_rows == []
    assert raw.table.column("c2").to_pylist() == ['成都"一中', '5寸"屏幕中学']


def test_excel_unicode_text_is_read(tmp_path):
    text = "\r\n".join([STAFF_HEADER.replace(",", "\t"), *[r.replace(",", "\t") for r in _staff_rows(3)]]) + "\r\n"
    for encoding, name in (("utf-16-le", "le"), ("utf-16-be", "be")):
        bom = codecs.BOM_UTF16_LE if name == "le" else codecs.BOM_UTF16_BE
        path = tmp_path / f"{name}.csv"
        path.write_bytes(bom + text.encode(encoding))
        raw = open_file(path)
        assert raw.encoding == encoding and raw.headers == STAFF_HEADER.split(",")
        assert raw.table.column("c0").to_pylist() == ["教师0000", "教师0001", "教师0002"]
        assert raw.table.column("_row").to_pylist() == [2, 3, 4]
        assert any("UTF-16" in w for w in raw.warnings)


def test_a_utf8_bom_in_front_of_gbk_is_dropped_with_a_warning(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes(codecs.BOM_UTF8 + "\n".join([STAFF_HEADER, *_staff_rows(2)]).encode("gbk"))
    raw = open_file(path)
    assert raw.encoding == "gb18030" and raw.headers[0] == "姓名"
    assert raw.table.column("c0").to_pylist() == ["教师0000", "教师0001"]
    assert any("byte-order mark" in w for w in raw.warnings)


def test_lines_in_another_encoding_are_quarantined_at_their_lines(tmp_path):
    good = "\n".join([STAFF_HEADER, *_staff_rows(760)]) + "\n"
    tail = "\n".join(_staff_rows(3, 900)).replace("教师", "职工") + "\n"
    path = tmp_path / "a.csv"
    path.write_bytes(good.encode("utf-8") + tail.encode("gb18030"))
    raw = open_file(path)
    assert raw.encoding == "utf-8" and raw.table.num_rows == 760
    assert [b.row_number for b in raw.broken_rows] == [762, 763, 764]
    assert raw.broken_rows[0].text.startswith("职工0900")  # shown decoded in the encoding it is in
    assert "encoding" in raw.broken_rows[0].reason


def test_a_nul_byte_anywhere_quarantines_its_line(tmp_path):
    rows = _staff_rows(400)
    rows[300] = rows[300].replace("在职", "在\x00职")  # far beyond the first 8 KiB
    raw = open_file(write_text(tmp_path / "a.csv", "\n".join([STAFF_HEADER, *rows]) + "\n"))
    assert [(b.row_number, "NUL" in b.reason) for b in raw.broken_rows] == [(302, True)]
    assert raw.table.num_rows == 399
    assert not any("\x00" in v for v in raw.table.column("c4").to_pylist())


def test_hostile_files_keep_the_accounting_exact(catalogue, tmp_path):
    rows = _staff_rows(400)
    rows[3] = rows[3].replace(",成都市", ',"成都市', 1)
    rows[300] = rows[300].replace("在职", "在\x00职")  # a NUL in the first 8 KiB would refuse the file as binary
    write_text(tmp_path / "data" / "school_staff.csv", "\n".join([STAFF_HEADER, *rows]) + "\n")
    result = ingest(catalogue, tmp_path / "data", Staging(tmp_path / "staging"), ["school_staff"])
    staff = result.dataset("school_staff")
    assert (staff.rows_read, staff.rows_accepted, staff.rows_quarantined) == (400, 398, 2)
    assert staff.balanced
    quarantine = pq.read_table(staff.quarantine).to_pylist()
    assert [q["row_number"] for q in quarantine] == [5, 302]
    assert "unclosed quote from line 5" in quarantine[0]["reason"]


def test_a_header_only_file_is_an_empty_dataset(catalogue, tmp_path):
    write_text(tmp_path / "data" / "criminal_cases.csv", "案件编号,犯罪嫌疑人,证件号码,涉嫌罪名,立案日期\n")
    result = ingest(catalogue, tmp_path / "data", Staging(tmp_path / "staging"), ["criminal_cases"])
    cases = result.dataset("criminal_cases")
    assert cases.error is None and cases.staged is not None
    assert pq.read_table(cases.staged).num_rows == 0 and cases.balanced


@pytest.fixture(scope="module")
def empty_cases_run(sample_root, tmp_path_factory):
    """The sample data with criminal_cases exported as a header only."""
    root = tmp_path_factory.mktemp("empty-cases")
    data = root / "data"
    for path in sample_root.rglob("*"):
        if path.is_file() and not path.name.startswith("criminal_cases"):
            target = data / path.relative_to(sample_root)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
    write_text(data / "criminal_cases.csv", "案件编号,犯罪嫌疑人,证件号码,涉嫌罪名,立案日期\n")
    proc = run_lsm("run", "--data", str(data), "--out", str(root / "out"), "--as-of", SAMPLE_AS_OF, "--json")
    return proc


def test_an_empty_dataset_skips_its_models_with_the_gate_as_reason(empty_cases_run):
    assert empty_cases_run.returncode == 3, empty_cases_run.stderr
    payload = json.loads(empty_cases_run.stdout)
    statuses = {m: v["status"] for m, v in payload["models"].items()}
    assert statuses["penalty_not_transferred"] == "skipped"
    assert "criminal_cases" in payload["models"]["penalty_not_transferred"]["reason"]
    assert "not_empty" in payload["models"]["penalty_not_transferred"]["reason"]
    assert all(s == "ok" for m, s in statuses.items() if m != "penalty_not_transferred")
    manifest = json.loads((Path(payload["run_dir"]) / "manifest.json").read_text(encoding="utf-8"))
    gate = [q for q in manifest["quality"] if q["dataset"] == "criminal_cases" and q["check"] == "not_empty"]
    assert gate and gate[0]["blocking"] and not gate[0]["passed"]


FORMULAS = ['=HYPERLINK("http://evil.example","点我")', "=CMD|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1)",
            "\tTAB", "\rCR"]


def _clues(rows: list[dict]) -> pa.Table:
    base = {"run_id": "r", "model_id": "m", "rule_id": "default", "clue_id": "c", "subject_type": "person",
            "subject_id": "x", "subject_name": "x", "rank": 1, "score": 1.0, "confidence": 1.0, "amount": None,
            "period_start": None, "period_end": None, "summary": "", "evidence": "{}"}
    return pa.Table.from_pylist([{**base, **row} for row in rows], schema=CLUE_SCHEMA)


def test_formula_cells_are_neutralised_in_csv_and_xlsx(tmp_path):
    clues = _clues([{"subject_name": f, "subject_id": f"ID{i}", "summary": f, "clue_id": f"c{i}", "rank": i + 1}
                    for i, f in enumerate(FORMULAS)])
    write_clue_files(clues, QUARANTINE_SCHEMA.empty_table(), tmp_path,
                     [{"id": "m", "title": '=HYPERLINK("x")模型', "legal_basis": "+依据", "status": "ok"}])
    text = (tmp_path / "clues.csv").read_bytes().decode("utf-8-sig")
    names = [r["subject_name"] for r in csv.DictReader(io.StringIO(text))]
    assert names == ["'" + f for f in FORMULAS]
    assert pq.read_table(tmp_path / "clues.parquet").column("subject_name").to_pylist() == FORMULAS
    with zipfile.ZipFile(tmp_path / "clues.xlsx") as book:  # no cell of any sheet is a formula
        sheets = [book.read(n).decode() for n in book.namelist() if n.startswith("xl/worksheets/sheet")]
    assert len(sheets) == 2 and not any("<f>" in xml or "<f " in xml for xml in sheets)
    summary = fastexcel.read_excel(str(tmp_path / "clues.xlsx")).load_sheet(0, dtypes="string").to_arrow()
    assert summary.column("模型名称").to_pylist() == ['\'=HYPERLINK("x")模型']
    assert summary.column("法律依据").to_pylist() == ["'+依据"]
    sheet = fastexcel.read_excel(str(tmp_path / "clues.xlsx")).load_sheet(1, dtypes="string").to_arrow()
    assert sheet.column(HEADERS_ZH["subject_name"]).to_pylist() == ["'" + f for f in FORMULAS]


@pytest.mark.parametrize("text,masked", [
    ("川西监狱ID510104198001010014号", "川西监狱ID510104********0014号"),
    ("编号No510104198001010014", "编号No510104********0014"),
    ("x510104198001010014y", "x510104********0014y"),
    ("身份证510104800101001", "身份证510104*****1001"),
])
def test_ids_are_masked_wherever_they_stand(text, masked):
    assert mask_ids(text) == masked
    assert "198001010014" not in mask_text(text) and "800101001" not in mask_text(text)


def test_longer_digit_runs_are_not_mistaken_for_ids():
    account = "6222021234567890123"  # 19 digits: a bank card, not an ID number
    assert mask_ids(account) == account
