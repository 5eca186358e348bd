"""The notebooks run top to bottom on the facade (their code cells, in a fresh interpreter)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_walkthrough_notebook_runs(tmp_path):
    notebook = json.loads((REPO / "notebooks" / "walkthrough.ipynb").read_text(encoding="utf-8"))
    code = "\n\n".join("".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code")
    script = tmp_path / "walkthrough.py"
    script.write_text(code + "\nprint('NOTEBOOK-OK')\n", encoding="utf-8")
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, cwd=REPO, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "NOTEBOOK-OK" in proc.stdout
