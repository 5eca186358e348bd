"""The real `lsm` command for the catalogue and ingest (a subprocess, as an operator runs it)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from builders import PRISON_HEADER_ZH, prison_row, write_csv

LSM = Path(sys.executable).parent / "lsm"


def lsm(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(LSM), *args], capture_output=True, text=True, cwd=cwd, check=False)


def test_sources_lists_the_catalogue_and_the_files_found(tmp_path):
    write_csv(tmp_path / "prison_roster.csv", PRISON_HEADER_ZH, [prison_row()])
    proc = lsm("sources", "--data", str(tmp_path), "--json")
    assert proc.returncode == 0, proc.stderr
    payload = json.loads(proc.stdout)
    by_name = {d["dataset"]: d for d in payload["datasets"]}
    assert len(by_name) == 17
    assert by_name["prison_roster"]["files"] == [str(tmp_path / "prison_roster.csv")]
    assert by_name["prison_roster"]["title"] == "监所在押人员名单"
    assert by_name["death_records"]["files"] == []


def test_ingest_json_accounts_for_every_row(tmp_path):
    data = tmp_path / "data"
    write_csv(data / "prison_roster.csv", PRISON_HEADER_ZH, [prison_row(), prison_row(birth="2023-13-45")])
    proc = lsm("ingest", "--data", str(data), "--out", str(tmp_path / "out"), "--json")
    assert proc.returncode == 0, proc.stderr
    payload = json.loads(proc.stdout)
    roster = next(d for d in payload["datasets"] if d["name"] == "prison_roster")
    assert (roster["rows_read"], roster["rows_accepted"], roster["rows_quarantined"]) == (2, 1, 1)
    assert (tmp_path / "out" / "staging" / "datasets" / "prison_roster.parquet").exists()


def test_ingest_table_output_and_exit_code_on_a_broken_file(tmp_path):
    data = tmp_path / "data"
    (data / "prison_roster").mkdir(parents=True)
    (data / "prison_roster" / "x.csv").write_bytes(b"")
    proc = lsm("ingest", "--data", str(data), "--out", str(tmp_path / "out"))
    assert proc.returncode == 3
    assert "数据接入统计" in proc.stdout and "prison_roster" in proc.stdout


def test_unknown_dataset_is_a_usage_error(tmp_path):
    proc = lsm("ingest", "--data", str(tmp_path), "--out", str(tmp_path / "o"), "--dataset", "nope")
    assert proc.returncode == 2 and "unknown dataset" in proc.stderr
