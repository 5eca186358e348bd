"""Progress per dataset, check and model: bars in a terminal, ``progress`` events in the JSON log."""

from __future__ import annotations

import io
import json

from rich.console import Console

from engine.reporting import JsonLinesReporter, RichReporter, SilentReporter, TeeReporter


def test_a_run_logs_progress_for_every_dataset_check_and_model(sample_run):
    _, run_dir, _, _ = sample_run
    events = [json.loads(line) for line in (run_dir / "log.jsonl").read_text(encoding="utf-8").splitlines()]
    progress = [e for e in events if e["event"] == "progress"]
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    by_phase = {phase: [e for e in progress if e["phase"] == phase] for phase in ("ingest", "quality", "models")}
    assert [e["item"] for e in by_phase["ingest"]] == [d["name"] for d in manifest["datasets"]]
    assert [e["item"] for e in by_phase["models"]] == [m["id"] for m in manifest["models"]]
    assert {e["item"] for e in by_phase["quality"]} == {q["dataset"] for q in manifest["quality"]
                                                          if q["check"] not in ("file_read", "not_missing")}
    rows = {d["name"]: d["rows_read"] for d in manifest["datasets"]}
    assert all(e["rows"] == rows[e["item"]] for e in by_phase["ingest"])
    for phase in by_phase.values():
        assert [e["done"] for e in phase] == list(range(1, len(phase) + 1))
        assert phase[-1]["done"] == phase[-1]["total"] and phase[-1]["eta_s"] == 0
        assert all(e["elapsed_s"] >= 0 and e["eta_s"] >= 0 for e in phase)


def test_a_terminal_shows_a_bar_with_the_item_and_its_rows():
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=120, emoji=False)
    log = io.StringIO()
    reporter = TeeReporter(RichReporter(console), JsonLinesReporter(log))
    with reporter.phase("models", "运行模型 / models", total=2) as phase:
        phase.done("prisoner_dibao", rows=1234)
        phase.done("deceased_pension", rows=5)
    shown = screen.getvalue()  # the bar is redrawn at its refresh rate: the last state is always drawn
    assert "运行模型" in shown and "2/2" in shown and "deceased_pension · 5 行" in shown
    logged = [json.loads(line) for line in log.getvalue().splitlines()]
    assert [(e["item"], e["done"], e["total"]) for e in logged] == [("prisoner_dibao", 1, 2), ("deceased_pension", 2, 2)]


def test_no_bar_outside_a_terminal_but_the_events_still_flow():
    screen = io.StringIO()
    silent = SilentReporter()
    reporter = TeeReporter(RichReporter(Console(file=screen, force_terminal=False)), silent)
    with reporter.phase("ingest", "读取数据 / datasets", total=1) as phase:
        phase.done("dibao_payments", rows=10)
    assert screen.getvalue() == ""
    assert [name for name, _ in silent.events] == ["progress"]
