"""``lsm`` — the command line, a thin shell over :class:`engine.project.Project`.

Exit status (spec/CONTRACT.md): 0 ok; 1 a model failed; 2 usage or
model-definition error; 3 a blocking data-quality check failed; 4 another run
holds the lock on the output directory.

Start-up: this module imports only typer, rich and the engine's light modules, so ``lsm --help`` and a
wrong option answer at once; each command loads the engine (:mod:`engine.project`, and with it
DuckDB, Arrow, Polars, sqlglot) when it runs — the imports inside ``_project`` and ``_options`` are
there for that, not to dodge a cycle (the import-linter contract keeps the layers one-way). ``lsm models``
loads only the spec layer (:mod:`engine.spec.files`).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from engine.masking import mask_ids
from engine.reporting import RichReporter, SilentReporter
from engine.runs.directory import LockHeld
from engine.settings import DEFAULT_DATA, DEFAULT_MODELS, ENGINES, BacktestFailed, EngineUnavailable
from engine.spec.errors import SpecError

if TYPE_CHECKING:
    from engine.project import Project
    from engine.runs.runner import RunOptions

app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None,
                  help="lsm — 大数据法律监督模型引擎 / legal-supervision model engine")
# Wide enough for Chinese headers when output is not a terminal (CI logs, pipes, cron mail).
# emoji off: a located error on line 100 (`file.yaml:100:15`) must never print as an emoji; data shown in
# markup strings is escaped (`_e`), so a title holding "[/]" or ":smile:" prints as written.
out = Console(width=None if sys.stdout.isatty() else 160, emoji=False)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 160, emoji=False, soft_wrap=True)
_e = escape

EXIT_USAGE = 2
EXIT_LOCKED = 4

ModelsOpt = Annotated[Path | None, typer.Option("--models", help="模型目录 / models directory (default: repo models/)")]
DataOpt = Annotated[Path | None, typer.Option("--data", help="数据目录 / data root (default: the sample data)")]
OutOpt = Annotated[Path | None, typer.Option("--out", help="输出目录 / output directory (default: runs/)")]
JsonOpt = Annotated[bool, typer.Option("--json", help="print one JSON object on stdout")]
EngineOpt = Annotated[str, typer.Option("--engine", help="执行引擎 / execution engine: duckdb | spark")]
MasterOpt = Annotated[str | None, typer.Option(
    "--spark-master", help="Spark master URL (spark://host:7077, yarn, k8s://…; default: local mode)")]


def _project(models: Path | None, data: Path | None, out_dir: Path | None, quiet: bool) -> Project:
    from engine.project import Project  # the engine loads when a command runs (start-up, see above)

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
                    "files": [str(p) for p in s.files], "database": s.database} for s in found]
        print(json.dumps({"data_root": str(project.data_dir), "datasets": payload}, ensure_ascii=False, indent=1))
        return
    table = Table(title=f"数据源目录 / source catalogue — 数据目录 {project.data_dir}")
    for col in ("dataset", "名称", "提供单位", "列数", "找到的文件 / files found"):
        table.add_column(col, no_wrap=col in ("dataset", "列数"), overflow="fold")
    for s in found:
        spec = project.catalogue.dataset(s.dataset)
        files = _e("\n".join(p.relative_to(project.data_dir).as_posix() for p in s.files)) or "[red]（无 / none）[/]"
        if s.database:
            files = f"数据库 database: {_e(s.database)}"
        table.add_row(s.dataset, _e(s.title), _e(s.agency), str(len(spec.columns)), files)
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
        err.print(f"[red]{_e(str(exc.args[0]))}[/]")
        raise typer.Exit(EXIT_USAGE) from None
    except LockHeld as exc:
        err.print(f"[red]{_e(str(exc))}[/]")
        raise typer.Exit(EXIT_LOCKED) from None
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
                err.print(f"[yellow]{d.name}[/] {_e(f.path)}: {_e(w)}", markup=True, highlight=False)


AsOfOpt = Annotated[str | None, typer.Option("--as-of", help="数据截止日 / as-of date YYYY-MM-DD (default: today)")]
ModelSel = Annotated[list[str] | None, typer.Option("--model", help="只运行这些模型 / only these model ids")]


def _as_of(text: str | None) -> dt.date:
    if text is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        err.print(f"[red]--as-of '{_e(text)}' is not a date like 2024-06-30[/]")
        raise typer.Exit(EXIT_USAGE) from None


@app.command()
def models(models: ModelsOpt = None, as_json: JsonOpt = False) -> None:
    """列出模型 / list the supervision models."""
    from engine.spec.files import ModelFiles  # the spec layer only: no engine to load (start-up, see above)

    try:
        loaded = ModelFiles(models or DEFAULT_MODELS).load_models()
    except SpecError as exc:
        _fail_spec(exc)
    if as_json:
        print(json.dumps([{"id": m.spec.id, "version": m.spec.version, "title": m.spec.title.zh,
                           "title_en": m.spec.title.en, "subject_type": m.spec.subject_type,
                           "datasets": m.spec.datasets, "rules": [r.id for r in m.spec.rules],
                           "tests": len(m.spec.tests), "legal_basis": m.spec.legal_basis.citation,
                           "file": str(m.path)} for m in loaded], ensure_ascii=False, indent=1))
        return
    table = Table(title="法律监督模型 / supervision models")
    for col in ("id", "版本", "名称", "数据集", "规则", "测试", "法律依据"):
        table.add_column(col, overflow="fold", no_wrap=col == "id")
    for m in loaded:
        table.add_row(m.spec.id, _e(m.spec.version), _e(m.spec.title.zh), "\n".join(m.spec.datasets),
                      ", ".join(r.id for r in m.spec.rules), str(len(m.spec.tests)), _e(m.spec.legal_basis.citation))
    out.print(table)


@app.command()
def validate(models: ModelsOpt = None, model: ModelSel = None,
             model_timeout: Annotated[float, typer.Option(
                 "--model-timeout", help="每个模型试运行的时限（秒）/ seconds each model's dry run may take")] = 60.0,
             engine: EngineOpt = "duckdb") -> None:
    """检查模型定义（含在空表上试运行）/ validate the models: every problem with file:line."""
    _check_engine(engine)
    project = _project(models, None, None, True)
    try:
        plans = project.validate(model, timeout=model_timeout, engine=engine)
    except SpecError as exc:
        _fail_spec(exc)
    except KeyError as exc:
        err.print(f"[red]{_e(str(exc.args[0]))}[/]")
        raise typer.Exit(EXIT_USAGE) from None
    out.print(f"[green]{len(plans)} 个模型全部通过校验 / {len(plans)} model(s) valid[/]")


@app.command("test")
def test_models(models: ModelsOpt = None, model: ModelSel = None, as_json: JsonOpt = False) -> None:
    """运行模型文件中的测试 / run the tests written inside the model files."""
    project = _project(models, None, None, True)
    try:
        outcomes = project.test(model)
    except SpecError as exc:
        _fail_spec(exc)
    except KeyError as exc:
        err.print(f"[red]{_e(str(exc.args[0]))}[/]")
        raise typer.Exit(EXIT_USAGE) from None
    failed = [o for o in outcomes if not o.passed]
    if as_json:
        print(json.dumps([{"model": o.model_id, "test": o.name, "passed": o.passed, "problems": o.problems,
                           "location": o.location} for o in outcomes], ensure_ascii=False, indent=1))
    else:
        for o in outcomes:
            mark = "[green]PASS[/]" if o.passed else "[red]FAIL[/]"
            out.print(f"{mark} {o.model_id} · {_e(o.name)}", highlight=False, soft_wrap=True)
            for p in o.problems:
                out.print(f"       {o.location}: {p}", markup=False, highlight=False, soft_wrap=True)
        out.print(f"{len(outcomes) - len(failed)} passed, {len(failed)} failed")
    if failed or not outcomes:
        raise typer.Exit(1)


@app.command()
def explain(model_id: Annotated[str, typer.Argument(help="model id")], models: ModelsOpt = None,
            as_of: AsOfOpt = None,
            dialect: Annotated[str, typer.Option(help="SQL dialect to print (duckdb, spark)")] = "duckdb",
            data: Annotated[Path | None, typer.Option("--data", help="also run the model's matches on this data "
                                                                     "root: funnel and near misses")] = None,
            out_dir: OutOpt = None,
            near: Annotated[int, typer.Option(help="rejected pairs to list per match")] = 10) -> None:
    """打印模型的执行计划与 SQL；给出 --data 时报告匹配漏斗与接近阈值的未匹配对 / print a model's plan and SQL."""
    project = _project(models, data, out_dir, True)
    try:
        print(project.explain(model_id, _as_of(as_of), dialect))
        if data is not None:
            _print_match_reports(project.explain_matches(model_id, _as_of(as_of), near))
    except SpecError as exc:
        _fail_spec(exc)
    except LockHeld as exc:
        err.print(f"[red]{_e(str(exc))}[/]")
        raise typer.Exit(EXIT_LOCKED) from None
    except KeyError as exc:
        err.print(f"[red]{_e(str(exc.args[0]))}[/]")
        raise typer.Exit(EXIT_USAGE) from None


def _print_match_reports(reports: list[dict]) -> None:
    if not reports:
        print("-- this model has no match relation")
    for report in reports:
        funnel = report["funnel"]
        print(f"-- match {report['relation']}: accept {report['accept']}")
        print(f"--   funnel: {funnel.get('left_records', '?')} left × {funnel.get('right_records', '?')} right records "
              f"→ {funnel['candidate_pairs']} candidate pairs → {funnel['links']} links")
        for rule in funnel.get("blocking", []):
            excluded = f", {rule['excluded_keys']} oversized key(s) excluded" if rule["excluded_keys"] else ""
            print(f"--   blocking {rule['rule']}: {rule['candidate_pairs']} pairs{excluded}")
        print(f"--   rejected pairs nearest the threshold ({len(report['near_misses'])}):")
        for pair in report["near_misses"]:
            print("--     " + mask_ids(json.dumps(pair, ensure_ascii=False, default=str)))


MemoryOpt = Annotated[str | None, typer.Option(
    "--memory-limit", help="DuckDB 内存上限 / DuckDB memory limit, e.g. 8GB (default: $LSM_DUCKDB_MEMORY or 4GB); "
                           "beyond it DuckDB spills to --temp-dir")]
ThreadsOpt = Annotated[int | None, typer.Option("--threads", help="DuckDB threads (default: all cores)")]
TempOpt = Annotated[Path | None, typer.Option("--temp-dir", help="where DuckDB spills (default: OUT/.incoming)")]
FreshOpt = Annotated[bool, typer.Option("--fresh", help="recompute every model (ignore finished models' results)")]
TimeoutOpt = Annotated[float, typer.Option(
    "--model-timeout", help="每个模型的运行时限（秒），超时的模型单独失败 / seconds one model may take; past it that "
                            "model fails alone and the others still run")]


def _options(memory_limit, threads, temp_dir, fresh, model_timeout, notify=None, spark_master=None) -> RunOptions:
    from engine.runs.runner import RunOptions  # the engine loads when a command runs (start-up, see above)

    return RunOptions(memory_limit=memory_limit, threads=threads, temp_dir=temp_dir, reuse=not fresh, notify=notify,
                      model_timeout=model_timeout or None, spark_master=spark_master)


@app.command()
def run(models: ModelsOpt = None, data: DataOpt = None, out_dir: OutOpt = None, as_of: AsOfOpt = None,
        model: ModelSel = None, engine: EngineOpt = "duckdb", spark_master: MasterOpt = None,
        memory_limit: MemoryOpt = None, threads: ThreadsOpt = None, temp_dir: TempOpt = None,
        fresh: FreshOpt = False, model_timeout: TimeoutOpt = 3600.0, as_json: JsonOpt = False) -> None:
    """运行模型，生成线索清单与报告 / run the models and publish a run directory."""
    _check_engine(engine)
    project = _project(models, data, out_dir, as_json)
    result = _execute(lambda: project.run(_as_of(as_of), model, engine, _options(
        memory_limit, threads, temp_dir, fresh, model_timeout, spark_master=spark_master)), as_json)
    if as_json:
        print(json.dumps(result.to_json(), ensure_ascii=False))
    else:
        _print_run(result)
    raise typer.Exit(result.exit_code)


@app.command()
def nightly(data: Annotated[Path, typer.Option("--data", help="数据目录（各单位数据投放目录）/ the agencies' drop folder")],
            out_dir: OutOpt = None, as_of: AsOfOpt = None, models: ModelsOpt = None,
            notify: Annotated[str | None, typer.Option(
                "--notify", help="运行结束后执行的命令，摘要 JSON 从标准输入传入 / a shell command given the summary "
                                 "JSON on stdin (mail, chat hooks)")] = None,
            engine: EngineOpt = "duckdb", spark_master: MasterOpt = None,
            memory_limit: MemoryOpt = None, threads: ThreadsOpt = None, temp_dir: TempOpt = None,
            fresh: FreshOpt = False, model_timeout: TimeoutOpt = 3600.0, as_json: JsonOpt = False,
            store: StoreOpt = None) -> None:
    """夜间批处理：接入 → 数据质量 → 全部模型 → 与上次比较 → 发布 → 摘要 / the nightly batch, for cron.
    With --store or $LSM_STORE set, the run is also published into the review store."""
    from engine.review.store import store_configured

    _check_engine(engine)
    project = _project(models, data, out_dir, False)
    result = _execute(lambda: project.nightly(_as_of(as_of), _options(
        memory_limit, threads, temp_dir, fresh, model_timeout, notify, spark_master), engine), as_json)
    if store_configured(store) and (Path(result.run_dir) / "clues.parquet").exists():
        result.summary["review_store"] = _publish(Path(result.run_dir), store, _as_of(as_of))
    if as_json:
        print(json.dumps(result.summary, ensure_ascii=False))
    else:
        _print_summary(result.summary)
    raise typer.Exit(result.exit_code)


def _print_summary(summary: dict) -> None:
    """The one screen an operator reads in the morning."""
    colour = "green" if summary["exit_code"] == 0 else "yellow" if summary["exit_code"] == 3 else "red"
    out.print(f"[bold]lsm 夜间运行 {summary['run_id']}[/] · 数据截止 {summary['as_of']} · "
              f"[{colour}]状态 {summary['status']} · 退出码 {summary['exit_code']}[/]")
    table = Table(show_edge=False)
    for col in ("模型", "状态", "线索", "新增", "重现", "持续", "消失", "说明"):
        table.add_column(col, overflow="fold", no_wrap=col == "模型")
    for m in summary["models"]:
        ch = m["changes"]
        note = m["reason"] or ("沿用已完成的结果 / reused" if m["reused"] else "")
        table.add_row(m["id"], m["status"], str(m["clues"]), str(ch["new"]), str(ch["reopened"]),
                      str(ch["persisting"]), str(ch["resolved"]), _e(note))
    out.print(table)
    for line in summary["quality"]["blocking_failed"]:
        out.print(f"[red]阻断 blocking[/] {_e(line)}", highlight=False)
    for line in summary["quality"]["warnings"]:
        out.print(f"[yellow]警告 warning[/] {_e(line)}", highlight=False)
    files = {k: sum(v[k] for v in summary["files"].values()) for k in ("added", "changed", "unchanged", "removed")}
    out.print(f"文件 files: 新增 {files['added']} · 变更 {files['changed']} · 未变 {files['unchanged']} · "
              f"移除 {files['removed']} · 隔离行 quarantined rows {summary['quarantined_rows']}")
    for path in summary["removed_files"]:
        out.print(f"[yellow]已移除 removed[/] {_e(path)}", highlight=False)
    out.print(f"报告 report: {_e(str(summary['report']))}")


@app.command()
def diff(run_a: Annotated[str | None, typer.Argument(help="earlier run id (default: the run the latest was compared with)")] = None,
         run_b: Annotated[str | None, typer.Argument(help="later run id (default: the latest)")] = None,
         out_dir: OutOpt = None, as_json: JsonOpt = False) -> None:
    """比较两次运行的线索变化 / what changed between two runs, per model and rule."""
    project = _project(None, None, out_dir, True)
    try:
        changes = project.diff(run_a, run_b)
    except KeyError as exc:
        err.print(f"[red]{_e(str(exc.args[0]))}[/]")
        raise typer.Exit(EXIT_USAGE) from None
    if as_json:
        print(json.dumps(changes, ensure_ascii=False))
        return
    table = Table(title=f"线索变化 / changes {changes['run_a']} → {changes['run_b']}")
    for col in ("模型", "规则", "新增 new", "重现 reopened", "持续 persisting", "消失 resolved"):
        table.add_column(col, no_wrap=True)
    for model, rules in changes["counts"].items():
        for rule, counts in rules.items():
            table.add_row(model, rule, *[str(counts.get(k, 0)) for k in ("new", "reopened", "persisting", "resolved")])
    out.print(table)
    for change in changes["changes"]:
        out.print(_e(f"{change['change']:<9} {change['model']} · {change['rule']} · {change['subject']}"),
                  highlight=False)
    for model, why in changes["not_compared"].items():
        out.print(f"[yellow]未比较 not compared[/] {model}: {_e(why)}", highlight=False)
    out.print(f"已写入 written: {_e(str(changes['file']))}")


BACKTEST_KINDS = {"added": "新增 added", "dropped": "消失 dropped", "changed": "变化 changed", "same": "相同 same"}


@app.command()
def backtest(model_id: Annotated[str, typer.Argument(help="模型编号 / the model's id")],
             models: ModelsOpt = None,
             against: Annotated[Path | None, typer.Option(
                 "--against", help="已发布的运行目录 / a published run directory (default: OUT/latest)")] = None,
             data: Annotated[Path | None, typer.Option(
                 "--data", help="数据目录 / data root (default: the one the run read)")] = None,
             out_dir: OutOpt = None, as_json: JsonOpt = False) -> None:
    """影子运行：模型工作副本与已发布运行的线索比较 / run the working copy of a model on a published run's data
    and compare its clues with the run's. Exit 0: the same clues; 1: clues added, dropped or changed; 2: error."""
    project = _project(models, None, out_dir, True)
    try:
        report = project.backtest(model_id, against, data)
    except SpecError as exc:
        _fail_spec(exc)
    except (KeyError, LockHeld, BacktestFailed) as exc:
        err.print(f"[red]{_e(str(exc.args[0]) if exc.args else str(exc))}[/]")
        raise typer.Exit(EXIT_USAGE) from None
    differs = any(report["counts"][k] for k in ("added", "dropped", "changed"))
    if as_json:
        print(json.dumps(report, ensure_ascii=False, default=str))
    else:
        _print_backtest(report)
    raise typer.Exit(1 if differs else 0)


def _print_backtest(report: dict) -> None:
    table = Table(title=f"回测 backtest {report['model']} · 对比运行 {report['run']}（截止 {report['as_of']}）")
    table.add_column("规则 rule", no_wrap=True)
    for label in BACKTEST_KINDS.values():
        table.add_column(label, justify="right")
    for rule, found in report["rules"].items():
        table.add_row(_e(rule), *[str(found["counts"][k]) for k in BACKTEST_KINDS])
    out.print(table)
    for rule, found in report["rules"].items():
        for kind, examples in found["examples"].items():
            for ex in examples:
                detail = ", ".join(f"{f}: {ex['before'][f]} → {ex['after'][f]}" for f in ex["fields"])
                out.print(_e(f"{BACKTEST_KINDS[kind]:<12} {rule} · {ex['name']} {ex['subject']} {detail}"),
                          highlight=False)
                out.print(_e(f"             {ex['summary']}"), highlight=False)
    if report["run_status"] != "ok":
        out.print(f"[yellow]该模型在此运行中未完成 / the model's status in that run: {_e(report['run_status'])}[/]")
    if report["plan_unchanged"]:
        out.print("执行计划与该运行相同 / the compiled plan is the one the run used")
    for dataset, change in report["data_changes"].items():
        out.print(f"[yellow]数据已变化 data changed since the run[/] {_e(dataset)}: "
                  + _e(", ".join(f"{k} {len(v)}" for k, v in change.items() if v)), highlight=False)
    out.print(f"已写入 written: {_e(report['file'])}")


def _check_engine(engine: str) -> None:
    if engine not in ENGINES:
        err.print(f"[red]--engine must be {' or '.join(ENGINES)}, not '{_e(engine)}'[/]")
        raise typer.Exit(EXIT_USAGE)


def _execute(action, as_json: bool):
    """Run a run-like action; definition errors exit 2, a held lock exits 4 (CONTRACT.md)."""
    try:
        return action()
    except SpecError as exc:
        if as_json:
            print(json.dumps({"status": "error", "exit_code": EXIT_USAGE, "error": exc.render(False)},
                             ensure_ascii=False))
        _fail_spec(exc)
    except KeyError as exc:
        err.print(f"[red]{_e(str(exc.args[0]))}[/]")
        raise typer.Exit(EXIT_USAGE) from None
    except LockHeld as exc:
        if as_json:
            print(json.dumps({"status": "locked", "exit_code": 4, "error": str(exc)}, ensure_ascii=False))
        err.print(f"[red]{_e(str(exc))}[/]")
        raise typer.Exit(EXIT_LOCKED) from None
    except EngineUnavailable as exc:
        err.print(f"[red]{_e(str(exc))}[/]")
        raise typer.Exit(EXIT_USAGE) from None


def _print_run(result) -> None:
    accounting = Table(title="数据接入统计 / ingest accounting")
    accounting.add_column("dataset", no_wrap=True)
    for col in ("读取 read", "接受 accepted", "隔离 quarantined", "重复 duplicate"):
        accounting.add_column(col, justify="right", no_wrap=True)
    for d in result.manifest.get("datasets", []):
        accounting.add_row(d["name"], f"{d['rows_read']:,}", f"{d['rows_accepted']:,}", f"{d['rows_quarantined']:,}",
                           f"{d['rows_duplicate']:,}")
    out.print(accounting)
    table = Table(title=f"运行 {result.run_id} · 状态 {result.status}")
    for col in ("模型", "状态", "线索", "用时(秒)", "说明"):
        table.add_column(col, overflow="fold", no_wrap=col == "模型")
    for m in result.models:
        colour = {"ok": "green", "failed": "red", "skipped": "yellow"}[m.status]
        table.add_row(m.id, f"[{colour}]{m.status}[/]", str(m.clues), f"{m.seconds:.2f}", _e(m.reason or ""))
    out.print(table)
    out.print(f"线索清单 clues: {_e(str(result.run_dir / 'clues.xlsx'))}")
    out.print(f"报告 report:   {_e(str(result.run_dir / 'report.html'))}")


@app.command()
def new(model_id: Annotated[str, typer.Argument(help="新模型编号 / the new model's id")],
        like: Annotated[str | None, typer.Option("--like", help="复制已有模型 / start from a copy of this model")] = None,
        models: ModelsOpt = None) -> None:
    """新建模型文件（模板或已有模型的副本）/ write models/MODEL_ID.yaml: a scaffold, or a copy of a model."""
    from engine.spec.files import ModelFiles  # the spec layer only (start-up, see above)
    from engine.spec.scaffold import copied_text, id_problem, scaffold_text

    models_dir = Path(models or DEFAULT_MODELS)
    target = models_dir / f"{model_id}.yaml"
    problem = id_problem(model_id)
    if problem is None and target.exists():
        problem = f"{target} already exists: choose another id, or edit that file"
    if problem is None:
        try:
            known = {m.spec.id: m.path for m in ModelFiles(models_dir).load_models()}
        except SpecError as exc:
            _fail_spec(exc)
        if model_id in known:
            problem = f"model id '{model_id}' is already used by {known[model_id]}"
        elif like is not None and like not in known:
            problem = f"--like: unknown model '{like}'; available: {', '.join(sorted(known))}"
    if problem:
        err.print(f"[red]{_e(problem)}[/]")
        raise typer.Exit(EXIT_USAGE)
    text = copied_text(Path(known[like]).read_text(encoding="utf-8"), model_id) if like else scaffold_text(model_id)
    target.write_text(text, encoding="utf-8")
    out.print(f"[green]已写入 / written:[/] {_e(str(target))}")
    if like:
        out.print(f"  {_e(like)} 的副本：可直接 lsm validate / lsm test，修改后用 lsm backtest {_e(model_id)} 比较")
    else:
        out.print(f"  填写名称、法律依据、输入、规则和测试；lsm test --model {_e(model_id)} 在测试写好之前不会通过")


@app.command()
def schema(kind: Annotated[str, typer.Argument(help="model | sources")]) -> None:
    """打印模型文件或数据目录的 JSON Schema（供编辑器补全与校验）/ print the JSON Schema of model files or
    of the source catalogue (for editors: completion, descriptions, errors while typing)."""
    from engine.spec.schema import SCHEMAS, schema_text  # the spec layer only (start-up, see above)

    if kind not in SCHEMAS:
        err.print(f"[red]unknown schema '{_e(kind)}': model or sources[/]")
        raise typer.Exit(EXIT_USAGE)
    sys.stdout.write(schema_text(kind))


@app.command()
def sample(out_dir: Annotated[Path, typer.Option("--out", help="where to write the data root")] = Path(
        "sample_data/generated"),
           seed: Annotated[int, typer.Option(help="random seed (same seed, same files)")] = 20240630,
           scale: Annotated[int, typer.Option(help="background population size")] = 2000) -> None:
    """生成带已知答案的样例数据 / generate the sample data root and its truth file."""
    from sample_data.generate import generate  # Faker and the scenarios: only for this command

    truth = generate(out_dir, seed=seed, scale=scale)
    out.print(f"样例数据 sample data: {out_dir} ({len(truth['datasets'])} datasets); truth: {out_dir / 'truth.json'}")


@app.command()
def demo(out_dir: OutOpt = None) -> None:
    """生成样例数据并运行全部模型 / generate the sample data and run every model."""
    from sample_data.generate import AS_OF, generate  # Faker and the scenarios: only for this command

    generate(DEFAULT_DATA)
    out.print(f"样例数据已生成 / sample data generated: {DEFAULT_DATA}")
    project = _project(None, DEFAULT_DATA, out_dir, False)
    try:
        result = project.run(AS_OF)
    except SpecError as exc:
        _fail_spec(exc)
    _print_run(result)
    raise typer.Exit(result.exit_code)


StoreOpt = Annotated[str | None, typer.Option(
    "--store", help="审查库 / review store URL (sqlite:///…, postgresql://…; default: $LSM_STORE, "
                    "else sqlite:///runs/review.db)")]
RunsOpt = Annotated[Path, typer.Option("--runs", help="运行目录 / runs directory holding the default review.db")]


def _store(store: str | None, runs_dir: Path):
    from engine.review.store import open_store, resolve_url  # SQLAlchemy loads only for the review commands

    return open_store(resolve_url(store, runs_dir))


def _publish(run_dir: Path, store: str | None, as_of: dt.date | None = None) -> dict:
    from engine.review.publish import publish_run

    handle = _store(store, Path(run_dir).resolve().parent)
    try:
        return publish_run(handle, run_dir, as_of=as_of).to_json()
    finally:
        handle.dispose()


@app.command()
def publish(run_dir: Annotated[Path, typer.Argument(help="运行目录 / a run directory, e.g. runs/latest")],
            store: StoreOpt = None, as_json: JsonOpt = False, as_of: AsOfOpt = None) -> None:
    """把一次运行的线索发布到审查库 / publish one run's clues into the review store (one transaction).
    --as-of (default today) is the date the 回头看 compares recommendations' reply deadlines with."""
    if not (run_dir / "clues.parquet").exists() or not (run_dir / "manifest.json").exists():
        err.print(f"[red]不是运行目录 / not a run directory: {_e(str(run_dir))}[/]")
        raise typer.Exit(EXIT_USAGE)
    result = _publish(run_dir, store, _as_of(as_of))
    if as_json:
        print(json.dumps(result, ensure_ascii=False))
        return
    out.print(f"已发布 published {_e(result['run_id'])}: 线索 {result['clues']} · 新增 {result['inserted']} · "
              f"更新 {result['updated']} · 已消失 resolved {result['resolved']} · "
              f"决定后有变化 changed since decision {result['changed_since_decision']} · "
              f"整改未落实 {result['rectification_failed']} · 已整改 rectified {result['rectified']}")


@app.command()
def serve(store: StoreOpt = None, runs_dir: RunsOpt = Path("runs"),
          host: Annotated[str, typer.Option("--host", help="监听地址 / address to listen on")] = "127.0.0.1",
          port: Annotated[int, typer.Option("--port", help="端口 / port")] = 8000) -> None:
    """启动审查服务（网页与 JSON API）/ serve the review pages and the JSON API.
    The session secret comes from $LSM_SECRET (else a random one: sessions end when the server restarts)."""
    import os
    import secrets

    import uvicorn

    from engine.review.app import create_app
    from engine.review.store import resolve_url

    secret = os.environ.get("LSM_SECRET") or secrets.token_urlsafe(32)
    url = resolve_url(store, runs_dir)
    out.print(f"审查服务 review service: http://{host}:{port}/  (store: {_e(url.split('@')[-1])})")
    uvicorn.run(create_app(url, secret, secure_cookies=os.environ.get("LSM_SECURE_COOKIES") == "1"),
                host=host, port=port, log_level="info", access_log=False)


users_app = typer.Typer(no_args_is_help=True, help="审查服务用户 / review-service users")
app.add_typer(users_app, name="users")


def _user_error(exc: Exception) -> None:
    err.print(f"[red]{_e(str(exc))}[/]")
    raise typer.Exit(EXIT_USAGE)


def _read_password() -> str:
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    import getpass

    first = getpass.getpass("密码 password: ")
    if getpass.getpass("再次输入 again: ") != first:
        err.print("[red]两次输入不一致 / the passwords differ[/]")
        raise typer.Exit(EXIT_USAGE)
    return first


def _split(text: str | None) -> list[str] | None:
    items = [t.strip() for t in (text or "").split(",") if t.strip()]
    return items or None


@users_app.command("add")
def users_add(name: Annotated[str, typer.Argument(help="用户名 / user name")],
              role: Annotated[str, typer.Option("--role", help="analyst | prosecutor | supervisor | auditor | admin")],
              models: Annotated[str | None, typer.Option("--models", help="仅限这些模型 / only these model ids, comma-separated")] = None,
              counties: Annotated[str | None, typer.Option("--counties", help="仅限这些区县 / only these counties, comma-separated")] = None,
              store: StoreOpt = None, runs_dir: RunsOpt = Path("runs")) -> None:
    """新增用户（密码：非终端时从标准输入读一行，否则输入两次）/ add a user."""
    from engine.review.users import UserError, add_user

    password = _read_password()
    handle = _store(store, runs_dir)
    try:
        user = add_user(handle, name, role, password, _split(models), _split(counties))
    except UserError as exc:
        _user_error(exc)
    finally:
        handle.dispose()
    out.print(f"已新增用户 user added: {_e(user.name)} ({user.role})")


@users_app.command("token")
def users_token(name: Annotated[str, typer.Argument(help="用户名 / user name")], store: StoreOpt = None,
                runs_dir: RunsOpt = Path("runs")) -> None:
    """生成 API 令牌（只显示一次）/ print a new API token once (stored hashed)."""
    from engine.review.users import UserError, new_token

    handle = _store(store, runs_dir)
    try:
        print(new_token(handle, name))
    except UserError as exc:
        _user_error(exc)
    finally:
        handle.dispose()


@users_app.command("disable")
def users_disable(name: Annotated[str, typer.Argument(help="用户名 / user name")], store: StoreOpt = None,
                  runs_dir: RunsOpt = Path("runs")) -> None:
    """停用用户并吊销其令牌 / disable a user and revoke their tokens."""
    from engine.review.users import UserError, disable_user

    handle = _store(store, runs_dir)
    try:
        disable_user(handle, name)
    except UserError as exc:
        _user_error(exc)
    finally:
        handle.dispose()
    out.print(f"已停用 disabled: {_e(name)}")


@users_app.command("list")
def users_list(store: StoreOpt = None, runs_dir: RunsOpt = Path("runs"), as_json: JsonOpt = False) -> None:
    """列出用户 / list the users."""
    from engine.review.users import list_users

    handle = _store(store, runs_dir)
    try:
        rows = list_users(handle)
    finally:
        handle.dispose()
    if as_json:
        print(json.dumps(rows, ensure_ascii=False))
        return
    table = Table(show_edge=False)
    for col in ("用户 user", "角色 role", "模型 models", "区县 counties", "状态 state"):
        table.add_column(col)
    for r in rows:
        state = "停用 disabled" if r["disabled"] else ("锁定 locked" if r["locked_until"] else "正常 active")
        table.add_row(_e(r["name"]), r["role"], _e(",".join(r["models"] or ["*"])),
                      _e(",".join(r["counties"] or ["*"])), state)
    out.print(table)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
