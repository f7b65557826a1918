"""`ccinspect report …`: the inspection report (HTML, PDF, XLSX), the tracking list (XLSX) and the annual
statement draft (HTML, PDF), from the web application's database (SQLite under ./var, or DATABASE_URL)."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from pathlib import Path

import typer

from ccinspect.core.files import atomic_write_bytes

from .common import Lang, console, fail, out_file

report_app = typer.Typer(help="Reports from the database: inspection report, tracking list, statement draft.",
                         no_args_is_help=True)


class ReportFormat(StrEnum):
    html = "html"
    pdf = "pdf"
    xlsx = "xlsx"


class StatementFormat(StrEnum):
    html = "html"
    pdf = "pdf"


def _django():
    from .web import _django as setup

    setup()


def _write(out: Path, content: bytes) -> None:
    """Write whole or not at all: a temporary file beside the target, renamed into place."""
    out = out_file(out.resolve(), "-o")
    atomic_write_bytes(out, content)
    console.print(f"wrote {out} ({len(content):,} bytes)", highlight=False)


def _org(broker: str):
    from ccinspect.web.accounts.models import Organisation

    qs = Organisation.objects.filter(kind=Organisation.BROKER)
    org = qs.filter(pk=int(broker)).first() if broker.isdigit() else qs.filter(name=broker).first()
    if org is None:
        fail(f"no broker {broker!r} (give its id or exact name)")
    return org


@report_app.command("inspection")
def inspection(
    inspection_id: int = typer.Argument(..., help="inspection id (see the web page's address)"),
    fmt: ReportFormat = typer.Option(ReportFormat.pdf, "--format", "-f"),
    output: Path = typer.Option(None, "--output", "-o", help="default: inspection-ID.<format>"),
    lang: Lang = typer.Option(Lang.zh, "--lang"),
) -> None:
    """The inspection report: scope, every checklist item with its result, evidence with SHA-256, findings
    and remediation, sign-offs."""
    _django()
    from ccinspect.reports import ReportError
    from ccinspect.web.inspections.models import Inspection
    from ccinspect.web.reporting.views import render_inspection

    insp = Inspection.objects.select_related("organisation").filter(pk=inspection_id).first()
    if insp is None:
        fail(f"no inspection {inspection_id}")
    try:
        content, _ctype, _name = render_inspection(insp, fmt.value, lang.value)
    except ReportError as exc:
        fail(str(exc))
    _write(output or Path(f"inspection-{inspection_id}.{fmt.value}"), content)


@report_app.command("tracking")
def tracking(
    broker: str = typer.Option(None, "--broker", help="broker id or name; default: every broker"),
    open_only: bool = typer.Option(False, "--open", help="only findings not yet closed"),
    output: Path = typer.Option(Path("tracking.xlsx"), "--output", "-o"),
    lang: Lang = typer.Option(Lang.zh, "--lang"),
) -> None:
    """The deficiency and remediation tracking list (CC-21000.2) as XLSX."""
    _django()
    from ccinspect.reports import tracking_xlsx
    from ccinspect.web.inspections.models import Finding
    from ccinspect.web.reporting.data import tracking_list

    qs = Finding.objects.all()
    scope = "全部證券商" if lang == Lang.zh else "all brokers"
    if broker:
        org = _org(broker)
        qs, scope = qs.filter(organisation=org), org.name
    if open_only:
        qs = qs.exclude(status=Finding.CLOSED)
    _write(output, tracking_xlsx(tracking_list(qs, scope), lang.value))


@report_app.command("statement")
def statement(
    broker: str = typer.Option(..., "--broker", help="broker id or name"),
    year: int = typer.Option(dt.date.today().year - 1, "--year", help="the fiscal year (the year it ends in)"),
    ciso: str = typer.Option(..., "--ciso", help="most senior information security officer: NAME\\[/TITLE]"),
    chairman: str = typer.Option(..., "--chairman", help="NAME\\[/TITLE]"),
    president: str = typer.Option(..., "--president", help="NAME\\[/TITLE]"),
    auditor: str = typer.Option(..., "--auditor", help="chief auditor: NAME\\[/TITLE]"),
    board_date: str = typer.Option(None, "--board-date", help="board approval date, YYYY-MM-DD"),
    fmt: StatementFormat = typer.Option(StatementFormat.pdf, "--format", "-f"),
    output: Path = typer.Option(None, "--output", "-o", help="default: statement-YEAR.<format>"),
    lang: Lang = typer.Option(Lang.zh, "--lang"),
) -> None:
    """Draft of the annual information-security statement (資訊安全整體執行情形聲明書, CC-12000.6), with the
    disclosure deadline (fiscal year end + 3 months)."""
    _django()
    from ccinspect.reports import ReportError, pdf_from_html, statement_html
    from ccinspect.web.reporting.data import statement as build

    board = None
    if board_date:
        try:
            board = dt.date.fromisoformat(board_date)
        except ValueError:
            fail(f"--board-date {board_date!r} is not a date (YYYY-MM-DD)")
    sigs = {}
    for role, value in (("ciso", ciso), ("chairman", chairman), ("president", president), ("chief_auditor", auditor)):
        name, _sep, title = value.partition("/")
        if not name.strip():
            fail(f"--{'auditor' if role == 'chief_auditor' else role}: give the signatory's name")
        sigs[role] = (name.strip(), title.strip())
    org = _org(broker)
    try:
        st = build(org, year, sigs, board, lang.value)
    except ReportError as exc:
        fail(str(exc))
    html = statement_html(st, lang.value)
    console.print(f"{org.name}: fiscal year {st.fiscal_year_start} – {st.fiscal_year_end}; "
                  f"disclosure deadline {st.deadline}", highlight=False)
    _write(output or Path(f"statement-{year}.{fmt.value}"), pdf_from_html(html) if fmt == StatementFormat.pdf
           else html.encode())


def register(app: typer.Typer) -> None:
    app.add_typer(report_app, name="report")
