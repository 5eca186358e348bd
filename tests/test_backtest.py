"""``lsm backtest``: the comparison on hand-made clue tables, and the command on a real run of the sample data
(the unchanged model gives the same clues, exit 0; a stricter working copy drops and changes exactly the
clues its evidence says it should, exit 1; errors exit 2)."""

from __future__ import annotations

import json
import shutil
from decimal import Decimal

import pyarrow as pa
import pyarrow.parquet as pq
from conftest import REPO, run_lsm

from engine.project import Project
from engine.runs.backtest import compare_clues, data_changes
from tests.review.runbuilder import CLUE_SCHEMA, clue

MODEL = "prisoner_dibao"
STRICTER = ('    where: month_strictly_inside(owned_payments.pay_month, custody.start, custody."end")\n',
            '    where: month_strictly_inside(owned_payments.pay_month, custody.start, custody."end")'
            " AND owned_payments.pay_month >= DATE '2023-01-01'\n")
CUT = "2023-01-01"


def table(rows: list[dict]) -> pa.Table:
    return pa.Table.from_pylist([{**r, "run_id": "r"} for r in rows], schema=CLUE_SCHEMA)


def test_compare_classifies_each_clue_by_its_id():
    before = table([clue("same"), clue("dropped", subject_id="510104198001010022", name="李四"),
                    clue("grew", amount="1000.00", rank=2), clue("other_rule", rule_id="r2")])
    after = table([clue("same"), clue("grew", amount="1500.00", rank=1),
                   clue("new", subject_id="510104198001010030", name="王五", rank=3),
                   clue("other_rule", rule_id="r2", score=90.0 + 1e-12)])
    report = compare_clues(before, after)
    assert report["counts"] == {"added": 1, "dropped": 1, "changed": 1, "same": 2}
    default = report["rules"]["default"]
    assert default["counts"] == {"added": 1, "dropped": 1, "changed": 1, "same": 1}
    assert report["rules"]["r2"]["counts"] == {"added": 0, "dropped": 0, "changed": 0, "same": 1}  # float noise
    changed = default["examples"]["changed"][0]
    assert changed["clue_id"] == "grew" and changed["fields"] == ["amount", "rank"]
    assert (changed["before"]["amount"], changed["after"]["amount"]) == ("1000.00", "1500.00")
    assert (changed["before"]["rank"], changed["after"]["rank"]) == (2, 1)
    dropped = default["examples"]["dropped"][0]
    assert dropped["clue_id"] == "dropped" and dropped["after"] is None and dropped["name"] == "李四"
    assert dropped["subject"] == "510104********0022" and "510104198001010022" not in json.dumps(report)
    assert dropped["sources"] == [{"dataset": "payments", "file": "p.csv", "row": 1}]
    assert default["examples"]["added"][0]["before"] is None


def test_compare_limits_the_examples_and_handles_an_empty_side():
    after = table([clue(f"c{i}", subject_id=f"5101041980010100{i:02d}", rank=i) for i in range(10)])
    report = compare_clues(table([]), after, examples=2)
    assert report["counts"] == {"added": 10, "dropped": 0, "changed": 0, "same": 0}
    assert [e["clue_id"] for e in report["rules"]["default"]["examples"]["added"]] == ["c0", "c1"]
    assert compare_clues(after, after)["counts"]["same"] == 10


def test_a_period_that_became_unknown_is_a_change():
    before = table([clue("a")])
    row = clue("a")
    row["period_end"] = None
    assert compare_clues(before, table([row]))["rules"]["default"]["examples"]["changed"][0]["fields"] == ["period_end"]


def test_data_changes_lists_files_added_removed_and_changed():
    run = [{"name": "d", "files": [{"path": "a.csv", "sha256": "1"}, {"path": "b.csv", "sha256": "2"}]},
           {"name": "other", "files": [{"path": "x.csv", "sha256": "9"}]}]
    now = [{"name": "d", "files": [{"path": "a.csv", "sha256": "1"}, {"path": "b.csv", "sha256": "3"},
                                   {"path": "c.csv", "sha256": "4"}]}]
    assert data_changes(run, now, ["d"]) == {"d": {"added": ["c.csv"], "removed": [], "changed": ["b.csv"]}}
    assert data_changes(run, run, ["d", "other"]) == {}


def _run_clues(run_dir, model=MODEL) -> dict[str, dict]:
    return {c["clue_id"]: c for c in pq.read_table(run_dir / "clues.parquet").to_pylist() if c["model_id"] == model}


def _payments(clue_row: dict) -> list[tuple[str, float]]:
    sources = json.loads(clue_row["evidence"])["sources"]
    return [(s["fields"]["pay_month"], s["fields"]["amount"]) for s in sources if s["dataset"] == "dibao_payments"]


def test_the_unchanged_model_gives_the_run_its_clues(sample_run):
    out, run_dir, _, _ = sample_run
    proc = run_lsm("backtest", MODEL, "--out", str(out), "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    assert report["run"] == run_dir.name and report["plan_unchanged"] and report["data_changes"] == {}
    assert report["counts"] == {"added": 0, "dropped": 0, "changed": 0, "same": len(_run_clues(run_dir))}
    assert json.loads((out / "backtests" / f"{MODEL}..{run_dir.name}.json").read_text("utf-8"))["counts"] == \
        report["counts"]


def test_a_stricter_working_copy_drops_and_changes_what_its_evidence_says(sample_run, tmp_path):
    out, run_dir, _, _ = sample_run
    models = tmp_path / "models"
    shutil.copytree(REPO / "models", models)
    path = models / f"{MODEL}.yaml"
    text = path.read_text(encoding="utf-8")
    assert STRICTER[0] in text
    path.write_text(text.replace(*STRICTER), encoding="utf-8")

    proc = run_lsm("backtest", MODEL, "--models", str(models), "--against", str(run_dir), "--json")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    assert not report["plan_unchanged"]
    clues = _run_clues(run_dir)
    # the oracle: the run's own evidence — a clue whose payments were all before 2023 goes, one with some
    # payments before 2023 keeps only the others (its amount falls by exactly their sum)
    gone = {cid for cid, c in clues.items() if all(m < CUT for m, _ in _payments(c))}
    shrunk = {cid: c["amount"] - Decimal(str(round(sum(a for m, a in _payments(c) if m < CUT), 2)))
              for cid, c in clues.items() if cid not in gone and any(m < CUT for m, _ in _payments(c))}
    assert gone and shrunk, "the sample data must exercise both"
    assert report["counts"]["dropped"] == len(gone) and report["counts"]["added"] == 0

    proc = run_lsm("backtest", MODEL, "--models", str(models), "--against", str(run_dir))  # the table for people
    assert proc.returncode == 1 and "消失 dropped" in proc.stdout
    for c in clues.values():
        assert c["subject_id"] not in proc.stdout + json.dumps(report)

    # every example, through the facade the CLI uses
    full = Project(models_dir=models, out_dir=out).backtest(MODEL, run_dir, examples=100_000)
    examples = full["rules"]["default"]["examples"]
    assert {e["clue_id"] for e in examples["dropped"]} == gone
    amounts = {e["clue_id"]: Decimal(e["after"]["amount"]) for e in examples["changed"] if "amount" in e["fields"]}
    assert amounts == shrunk


def test_errors_exit_2_with_the_reason(sample_run, tmp_path):
    out, run_dir, _, _ = sample_run
    proc = run_lsm("backtest", "no_such_model", "--out", str(out))
    assert proc.returncode == 2 and "no_such_model" in proc.stderr
    proc = run_lsm("backtest", MODEL, "--against", str(tmp_path))
    assert proc.returncode == 2 and "not a published run directory" in proc.stderr
    proc = run_lsm("backtest", MODEL, "--out", str(out), "--data", str(tmp_path / "nowhere"))
    assert proc.returncode == 2 and "nowhere" in proc.stderr


def test_changed_data_is_reported_next_to_the_differences(sample_run, tmp_path):
    out, run_dir, _, _ = sample_run
    runs, data = tmp_path / "runs", tmp_path / "data"
    shutil.copytree(out, runs, symlinks=True)
    shutil.copytree(json.loads((run_dir / "manifest.json").read_text("utf-8"))["data_root"], data)
    roster = data / "prison_roster.csv"
    roster.write_bytes(roster.read_bytes().rstrip(b"\r\n").rsplit(b"\n", 1)[0] + b"\n")  # the last person left
    proc = run_lsm("backtest", MODEL, "--out", str(runs), "--data", str(data), "--json")
    assert proc.returncode in (0, 1), proc.stderr
    report = json.loads(proc.stdout)
    assert report["data_changes"] == {"prison_roster": {"added": [], "removed": [], "changed": ["prison_roster.csv"]}}
    assert report["plan_unchanged"]
