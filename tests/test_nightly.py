"""`lsm nightly` as cron runs it: real processes, real kills, real files (no mocks).

* SIGKILL at several points, then the rerun: exactly the clues of an uninterrupted night, finished
  models not recomputed, nothing half-published;
* two nights at once: the second exits 4 at once;
* corrupt inputs: the bad file is reported, its models skipped (exit 3), the others unaffected;
* three nights with changing data: clue lifecycle states, `lsm diff`, file changes, the notify hook.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from conftest import LSM, REPO, SAMPLE_AS_OF, run_lsm

from sample_data.people import check_char


def _nightly_args(data: Path, out: Path, *extra: str) -> list[str]:
    return [str(LSM), "nightly", "--data", str(data), "--out", str(out), "--as-of", SAMPLE_AS_OF, *extra]


def _clues(run_dir: Path) -> dict[str, tuple]:
    rows = pq.read_table(run_dir / "clues.parquet").to_pylist()
    return {r["clue_id"]: (r["model_id"], r["rule_id"], r["subject_id"], r["rank"], r["score"], str(r["amount"]),
                           r["summary"], r["evidence"]) for r in rows}


def _events(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="module")
def baseline(sample_root, tmp_path_factory):
    """One uninterrupted night over the sample data."""
    out = tmp_path_factory.mktemp("baseline")
    proc = subprocess.run(_nightly_args(sample_root, out, "--json"), capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    return out, Path(summary["run_dir"]), summary


def _kill_after(args: list[str], out: Path, event: str, count: int) -> None:
    """Start a night and SIGKILL it once its log shows ``count`` events named ``event``."""
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    try:
        while time.monotonic() < deadline:
            logs = list((out / ".incoming").glob("*/log.jsonl")) if (out / ".incoming").exists() else []
            if logs and sum(1 for e in _events(logs[0]) if e["event"] == event) >= count:
                proc.send_signal(signal.SIGKILL)
                proc.wait(30)
                return
            if proc.poll() is not None:
                raise AssertionError(f"the night finished before {count}× {event}")
            time.sleep(0.02)
        raise AssertionError(f"no {count}× {event} within the deadline")
    finally:
        if proc.poll() is None:
            proc.kill()


@pytest.mark.parametrize("event,count", [("file_staged", 3), ("model_done", 4)])
def test_a_night_killed_midway_publishes_nothing_and_the_rerun_equals_an_uninterrupted_night(
        sample_root, baseline, tmp_path, event, count):
    out = tmp_path / "out"
    _kill_after(_nightly_args(sample_root, out), out, event, count)
    assert not (out / "latest").exists()                          # nothing half-published
    assert not [p for p in out.iterdir() if p.is_dir() and p.name[:1].isdigit()]
    proc = subprocess.run(_nightly_args(sample_root, out, "--json"), capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    run_dir = Path(summary["run_dir"])
    assert _clues(run_dir) == _clues(baseline[1])
    interrupted = list((out / "logs").glob("*.interrupted.jsonl"))   # what the killed night had done
    assert len(interrupted) == 1
    done_before = [e["model"] for e in _events(interrupted[0]) if e["event"] == "model_done"]
    reused = [e["model"] for e in _events(run_dir / "log.jsonl") if e["event"] == "model_reused"]
    assert sorted(reused) == sorted(done_before)                     # finished models are not recomputed
    if event == "model_done":
        assert len(done_before) >= count
    files = [e for e in _events(run_dir / "log.jsonl") if e["event"] == "file_staged"]
    if event == "file_staged":
        assert sum(e["reused"] for e in files) >= count - 1          # staged files are not parsed again


def test_a_night_killed_while_writing_its_outputs_reruns_to_the_same_clues(sample_root, baseline, tmp_path):
    out = tmp_path / "out"
    _kill_after(_nightly_args(sample_root, out), out, "model_done", 10)  # the last model: outputs are next
    proc = subprocess.run(_nightly_args(sample_root, out, "--json"), capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    run_dir = Path(json.loads(proc.stdout)["run_dir"])
    assert _clues(run_dir) == _clues(baseline[1])
    assert (out / "latest").resolve() == run_dir.resolve()
    for run in (p for p in out.iterdir() if p.is_dir() and p.name[:1].isdigit()):
        assert (run / "manifest.json").exists() and (run / "clues.parquet").exists()   # only whole runs


def test_two_nights_at_once_the_second_exits_4_at_once(sample_root, tmp_path):
    out = tmp_path / "out"
    first = subprocess.Popen(_nightly_args(sample_root, out), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             text=True)
    deadline = time.monotonic() + 120
    while not list((out / ".incoming").glob("*/log.jsonl")) if (out / ".incoming").exists() else True:
        assert time.monotonic() < deadline and first.poll() is None
        time.sleep(0.02)
    second = subprocess.run(_nightly_args(sample_root, out), capture_output=True, text=True, timeout=60)
    assert second.returncode == 4
    assert "another lsm run holds the lock" in second.stderr and str(first.pid) in second.stderr
    assert first.wait(600) == 0
    assert len([p for p in out.iterdir() if p.is_dir() and p.name[:1].isdigit()]) == 1


def test_corrupt_inputs_are_reported_and_only_their_models_skipped(sample_root, baseline, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(sample_root, data)
    registry = data / "business_registry.parquet"
    registry.write_bytes(registry.read_bytes()[: registry.stat().st_size // 2])            # truncated Parquet
    filings = data / "tax_filings.csv"
    text = filings.read_text(encoding="utf-8").encode("utf-8")
    filings.write_bytes(bytes(b if b < 0x80 else 0xFF for b in text))                      # neither UTF-8 nor GB18030
    out = tmp_path / "out"
    proc = subprocess.run(_nightly_args(data, out, "--json"), capture_output=True, text=True, timeout=600)
    assert proc.returncode == 3, proc.stderr
    summary = json.loads(proc.stdout)
    status = {m["id"]: m["status"] for m in summary["models"]}
    assert {m for m, s in status.items() if s == "skipped"} == {"food_ban_license", "loan_interest_tax"}
    assert all(s == "ok" for m, s in status.items() if m not in ("food_ban_license", "loan_interest_tax"))
    blocking = " ".join(summary["quality"]["blocking_failed"])
    assert "business_registry.parquet" in blocking and "tax_filings.csv" in blocking
    run_dir = Path(summary["run_dir"])
    healthy = {k: v for k, v in _clues(baseline[1]).items() if v[0] not in ("food_ban_license", "loan_interest_tax")}
    assert _clues(run_dir) == healthy                               # the other models: exactly as on a good night
    page = (run_dir / "quality.html").read_text(encoding="utf-8")
    assert "business_registry" in page and "tax_filings" in page


# ------------------------------------------------------------------------------ three nights, small data

def _id(body17: str) -> str:
    return body17 + check_char(body17)


PEOPLE = {"A": ("张伟", _id("51010419400101001")), "B": ("李娜", _id("51010419410202002")),
          "C": ("王强", _id("51010419420303003")), "D": ("赵敏", _id("51010419430404004"))}
DEATHS = {"A": "2023-12-10", "B": "2023-12-15", "C": "2024-01-05"}


def _write_night(data: Path, deaths: list[str], months: list[str]) -> None:
    (data / "pension_payments").mkdir(parents=True, exist_ok=True)
    for old in (data / "pension_payments").glob("*.csv"):
        if old.stem not in months:
            old.unlink()
    for month in months:
        lines = ["payment_id,person_name,id_number,pension_type,pay_month,amount"]
        lines += [f"P{month.replace('-', '')}{k},{name},{number},城镇职工,{month},3000"
                  for k, (name, number) in PEOPLE.items()]
        path = data / "pension_payments" / f"{month}.csv"
        text = "\n".join(lines) + "\n"
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
    lines = ["record_id,person_name,id_number,death_date,source"]
    lines += [f"D{k},{PEOPLE[k][0]},{PEOPLE[k][1]},{DEATHS[k]},户籍注销" for k in deaths]
    (data / "death_records.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _nightly(models: Path, data: Path, out: Path, *extra: str, as_of: str = "2024-06-30", expect: int = 0
             ) -> subprocess.CompletedProcess:
    """One `lsm nightly` process; its exit status must be ``expect``."""
    proc = run_lsm("nightly", "--models", str(models), "--data", str(data), "--out", str(out), "--as-of", as_of,
                   *extra)
    assert proc.returncode == expect, proc.stdout + proc.stderr
    return proc


def _night(models: Path, data: Path, out: Path, *extra: str, as_of: str = "2024-06-30", expect: int = 0) -> dict:
    """One night's summary (``--json``)."""
    return json.loads(_nightly(models, data, out, "--json", *extra, as_of=as_of, expect=expect).stdout)


def _states(run_dir: str) -> dict[str, str]:
    rows = pq.read_table(Path(run_dir) / "clue_states.parquet").to_pylist()
    names = {number: k for k, (_, number) in PEOPLE.items()}
    return {names[r["subject_id"]]: r["state"] for r in rows}


def _pension_models(tmp_path: Path) -> Path:
    """A models folder with M03 alone (its template and the catalogue)."""
    models = tmp_path / "models"
    (models / "templates").mkdir(parents=True)
    shutil.copy(REPO / "models" / "sources.yaml", models)
    shutil.copy(REPO / "models" / "deceased_pension.yaml", models)
    shutil.copy(REPO / "models" / "templates" / "deceased_benefit.yaml", models / "templates")
    return models


def test_three_nights_give_lifecycle_states_diffs_file_changes_and_notifications(tmp_path):
    models = _pension_models(tmp_path)
    data, out = tmp_path / "data", tmp_path / "out"
    hook = tmp_path / "notified.jsonl"
    notify = ("--notify", f"cat >> {hook}; echo >> {hook}")

    _write_night(data, ["A", "B"], ["2024-01", "2024-02", "2024-03"])
    night1 = _night(models, data, out, *notify)
    assert _states(night1["run_dir"]) == {"A": "new", "B": "new"}

    _write_night(data, ["B", "C"], ["2024-01", "2024-02", "2024-03", "2024-04"])   # A's death record withdrawn
    night2 = _night(models, data, out, *notify)
    assert _states(night2["run_dir"]) == {"A": "resolved", "B": "persisting", "C": "new"}
    assert night2["files"]["pension_payments"] == {"added": 1, "changed": 0, "removed": 0, "unchanged": 3}
    assert night2["files"]["death_records"]["changed"] == 1
    staged = {e["file"]: e["reused"] for e in _events(Path(night2["run_dir"]) / "log.jsonl")
              if e["event"] == "file_staged"}
    assert staged == {"pension_payments/2024-01.csv": True, "pension_payments/2024-02.csv": True,
                      "pension_payments/2024-03.csv": True, "pension_payments/2024-04.csv": False,
                      "death_records.csv": False}                  # only the new and the changed file are read

    _write_night(data, ["A", "B", "C"], ["2024-01", "2024-02", "2024-03"])        # A back; April's file removed
    night3 = _night(models, data, out, *notify)
    assert _states(night3["run_dir"]) == {"A": "reopened", "B": "persisting", "C": "persisting"}
    assert night3["removed_files"] == ["pension_payments/2024-04.csv"]
    assert night3["models"][0]["changes"] == {"new": 0, "persisting": 2, "reopened": 1, "resolved": 0}

    # lsm diff: by default the two latest runs; with names, any two.
    proc = run_lsm("diff", "--out", str(out), "--json")
    assert proc.returncode == 0, proc.stderr
    latest = json.loads(proc.stdout)
    assert latest["counts"] == {"deceased_pension": {"default": {"persisting": 2, "reopened": 1}}}
    assert [c["change"] for c in latest["changes"]] == ["reopened"]
    assert latest["changes"][0]["subject"] == PEOPLE["A"][1][:6] + "********" + PEOPLE["A"][1][-4:]
    assert Path(latest["file"]).exists()
    run1, run2 = Path(night1["run_dir"]).name, Path(night2["run_dir"]).name
    earlier = json.loads(run_lsm("diff", run1, run2, "--out", str(out), "--json").stdout)
    assert earlier["counts"] == {"deceased_pension": {"default": {"new": 1, "persisting": 1, "resolved": 1}}}
    printed = run_lsm("diff", "--out", str(out))
    assert printed.returncode == 0 and "reopened" in printed.stdout and PEOPLE["A"][1] not in printed.stdout

    # The report lists new and reopened clues first; the notify hook got one summary per night.
    page = (Path(night3["run_dir"]) / "report.html").read_text(encoding="utf-8")
    assert page.index("重现") < page.index("持续")
    summaries = [json.loads(line) for line in hook.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert [s["run_id"] for s in summaries] == [night1["run_id"], night2["run_id"], night3["run_id"]]
    for s in summaries:
        assert not any(number in json.dumps(s, ensure_ascii=False) for _, number in PEOPLE.values())


def test_a_skipped_model_keeps_its_clues_states_instead_of_resolving_them(tmp_path):
    models = _pension_models(tmp_path)
    data, out = tmp_path / "data", tmp_path / "out"
    _write_night(data, ["A", "B"], ["2024-01", "2024-02"])
    first = _night(models, data, out)
    (data / "death_records.csv").write_bytes("姓名\n".encode("utf-16"))           # unreadable tonight
    second = _night(models, data, out, expect=3)
    assert second["models"][0]["status"] == "skipped"
    assert _states(second["run_dir"]) == _states(first["run_dir"]) == {"A": "new", "B": "new"}


def test_the_log_never_holds_a_full_id_number(baseline):
    import re

    _, run_dir, _ = baseline
    text = (run_dir / "log.jsonl").read_text(encoding="utf-8")
    assert text and not re.search(r"(?<!\d)\d{17}[\dXx](?!\d)", text)
    assert {e["event"] for e in _events(run_dir / "log.jsonl")} >= {
        "run_started", "file_staged", "dataset_ingested", "model_done", "run_finished"}


def test_memory_limit_and_temp_dir_reach_duckdb(sample_root, tmp_path):
    spill = tmp_path / "spill"
    out = tmp_path / "out"
    proc = subprocess.run(_nightly_args(sample_root, out, "--memory-limit", "600MB", "--threads", "1",
                                        "--temp-dir", str(spill), "--json", "--fresh"),
                          capture_output=True, text=True, timeout=600, env={**os.environ})
    assert proc.returncode == 0, proc.stderr
    manifest = json.loads((Path(json.loads(proc.stdout)["run_dir"]) / "manifest.json").read_text(encoding="utf-8"))
    settings = manifest["duckdb"]
    assert settings["threads"] == 1 and settings["temp_directory"].startswith(str(spill))
    number, unit = settings["memory_limit"].split()
    assert unit == "MiB" and abs(float(number) * 2**20 - 600e6) < 1e6      # 600 MB as DuckDB reports it
    assert not [p for p in spill.rglob("*") if p.is_file()]               # the spill files are cleaned up


def test_a_failing_blocking_expectation_skips_exactly_the_models_that_need_the_dataset(sample_root, tmp_path):
    models = tmp_path / "models"
    shutil.copytree(REPO / "models", models)
    sources = models / "sources.yaml"
    text = sources.read_text(encoding="utf-8")
    fresh = "{check: freshness, column: death_date, days: 92, blocking: false}"
    assert text.count(fresh) == 1
    # The newest death record of the sample is weeks old: "at most 1 day old" fails.
    sources.write_text(text.replace(fresh, "{check: freshness, column: death_date, days: 1, blocking: true}"),
                       encoding="utf-8")
    summary = _night(models, sample_root, tmp_path / "a", as_of=SAMPLE_AS_OF, expect=3)
    skipped = {m["id"] for m in summary["models"] if m["status"] == "skipped"}
    assert skipped == {"deceased_pension", "deceased_dibao"}              # the two models reading death_records
    assert all(m["status"] == "ok" for m in summary["models"] if m["id"] not in skipped)
    assert [line for line in summary["quality"]["blocking_failed"] if line.startswith("death_records")]
    reason = next(m["reason"] for m in summary["models"] if m["id"] == "deceased_pension")
    assert "death_records" in reason and "freshness" in reason
    assert "death_records" in (Path(summary["run_dir"]) / "quality.html").read_text(encoding="utf-8")

    # The same check as a warning: reported, nothing skipped.
    sources.write_text(text.replace(fresh, "{check: freshness, column: death_date, days: 1, blocking: false}"),
                       encoding="utf-8")
    summary = _night(models, sample_root, tmp_path / "b", as_of=SAMPLE_AS_OF)
    assert all(m["status"] == "ok" for m in summary["models"])
    assert [line for line in summary["quality"]["warnings"] if line.startswith("death_records")]


def test_a_failing_notify_command_is_reported_and_changes_nothing(tmp_path):
    models = _pension_models(tmp_path)
    data, out = tmp_path / "data", tmp_path / "out"
    _write_night(data, ["A"], ["2024-01", "2024-02"])
    proc = _nightly(models, data, out, "--notify", "cat > /dev/null; echo hook down >&2; exit 7")
    assert "notify command exited 7" in proc.stderr and "hook down" in proc.stderr
    assert "新增" in proc.stdout and (out / "latest" / "summary.json").exists()   # the one-screen summary


def test_a_blocked_night_is_not_tomorrows_yardstick_and_diff_skips_models_not_run(tmp_path):
    models = _pension_models(tmp_path)
    data, out = tmp_path / "data", tmp_path / "out"
    _write_night(data, ["A", "B"], ["2024-01", "2024-02", "2024-03"])
    night1 = _night(models, data, out)
    _write_night(data, ["A", "B"], ["2024-03"])                          # two of three months vanish: −67 %
    blocked = []
    for _ in range(2):                                                    # and stay gone the next night
        night = _night(models, data, out, expect=3)
        blocked.append(night)
        assert night["models"][0]["status"] == "skipped"
        assert any("pension_payments" in line and "12" in line for line in night["quality"]["blocking_failed"])
        assert _states(night["run_dir"]) == {"A": "new", "B": "new"}      # nothing resolved on a blocked night
    proc = run_lsm("diff", "--out", str(out), "--json")
    changes = json.loads(proc.stdout)
    assert (changes["run_a"], changes["run_b"]) == tuple(Path(n["run_dir"]).name for n in blocked)
    assert changes["counts"] == {} and "deceased_pension" in changes["not_compared"]   # nothing "resolved"
    earlier = json.loads(run_lsm("diff", Path(night1["run_dir"]).name, "--out", str(out), "--json").stdout)
    assert earlier["counts"] == {} and "skipped" in earlier["not_compared"]["deceased_pension"]


def test_a_model_subset_or_a_past_as_of_never_moves_the_baseline(tmp_path):
    models = _pension_models(tmp_path)
    data, out = tmp_path / "data", tmp_path / "out"
    _write_night(data, ["A", "B"], ["2024-01", "2024-02", "2024-03"])
    night1 = _night(models, data, out)
    _write_night(data, ["B"], ["2024-01", "2024-02", "2024-03"])
    proc = run_lsm("run", "--models", str(models), "--data", str(data), "--out", str(out), "--as-of", "2024-06-30",
                   "--model", "deceased_pension", "--json")
    assert proc.returncode == 0                                            # published, becomes latest …
    _night(models, data, out, as_of="2024-03-31")                        # … and so does a past night's rerun
    _write_night(data, ["A", "B"], ["2024-01", "2024-02", "2024-03"])
    night2 = _night(models, data, out)
    manifest = json.loads((Path(night2["run_dir"]) / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["previous_run"] == Path(night1["run_dir"]).name       # … but neither is the baseline
    assert _states(night2["run_dir"]) == {"A": "persisting", "B": "persisting"}
    assert all(m["reused"] for m in night2["models"])                     # night 1's results were kept


def test_a_model_error_quoting_an_id_number_is_masked_everywhere(tmp_path):
    models = _pension_models(tmp_path)
    template = models / "templates" / "deceased_benefit.yaml"
    text = template.read_text(encoding="utf-8")
    payments = "    dataset: ${payments_dataset}\n    where: id_number_valid\n"
    assert text.count(payments) == 1
    # A definition that passes validation (no rows) but fails on real IDs: DuckDB quotes the value.
    template.write_text(text.replace(payments, payments.replace("id_number_valid\n",
                                                                "id_number_valid AND cast(id_number AS INTEGER) > 0\n")),
                        encoding="utf-8")
    data, out = tmp_path / "data", tmp_path / "out"
    _write_night(data, ["A"], ["2024-01"])
    proc = _nightly(models, data, out, "--json", expect=1)
    summary = json.loads(proc.stdout)
    assert summary["models"][0]["status"] == "failed" and "********" in summary["models"][0]["reason"]
    run_dir = Path(summary["run_dir"])
    for text in (proc.stdout, proc.stderr, *(p.read_text(encoding="utf-8") for p in run_dir.iterdir()
                                            if p.suffix in (".json", ".jsonl", ".html"))):
        assert not any(number in text for _, number in PEOPLE.values())
