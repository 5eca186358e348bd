"""`lsm run`: the run directory of CONTRACT.md, exit codes, the lock, and `latest` only after success."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pyarrow.parquet as pq
from conftest import LSM, REPO, SAMPLE_AS_OF, run_lsm

from engine.runs.directory import RunLock

CONTRACT_COLUMNS = {
    "run_id": "string", "model_id": "string", "rule_id": "string", "clue_id": "string", "subject_type": "string",
    "subject_id": "string", "subject_name": "string", "rank": "int32", "score": "double", "confidence": "double",
    "amount": "decimal128(18, 2)", "period_start": "date32[day]", "period_end": "date32[day]", "summary": "string",
    "evidence": "string",
}


def test_run_directory_has_every_file_with_the_contract_columns(sample_run):
    out, run_dir, payload, _ = sample_run
    for name in ("clues.parquet", "clues.csv", "clues.xlsx", "quarantine.parquet", "manifest.json", "report.html"):
        assert (run_dir / name).is_file(), name
    assert (out / "latest").is_symlink() and (out / "latest").resolve() == run_dir.resolve()
    table = pq.read_table(run_dir / "clues.parquet")
    assert {f.name: str(f.type) for f in table.schema} == CONTRACT_COLUMNS
    rows = table.to_pylist()
    assert len({r["clue_id"] for r in rows}) == len(rows)
    assert {r["run_id"] for r in rows} == {payload["run_id"]}
    by_rule: dict = {}
    for r in rows:
        by_rule.setdefault((r["model_id"], r["rule_id"]), []).append(r["rank"])
    for key, ranks in by_rule.items():
        assert sorted(ranks) == list(range(1, len(ranks) + 1)), key
    assert all(0 <= r["score"] <= 100 and 0 <= r["confidence"] <= 1 for r in rows)
    quarantine = pq.read_table(run_dir / "quarantine.parquet")
    assert quarantine.column_names == ["dataset", "source_file", "row_number", "reason", "raw"]


def test_csv_has_bom_and_the_same_rows(sample_run):
    _, run_dir, _, _ = sample_run
    data = (run_dir / "clues.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(data[3:].decode("utf-8"))))
    parquet = pq.read_table(run_dir / "clues.parquet").to_pylist()
    assert [r["clue_id"] for r in rows] == [r["clue_id"] for r in parquet]
    assert rows[0]["summary"] == parquet[0]["summary"]


def test_xlsx_has_a_summary_sheet_and_chinese_headers(sample_run):
    import fastexcel

    _, run_dir, payload, _ = sample_run
    book = fastexcel.read_excel(str(run_dir / "clues.xlsx"))
    assert book.sheet_names[0] == "汇总" and len(book.sheet_names) == 1 + len(payload["models"])
    summary = book.load_sheet(0).to_arrow().to_pylist()
    assert {r["模型编号"] for r in summary} == set(payload["models"])
    sheet = book.load_sheet(1).to_arrow()
    assert "线索摘要" in sheet.column_names and "对象编号" in sheet.column_names


def test_manifest_records_models_datasets_and_quality(sample_run):
    _, run_dir, payload, _ = sample_run
    m = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    assert m["schema_version"] == 1 and m["run_id"] == payload["run_id"] and m["as_of"] == SAMPLE_AS_OF
    assert m["status"] == "ok" and m["started_at"] <= m["finished_at"]
    clue_counts = {}
    for r in pq.read_table(run_dir / "clues.parquet").to_pylist():
        clue_counts[r["model_id"]] = clue_counts.get(r["model_id"], 0) + 1
    for model in m["models"]:
        assert set(model) >= {"id", "version", "fingerprint", "status", "reason", "clues", "seconds"}
        assert model["clues"] == clue_counts[model["id"]]
    for d in m["datasets"]:
        assert d["rows_read"] == d["rows_accepted"] + d["rows_quarantined"] + d["rows_duplicate"]
        assert all(len(f["sha256"]) == 64 and f["encoding"] in ("gb18030", "utf-8", "utf-8-sig", None)
                   for f in d["files"])
    encodings = {f["encoding"] for d in m["datasets"] for f in d["files"]}
    assert {"gb18030", "utf-8", "utf-8-sig", None} <= encodings
    assert all(q["passed"] for q in m["quality"])


def test_evidence_is_real_lineage(sample_run):
    _, run_dir, _, _ = sample_run
    rows = pq.read_table(run_dir / "clues.parquet").to_pylist()
    clue = next(r for r in rows if r["model_id"] == "prisoner_dibao")
    evidence = json.loads(clue["evidence"])
    assert evidence["subject"]["id"] == clue["subject_id"]
    datasets = {s["dataset"] for s in evidence["sources"]}
    assert datasets == {"dibao_payments", "prison_roster"}
    payment = next(s for s in evidence["sources"] if s["dataset"] == "dibao_payments")
    assert payment["file"].startswith("dibao_payments/") and payment["row"] >= 2
    assert payment["key"]["payment_id"] == payment["fields"]["payment_id"]
    # The file and row number point at the original record in the agency's file.
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    raw = (Path(manifest["data_root"]) / payment["file"]).read_bytes()
    encoding = next(f["encoding"] for d in manifest["datasets"] for f in d["files"] if f["path"] == payment["file"])
    line = raw.decode(encoding).splitlines()[payment["row"] - 1]
    assert line.split(",")[0] == payment["key"]["payment_id"]
    assert evidence["score"]["explain"].endswith(f"= {clue['score']:.2f}")


def test_clue_ids_are_stable_across_runs(sample_run, tmp_path):
    out, run_dir, _, _ = sample_run
    root = Path(json.loads((run_dir / "manifest.json").read_text())["data_root"])
    proc = run_lsm("run", "--data", str(root), "--out", str(tmp_path), "--as-of", SAMPLE_AS_OF, "--json",
                   "--model", "deceased_dibao")
    assert proc.returncode == 0, proc.stderr
    again = pq.read_table(Path(json.loads(proc.stdout)["run_dir"]) / "clues.parquet").to_pylist()
    first = {r["clue_id"]: r["subject_id"] for r in pq.read_table(run_dir / "clues.parquet").to_pylist()
             if r["model_id"] == "deceased_dibao"}
    assert {r["clue_id"]: r["subject_id"] for r in again} == first


def test_report_html_masks_every_id_number(sample_run):
    import re

    _, run_dir, _, _ = sample_run
    page = (run_dir / "report.html").read_text(encoding="utf-8")
    assert "《最低生活保障审核确认办法》" in page and "<svg" in page
    assert "死亡人员冒领养老金" in page and "优先核查线索" in page
    people = {r["subject_id"] for r in pq.read_table(run_dir / "clues.parquet").to_pylist()
              if r["subject_type"] in ("person", "person_year")}
    assert people and not any(s.split(":")[0] in page for s in people)
    assert not re.search(r"(?<!\d)\d{17}[\dX](?!\d)", page)
    assert "********" in page


def test_definition_error_exits_2_and_runs_nothing(tmp_path, sample_root):
    models = tmp_path / "models"
    shutil.copytree(REPO / "models", models)
    text = (models / "deceased_dibao.yaml").read_text(encoding="utf-8")
    (models / "deceased_dibao.yaml").write_text(text.replace("version: \"1.0.0\"", "version: \"1.0.0\"\nbogus: 1"),
                                                encoding="utf-8")
    proc = run_lsm("run", "--models", str(models), "--data", str(sample_root), "--out", str(tmp_path / "out"),
                   "--as-of", SAMPLE_AS_OF)
    assert proc.returncode == 2 and "unknown key 'bogus'" in proc.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_missing_dataset_skips_dependent_models_with_exit_3(tmp_path, sample_root):
    data = tmp_path / "data"
    shutil.copytree(sample_root, data)
    (data / "death_records.xlsx").unlink()
    proc = run_lsm("run", "--data", str(data), "--out", str(tmp_path / "out"), "--as-of", SAMPLE_AS_OF, "--json")
    assert proc.returncode == 3, proc.stderr
    payload = json.loads(proc.stdout)
    status = {m: v["status"] for m, v in payload["models"].items()}
    skipped = {"deceased_dibao", "deceased_pension"}      # the models that read death_records
    assert {m for m, v in status.items() if v == "skipped"} == skipped
    assert {v for m, v in status.items() if m not in skipped} == {"ok"} and len(status) > len(skipped)
    assert "death_records" in payload["models"]["deceased_dibao"]["reason"]


def test_a_failing_model_exits_1_and_the_others_are_written(tmp_path, sample_root):
    models = tmp_path / "models"
    shutil.copytree(REPO / "models", models)
    # A join that multiplies payment rows: the fan-out guard must stop the model, not double count.
    text = (models / "prisoner_pension.yaml").read_text(encoding="utf-8")
    text = text.replace("      - {to: custody, on: custody.id_number = payments.id_number}",
                        "      - {to: custody, on: custody.id_number = payments.id_number}\n"
                        "      - {to: sentenced_spells, alias: again, on: again.id_number = payments.id_number}")
    (models / "prisoner_pension.yaml").write_text(text, encoding="utf-8")
    proc = run_lsm("run", "--models", str(models), "--data", str(sample_root), "--out", str(tmp_path / "out"),
                   "--as-of", SAMPLE_AS_OF, "--json")
    assert proc.returncode == 1, proc.stderr
    payload = json.loads(proc.stdout)
    assert payload["models"]["prisoner_pension"]["status"] == "failed"
    assert "double counted" in payload["models"]["prisoner_pension"]["reason"]
    clues = pq.read_table(Path(payload["run_dir"]) / "clues.parquet").to_pylist()
    assert {r["model_id"] for r in clues} == set(payload["models"]) - {"prisoner_pension"}


def test_second_run_while_the_lock_is_held_exits_4(tmp_path, sample_root):
    out = tmp_path / "out"
    with RunLock(out):
        proc = run_lsm("run", "--data", str(sample_root), "--out", str(out), "--as-of", SAMPLE_AS_OF)
    assert proc.returncode == 4 and "lock" in proc.stderr
    assert not (out / "latest").exists()


def test_killed_run_never_becomes_latest_and_leaves_nothing_that_looks_complete(tmp_path, sample_root):
    out = tmp_path / "out"
    proc = run_lsm("run", "--data", str(sample_root), "--out", str(out), "--as-of", SAMPLE_AS_OF,
                   "--model", "deceased_dibao")
    assert proc.returncode == 0
    first = (out / "latest").resolve()
    child = subprocess.Popen([str(LSM), "run", "--data", str(sample_root), "--out", str(out), "--as-of",
                              SAMPLE_AS_OF], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline:  # wait until the run has started writing its work directory
        incoming = out / ".incoming"
        if incoming.exists() and any(incoming.iterdir()):
            break
        time.sleep(0.05)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert (out / "latest").resolve() == first
    published = [p for p in out.iterdir() if p.is_dir() and not p.is_symlink() and p.name[:1].isdigit()]
    assert published == [first]
    # The next run completes normally and cleans up the killed run's work directory.
    proc = run_lsm("run", "--data", str(sample_root), "--out", str(out), "--as-of", SAMPLE_AS_OF,
                   "--model", "deceased_dibao")
    assert proc.returncode == 0
    assert (out / "latest").resolve() != first
    assert not any((out / ".incoming").iterdir())


def test_report_shows_all_ten_models_and_explains_each_listed_score(sample_run):
    import html

    from engine.report.html import TOP_N
    from engine.spec.load import load_model

    _, run_dir, _, _ = sample_run
    page = (run_dir / "report.html").read_text(encoding="utf-8")
    titles = {p.stem: load_model(p, REPO / "models").spec.title.zh for p in (REPO / "models").glob("*.yaml")
              if p.name != "sources.yaml"}
    assert len(titles) == 10 and all(title in page for title in titles.values()), titles
    clues = pq.read_table(run_dir / "clues.parquet").to_pylist()
    listed = []  # the report lists, per model, its TOP_N first clues by rank (the rules interleaved)
    for model in titles:
        listed += sorted((c for c in clues if c["model_id"] == model), key=lambda c: (c["rank"], c["rule_id"]))[:TOP_N]
    assert {(c["model_id"], c["rule_id"]) for c in listed} == {(c["model_id"], c["rule_id"]) for c in clues}
    for c in listed:  # one line per clue: which signals, how much each (e.g. 拖欠金额 0.82×70 + … = 69.40)
        explain = json.loads(c["evidence"])["score"]["explain"]
        assert "×" in explain and html.escape(explain) in page, (c["model_id"], c["rule_id"], c["rank"], explain)
