"""`ccinspect logins …`: daily login monitoring (credential stuffing, brute force, spraying)."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ccinspect.core.exitcodes import ExitCode, epilog
from ccinspect.detection.adapters import FORMATS, InputError
from ccinspect.detection.rules import RulesError

from .common import console, err_console, fail

app = typer.Typer(help="Login monitoring over core-system login logs.", no_args_is_help=True, epilog=epilog())


class OutFmt(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


def _progress_cb(progress: Progress):
    tasks: dict[str, int] = {}

    def cb(stage: str, pct: float) -> None:
        if stage not in tasks:
            tasks[stage] = progress.add_task(stage, total=100)
        progress.update(tasks[stage], completed=min(pct, 100.0))

    return cb


@app.command()
def scan(
    files: list[str] = typer.Argument(..., help="login logs: files or globs (canonical CSV/JSONL, auth.log, EVTX, …)"),
    customers: Path = typer.Option(..., "--customers", help="roster CSV with an 'account' column (customers and staff)"),
    allow: Path = typer.Option(None, "--allow", help="addresses/CIDR blocks of the broker's own gateways and monitors"),
    state: Path = typer.Option(None, "--state", help="directory keeping history across daily runs"),
    fmt: OutFmt = typer.Option(OutFmt.table, "--format", help="table | json | csv (alerts)"),
    out: Path = typer.Option(None, "--out", help="write alerts.json, CSVs, report.html and run.json here"),
    rules: Path = typer.Option(None, "--rules", help="rules file (default: the packaged logins.yaml)"),
    input_format: str = typer.Option("auto", "--input-format", help=" | ".join(FORMATS)),
    mapping: Path = typer.Option(None, "--mapping", help="YAML mapping for application logs, DB extracts, access logs"),
    year: int = typer.Option(None, "--year", help="year of syslog lines without one (default: file's mtime)"),
    timezone: str = typer.Option(None, "--timezone", help="zone of times without an offset (default Asia/Taipei)"),
    memory_limit: str = typer.Option("1500MB", "--memory-limit", help="DuckDB memory limit; beyond it spills to disk"),
    threads: int = typer.Option(None, "--threads", help="DuckDB threads (default: all cores)"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no progress bar"),
) -> None:
    """Scan login logs for brute force, credential stuffing, spraying and takeovers."""
    from ccinspect.detection.pipeline import scan_files  # noqa: PLC0415 - keeps `--help` fast
    from ccinspect.detection.report import alerts_csv, to_json  # noqa: PLC0415

    if input_format not in FORMATS:
        fail(f"--input-format must be one of {', '.join(FORMATS)}")
    progress = Progress(TextColumn("{task.description:>6}"), BarColumn(), TextColumn("{task.percentage:>5.1f}%"),
                        TimeElapsedColumn(), console=err_console, transient=True, disable=quiet or not err_console.is_terminal)
    try:
        with progress:
            run = scan_files(files, customers, allow=allow, state_dir=state, rules_path=rules, out_dir=out,
                             input_format=input_format, mapping=mapping, year=year, timezone=timezone,
                             memory_limit=memory_limit,
                             threads=threads, on_progress=None if progress.disable else _progress_cb(progress))
    except (InputError, RulesError, ValueError) as exc:
        fail(str(exc))
    res = run.result
    if fmt == OutFmt.json:
        sys.stdout.write(to_json(res, run.rules) + "\n")
    elif fmt == OutFmt.csv:
        sys.stdout.write(alerts_csv(res))
    else:
        _table(run)
    if res.problems.count:
        err_console.print(f"[yellow]{res.problems.count} malformed line(s)[/]; first:", highlight=False)
        for p in res.problems.samples[:5]:
            err_console.print(f"  {p.file}:{p.line}: {p.field}: {p.message}", highlight=False, markup=False)
    _report_inputs(res.problems)
    if out:
        err_console.print(f"outputs in {out} (report.html, alerts.json, run.json)", highlight=False)
    # a line that could not be read is data lost, however few: the run says so in its exit code
    if run.partial or res.problems.count:
        raise typer.Exit(ExitCode.PARTIAL)


class VerdictKind(StrEnum):
    confirmed = "confirmed"
    false_positive = "false_positive"
    allow = "allow"
    test_traffic = "test_traffic"


@app.command()
def verdict(
    alert_id: str = typer.Argument(..., help="the alert's id (e.g. A00012) in the run's alerts.json"),
    decision: VerdictKind = typer.Option(..., "--verdict", help="confirmed | false_positive | allow | test_traffic"),
    state: Path = typer.Option(..., "--state", help="the --state directory of the daily runs"),
    by: str = typer.Option(..., "--by", help="who decided (analyst's name or login)"),
    alerts: Path = typer.Option(None, "--alerts", help="alerts.json of the run (to record the alert's kind, addresses, accounts)"),
    network: str = typer.Option("", "--network", help="address or CIDR block to allow (allow / test_traffic)"),
    note: str = typer.Option("", "--note", help="why"),
) -> None:
    """Record an analyst's verdict on an alert; the next runs with this --state honour it."""
    import json  # noqa: PLC0415
    from datetime import datetime  # noqa: PLC0415

    from ccinspect.detection.engine import TAIPEI  # noqa: PLC0415
    from ccinspect.detection.verdicts import Verdict, VerdictBook  # noqa: PLC0415

    found: dict = {}
    run = ""
    if alerts:
        try:
            data = json.loads(alerts.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            fail(f"{alerts}: cannot read alerts.json: {exc}")
        found = next((a for a in data.get("alerts", []) if a.get("id") == alert_id), {})
        if not found:
            fail(f"{alerts}: no alert {alert_id!r}")
        run = str(data.get("summary", {}).get("first") or "")
    try:
        v = Verdict(alert_id=alert_id, verdict=decision.value, decided_by=by,
                    decided_at=datetime.now(TAIPEI).isoformat(timespec="seconds"), kind=found.get("kind", ""),
                    ips=list(found.get("ips", [])), accounts=list(found.get("accounts", [])), network=network,
                    note=note, run=run)
        VerdictBook.load(state).add(v)
    except (InputError, ValueError) as exc:
        fail(str(exc))
    console.print(f"verdict {v.verdict} on {alert_id} recorded in {state} by {by}", highlight=False)


def _report_inputs(problems) -> None:
    """One line per input that is not simply fine: empty, partial (what was lost) or unreadable (why)."""
    for a in problems.files.values():
        st = a.status
        if st == "ok" and not a.warnings:
            continue
        color = {"ok": "yellow", "empty": "yellow", "partial": "red", "unreadable": "red"}[st]
        detail = a.error["message"] if a.error else "; ".join(a.warnings)
        err_console.print(f"[{color}]{st}[/] ", end="", highlight=False)
        err_console.print(f"{a.file} ({a.format}): {detail}", highlight=False, markup=False)


class NormFmt(StrEnum):
    csv = "csv"
    jsonl = "jsonl"


@app.command()
def normalize(
    files: list[str] = typer.Argument(..., help="login logs: files or globs"),
    fmt: NormFmt = typer.Option(NormFmt.csv, "--format", help="csv | jsonl"),
    out: Path = typer.Option(None, "--out", help="write here (replaced in one step) instead of standard output"),
    input_format: str = typer.Option("auto", "--input-format", help=" | ".join(FORMATS)),
    mapping: Path = typer.Option(None, "--mapping", help="YAML mapping for application logs, DB extracts, access logs"),
    year: int = typer.Option(None, "--year", help="year of syslog lines without one (default: file's mtime)"),
    timezone: str = typer.Option(None, "--timezone", help="zone of times without an offset (default Asia/Taipei)"),
    accounting: Path = typer.Option(None, "--accounting", help="also write each file's line accounting (JSON) here"),
) -> None:
    """Write the canonical events exactly as the readers produced them, each with its source file and line."""
    from ccinspect.detection.normalize import normalize_files  # noqa: PLC0415

    if input_format not in FORMATS:
        fail(f"--input-format must be one of {', '.join(FORMATS)}")
    try:
        problems = normalize_files(files, out=out, fmt=fmt.value, input_format=input_format, mapping=mapping,
                                   year=year, timezone=timezone, accounting=accounting)
    except (InputError, ValueError) as exc:
        fail(str(exc))
    _report_inputs(problems)
    if problems.partial:
        raise typer.Exit(ExitCode.PARTIAL)


def _table(run) -> None:
    res = run.result
    s = res.summary
    t = Table(title="Alerts", show_lines=False)
    for c in ("id", "severity", "kind", "addresses", "accounts", "first", "detail"):
        t.add_column(c, overflow="fold")
    for a in res.alerts[:200]:
        t.add_row(a.id, a.severity, a.kind,
                  ", ".join(a.ips[:3]) + (f" +{len(a.ips) - 3}" if len(a.ips) > 3 else ""),
                  ", ".join(a.accounts[:3]) + (f" +{len(a.accounts) - 3}" if len(a.accounts) > 3 else ""),
                  (a.first or "")[:19], a.detail)
    console.print(t)
    if len(res.alerts) > 200:
        console.print(f"… {len(res.alerts) - 200} more alerts (use --format json or --out)")
    summ = Table(title="Summary")
    summ.add_column("measure")
    summ.add_column("value", justify="right")
    for k in ("events", "failures", "successes", "accounts", "addresses", "non_customer_failures",
              "shared_addresses", "malformed", "alerts", "notifications", "seconds_total"):
        summ.add_row(k, f"{s[k]:,}" if isinstance(s[k], int) else str(s[k]))
    for k, v in sorted(s["alerts_by_kind"].items()):
        summ.add_row(f"alerts: {k}", f"{v:,}")
    console.print(summ)
