"""What an operator reads after a night: file changes since the last run, the one-screen summary,
and the ``--notify`` hook.

* :func:`file_changes` — per dataset, which input files are new, changed (another SHA-256),
  unchanged or removed compared with the previous run's manifest;
* :func:`build_summary` — the JSON summary (``summary.json`` in the run directory, stdin of the
  notify command): status, exit code, per model clues and lifecycle, failed data-quality checks,
  file changes. No ID numbers: subjects are never listed, only counts;
* :func:`notify` — run the operator's command with the summary on stdin (mail, chat hooks).

Example::

    changes = file_changes(previous_manifest, ingested)
    summary = build_summary(manifest, states_counts, changes, run_dir)
    notify("mail -s lsm ops@example.org", summary)
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from engine.ingest.ingest import IngestResult


def file_changes(previous_manifest: dict | None, ingested: IngestResult) -> dict[str, dict[str, list[str]]]:
    """``{dataset: {added: [...], changed: [...], removed: [...], unchanged: [...]}}`` (paths)."""
    before: dict[str, dict[str, str]] = {}
    for d in (previous_manifest or {}).get("datasets", []):
        before[d["name"]] = {f["path"]: f["sha256"] for f in d.get("files", [])}
    out = {}
    for d in ingested.datasets:
        now = {f.path: f.sha256 for f in d.files}
        old = before.get(d.name, {})
        out[d.name] = {
            "added": sorted(p for p in now if p not in old),  # the first night: every file is new
            "changed": sorted(p for p in now if p in old and old[p] != now[p]),
            "removed": sorted(p for p in old if p not in now),
            "unchanged": sorted(p for p in now if p in old and old[p] == now[p]),
        }
    return out


def build_summary(manifest: dict, lifecycle: dict, changes: dict, run_dir: Path, exit_code: int) -> dict:
    failed_checks = [q for q in manifest.get("quality", []) if not q["passed"]]
    return {
        "run_id": manifest["run_id"], "as_of": manifest["as_of"], "status": manifest["status"],
        "exit_code": exit_code, "started_at": manifest["started_at"], "finished_at": manifest["finished_at"],
        "run_dir": str(run_dir), "report": str(run_dir / "report.html"),
        "models": [{"id": m["id"], "status": m["status"], "clues": m["clues"], "reused": m.get("reused", False),
                    "reason": m["reason"], "changes": _totals(lifecycle.get(m["id"], {}))}
                   for m in manifest["models"]],
        "quality": {"blocking_failed": [_check_line(q) for q in failed_checks if q["blocking"]],
                    "warnings": [_check_line(q) for q in failed_checks if not q["blocking"]]},
        "files": {name: {k: len(v) for k, v in c.items()} for name, c in changes.items()},
        "removed_files": [p for c in changes.values() for p in c["removed"]],
        "quarantined_rows": sum(d["rows_quarantined"] for d in manifest.get("datasets", [])),
    }


def _totals(per_rule: dict[str, dict[str, int]]) -> dict[str, int]:
    out = {"new": 0, "persisting": 0, "reopened": 0, "resolved": 0}
    for states in per_rule.values():
        for state, n in states.items():
            out[state] = out.get(state, 0) + n
    return out


def _check_line(q: dict) -> str:
    return f"{q['dataset']} · {q.get('name') or q['check']}: {q['observed']}"


def notify(command: str, summary: dict, timeout: float = 120) -> str | None:
    """Run ``command`` through the shell with the summary JSON on stdin; the problem, or None if it worked."""
    try:
        proc = subprocess.run(command, shell=True, input=json.dumps(summary, ensure_ascii=False), text=True,
                              capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return f"notify command timed out after {timeout:.0f} s: {command}"
    if proc.returncode != 0:
        return f"notify command exited {proc.returncode}: {command}: {proc.stderr.strip()[:300]}"
    return None
