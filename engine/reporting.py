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
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Callable, Iterator
from typing import IO, Any

from engine.masking import mask_value


class Reporter:
    """Base reporter: ignores everything (subclasses override what they show)."""

    def event(self, name: str, **fields: Any) -> None:
        pass

    def warning(self, message: str, **fields: Any) -> None:
        self.event("warning", message=message, **fields)

    @contextlib.contextmanager
    def progress(self, label: str, total: int | None = None) -> Iterator[Callable[[int], None]]:
        yield lambda n=1: None


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
