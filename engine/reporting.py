"""How the core tells the outside world what it is doing — it never prints.

Three reporters: :class:`SilentReporter` for tests and notebooks,
:class:`RichReporter` for a terminal (progress bars), :class:`JsonLinesReporter`
for the nightly job (one JSON object per line). Events carry no full ID
numbers: callers pass counts, names of datasets/models, and masked values only.

Example::

    reporter = JsonLinesReporter(open("run.jsonl", "a"))
    reporter.event("dataset_ingested", dataset="dibao_payments", rows=120)
    with reporter.progress("读取 dibao_payments", total=10) as advance:
        advance(1)
    with reporter.phase("models", "运行模型 / models", total=10) as phase:
        phase.done("prisoner_dibao", rows=17)      # event "progress": done, total, elapsed_s, eta_s
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import time
from collections.abc import Callable, Iterator
from typing import IO, Any

from engine.masking import mask_value


class Phase:
    """One stage of a run (datasets read, checks evaluated, models run) counted item by item.

    Each finished item is a ``progress`` event: the phase, the item, its rows, how many are done of how
    many, the seconds elapsed and the estimated seconds left (the mean time per item so far)."""

    def __init__(self, reporter: Reporter, name: str, label: str, total: int):
        self.reporter, self.name, self.label, self.total = reporter, name, label, total
        self.started = time.perf_counter()
        self.count = 0

    def done(self, item: str, rows: int | None = None) -> dict[str, Any]:
        self.count += 1
        elapsed = time.perf_counter() - self.started
        left = max(self.total - self.count, 0)
        fields = {"phase": self.name, "item": item, "rows": rows, "done": self.count, "total": self.total,
                  "elapsed_s": round(elapsed, 2), "eta_s": round(elapsed / self.count * left, 1)}
        self.reporter.event("progress", **fields)
        return fields


class Reporter:
    """Base reporter: ignores everything (subclasses override what they show)."""

    def event(self, name: str, **fields: Any) -> None:
        pass

    def warning(self, message: str, **fields: Any) -> None:
        self.event("warning", message=message, **fields)

    @contextlib.contextmanager
    def progress(self, label: str, total: int | None = None) -> Iterator[Callable[[int], None]]:
        yield lambda n=1: None

    @contextlib.contextmanager
    def phase(self, name: str, label: str, total: int) -> Iterator[Phase]:
        yield Phase(self, name, label, total)


class SilentReporter(Reporter):
    """Collects events in memory (tests can assert on them)."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    def event(self, name: str, **fields: Any) -> None:
        self.events.append((name, fields))


class JsonLinesReporter(Reporter):
    def __init__(self, stream: IO[str]):
        self.stream = stream

    def event(self, name: str, **fields: Any) -> None:

        # Masked again here: whatever a caller passes, no full ID number reaches the log.
        record = {"ts": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"), "event": name,
                  **mask_value(json.loads(json.dumps(fields, ensure_ascii=False, default=str)))}
        self.stream.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
        self.stream.flush()


class TeeReporter(Reporter):
    """Sends every event to several reporters (e.g. terminal and a JSON-lines log)."""

    def __init__(self, *reporters: Reporter):
        self.reporters = reporters

    def event(self, name: str, **fields: Any) -> None:
        for r in self.reporters:
            r.event(name, **fields)

    @contextlib.contextmanager
    def progress(self, label: str, total: int | None = None) -> Iterator[Callable[[int], None]]:
        with contextlib.ExitStack() as stack:
            advances = [stack.enter_context(r.progress(label, total)) for r in self.reporters]

            def advance(n: int = 1) -> None:
                for a in advances:
                    a(n)

            yield advance

    @contextlib.contextmanager
    def phase(self, name: str, label: str, total: int) -> Iterator[Phase]:
        with contextlib.ExitStack() as stack:
            phases = [stack.enter_context(r.phase(name, label, total)) for r in self.reporters]
            yield _PhaseFanOut(self, name, label, total, phases)


class _PhaseFanOut(Phase):
    def __init__(self, reporter: Reporter, name: str, label: str, total: int, phases: list[Phase]):
        super().__init__(reporter, name, label, total)
        self.phases = phases

    def done(self, item: str, rows: int | None = None) -> dict[str, Any]:
        return [p.done(item, rows) for p in self.phases][-1] if self.phases else {}


class RichReporter(Reporter):
    """Terminal output: warnings and key events as lines, progress as bars (on stderr)."""

    def __init__(self, console=None, verbose: bool = False):
        from rich.console import Console

        self.console = console or Console(stderr=True, emoji=False)
        self.verbose = verbose

    def event(self, name: str, **fields: Any) -> None:
        from rich.markup import escape

        if name == "warning":
            self.console.print(f"[yellow]警告[/] {escape(str(fields.get('message', '')))}")
        elif self.verbose:
            details = " ".join(f"{k}={v}" for k, v in fields.items())
            self.console.print(f"[dim]{name}[/] {escape(details)}")

    @contextlib.contextmanager
    def progress(self, label: str, total: int | None = None) -> Iterator[Callable[[int], None]]:
        if not self.console.is_terminal:  # no bars in logs, pipes and cron mail
            yield lambda n=1: None
            return
        from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

        with Progress(TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), TimeElapsedColumn(),
                      console=self.console, transient=True) as bar:
            from rich.markup import escape

            task = bar.add_task(escape(label), total=total)
            yield lambda n=1: bar.advance(task, n)

    @contextlib.contextmanager
    def phase(self, name: str, label: str, total: int) -> Iterator[Phase]:
        """A bar per phase in a terminal: done/total, the last item and its rows, elapsed and ETA."""
        if not self.console.is_terminal:
            yield Phase(self, name, label, total)
            return
        from rich.markup import escape
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      TextColumn("剩余 / ETA"), TimeRemainingColumn(), TextColumn("{task.fields[item]}"),
                      console=self.console, transient=True) as bar:
            task = bar.add_task(escape(label), total=total, item="")
            yield _RichPhase(self, name, label, total, bar, task)


class _RichPhase(Phase):
    def __init__(self, reporter: Reporter, name: str, label: str, total: int, bar, task):
        super().__init__(reporter, name, label, total)
        self.bar, self.task = bar, task

    def done(self, item: str, rows: int | None = None) -> dict[str, Any]:
        from rich.markup import escape

        fields = super().done(item, rows)
        shown = f"{item} · {rows:,} 行" if rows is not None else item
        self.bar.update(self.task, advance=1, item=escape(shown))
        return fields
