"""Start-up: how long the CLI takes to answer, against the interpreter's own start in the same run.

Each command runs ``--repeat`` times as a fresh process; the median wall time is reported next to the
baseline ``python -c pass`` (the floor no command can beat) and ``python -c "import typer, rich"`` (what
any typer CLI pays). Writes ``bench/results/startup.json``.

    .venv/bin/python bench/startup_bench.py [--repeat 7]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results" / "startup.json"
LSM = str(REPO / ".venv" / "bin" / "lsm")
COMMANDS = {
    "python -c pass (baseline)": [sys.executable, "-c", "pass"],
    "python -c 'import typer, rich.table'": [sys.executable, "-c", "import typer, rich.table"],
    "lsm --help": [LSM, "--help"],
    "lsm models": [LSM, "models"],
    "lsm validate --model prisoner_dibao": [LSM, "validate", "--model", "prisoner_dibao"],
}


def median_seconds(argv: list[str], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, cwd=REPO)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    seconds = {name: round(median_seconds(argv, args.repeat), 3) for name, argv in COMMANDS.items()}
    floor = seconds["python -c pass (baseline)"]
    result = {"machine": f"{platform.machine()}, {os.cpu_count()} cores", "load_average": os.getloadavg()[0],
              "repeat": args.repeat, "median_seconds": seconds,
              "ratio_to_interpreter": {k: round(v / floor, 1) for k, v in seconds.items()}}
    RESULTS.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(result, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
