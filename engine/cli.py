"""``lsm`` — the command line, a thin shell over :class:`engine.project.Project`.

Exit status (spec/CONTRACT.md): 0 ok; 1 a model failed; 2 usage or
model-definition error; 3 a blocking data-quality check failed; 4 another run
holds the lock on the output directory.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from engine.errors import SpecError
from engine.project import Project
from engine.reporting import RichReporter, SilentReporter

app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None,
                  help="lsm — 大数据法律监督模型引擎 / legal-supervision model engine")
# Wide enough for Chinese headers when output is not a terminal (CI logs, pipes, cron mail).
out = Console(width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 160)

EXIT_USAGE = 2

ModelsOpt = Annotated[Path | None, typer.Option("--models", help="模型目录 / models directory (default: repo models/)")]
DataOpt = Annotated[Path | None, typer.Option("--data", help="数据目录 / data root (default: the sample data)")]
OutOpt = Annotated[Path | None, typer.Option("--out", help="输出目录 / output directory (default: runs/)")]
JsonOpt = Annotated[bool, typer.Option("--json", help="print one JSON object on stdout")]


def _project(models: Path | None, data: Path | None, out_dir: Path | None, quiet: bool) -> Project:
    return Project(models, data, out_dir, SilentReporter() if quiet else RichReporter())


def _fail_spec(exc: SpecError) -> None:
    err.print(exc.render(), markup=False, highlight=False)
    err.print(f"[red]{len(exc.problems)} 个错误 / error(s)[/]")
    raise typer.Exit(EXIT_USAGE)


@app.command()
def sources(models: ModelsOpt = None, data: DataOpt = None, as_json: JsonOpt = False) -> None:
    """列出数据源目录，以及数据目录中找到的文件 / the source catalogue and the files found."""
    project = _project(models, data, None, True)
    try:
        found = project.sources()
    except SpecError as exc:
        _fail_spec(exc)
    if as_json:
        payload = [{"dataset": s.dataset, "title": s.title, "agency": s.agency,
                    "columns": [c.model_dump(mode="json") for c in project.catalogue.dataset(s.dataset).columns],
                    "files": [str(p) for p in s.files]} for s in found]
        print(json.dumps({"data_root": str(project.data_dir), "datasets": payload}, ensure_ascii=False, indent=1))
        return
    table = Table(title=f"数据源目录 / source catalogue — 数据目录 {project.data_dir}")
    for col in ("dataset", "名称", "提供单位", "列数", "找到的文件 / files found"):
        table.add_column(col, no_wrap=col in ("dataset", "列数"), overflow="fold")
    for s in found:
        spec = project.catalogue.dataset(s.dataset)
        files = "\n".join(p.relative_to(project.data_dir).as_posix() for p in s.files) or "[red]（无 / none）[/]"
        table.add_row(s.dataset, s.title, s.agency, str(len(spec.columns)), files)
    out.print(table)


@app.command()
def ingest(data: DataOpt = None, models: ModelsOpt = None, out_dir: OutOpt = None,
           dataset: Annotated[list[str] | None, typer.Option("--dataset", help="only these datasets")] = None,
           as_json: JsonOpt = False) -> None:
    """读取、规范化、隔离不可读行并统计每个数据集 / ingest the data root and account for every row."""
    project = _project(models, data, out_dir, as_json)
    try:
        result = project.ingest(dataset)
    except SpecError as exc:
        _fail_spec(exc)
    except KeyError as exc:
        err.print(f"[red]{exc.args[0]}[/]")
        raise typer.Exit(EXIT_USAGE) from None
    if as_json:
        print(json.dumps({"data_root": result.data_root, "staging": str(project.staging.root),
                          "datasets": [d.to_manifest() for d in result.datasets]}, ensure_ascii=False))
    else:
        _print_accounting(result)
    if any(d.error or d.file_errors for d in result.datasets):
        raise typer.Exit(3)


def _print_accounting(result) -> None:
    table = Table(title=f"数据接入统计 / ingest accounting — {result.data_root}")
    table.add_column("dataset", no_wrap=True)
    for col in ("文件", "读取 read", "接受 accepted", "隔离 quarantined", "重复 duplicate"):
        table.add_column(col, justify="right", no_wrap=True)
    table.add_column("状态 status", overflow="fold")
    for d in result.datasets:
        problems = [d.error] if d.error else d.file_errors
        if problems:
            status = "[red]" + "\n".join(problems) + "[/]"
        else:
            status = "[yellow]无文件 / no files[/]" if d.missing else "[green]ok[/]"
        table.add_row(d.name, str(len(d.files)), f"{d.rows_read:,}", f"{d.rows_accepted:,}",
                      f"{d.rows_quarantined:,}", f"{d.rows_duplicate:,}", status)
    out.print(table)
    for d in result.datasets:
        for f in d.files:
            for w in f.warnings:
                err.print(f"[yellow]{d.name}[/] {f.path}: {w}", markup=True, highlight=False)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
