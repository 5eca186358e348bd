"""S1: every message is located, printed as written (no emoji, no markup), never a traceback; and an
ingest shares the output directory's lock with runs, so a run never publishes a mixture of two loads."""

from __future__ import annotations

import copy
import fcntl
import json

from conftest import run_lsm
from hostile import BASE, model_yaml, models_dir


def _padded(model: dict, lines: int) -> str:
    """The model's YAML with comment lines in front, so its problems sit on lines ≥ ``lines``."""
    return "# padding\n" * lines + model_yaml(model)


def test_a_located_error_on_line_100_prints_as_a_location_not_an_emoji(tmp_path):
    model = copy.deepcopy(BASE)
    model["inputs"]["payments"]["where"] = "payments.no_such_column > 0"
    text = _padded(model, 95)
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "no_such_column" in t)
    assert line >= 100
    proc = run_lsm("validate", "--models", str(models_dir(tmp_path, {"hostile_probe.yaml": text})))
    assert proc.returncode == 2
    assert f"hostile_probe.yaml:{line}:" in proc.stderr
    assert "💯" not in proc.stderr and "Traceback" not in proc.stderr


def test_titles_with_markup_and_emoji_codes_print_as_written(tmp_path):
    model = copy.deepcopy(BASE)
    model["title"]["zh"] = "探针[/] [bold]:100: :smile:"
    proc = run_lsm("models", "--models", str(models_dir(tmp_path, {"hostile_probe.yaml": model_yaml(model)})))
    assert proc.returncode == 0, proc.stderr
    assert "探针[/] [bold]:100: :smile:" in proc.stdout.replace("\n", "")


def _laughs(levels: int) -> str:
    lines = ["b0: &b0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, levels + 1):
        lines.append(f"b{i}: &b{i} [" + ", ".join([f"*b{i - 1}"] * 10) + "]")
    return "\n".join(lines) + "\n"


def test_hostile_yaml_is_an_error_not_a_traceback(tmp_path):
    cases = {
        "tag.yaml": model_yaml(BASE).replace("version: '1'", "version: !!python/name:os.system"),
        "semicolon.yaml": model_yaml(BASE).replace("  payments:", "  'pay;ments':", 1),
        "alias.yaml": _laughs(8),
        "binary.yaml": "id: \x00\x01\n",
        "deep.yaml": "id: " + "[" * 5000 + "]" * 5000 + "\n",
    }
    for name, text in cases.items():
        folder = models_dir(tmp_path / name, {name: text})
        proc = run_lsm("validate", "--models", str(folder))
        assert proc.returncode == 2, (name, proc.stdout, proc.stderr)
        assert "Traceback" not in proc.stderr, (name, proc.stderr)
        assert f"{name}:" in proc.stderr, (name, proc.stderr)


def test_an_ingest_waits_its_turn_behind_a_run(tmp_path, sample_root):
    out = tmp_path / "out"
    out.mkdir()
    with open(out / ".lock", "a+") as held:  # what a running `lsm run` holds
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        proc = run_lsm("ingest", "--data", str(sample_root), "--out", str(out), "--dataset", "death_records")
        assert proc.returncode == 4, proc.stderr
        assert "holds the lock" in proc.stderr
        assert not (out / "staging" / "datasets" / "death_records.parquet").exists()
    proc = run_lsm("ingest", "--data", str(sample_root), "--out", str(out), "--dataset", "death_records", "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["datasets"][0]["rows_accepted"] > 0
