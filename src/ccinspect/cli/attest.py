"""`ccinspect attest …`: the attestation questionnaire (YAML or XLSX) for what no file can prove."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer
from rich.table import Table

from ccinspect.core.exitcodes import ExitCode

from .common import Fmt, Lang, console, emit_json, fail, out_file

app = typer.Typer(help="Structured attestation: questionnaire template, answers checked.", no_args_is_help=True)


@app.command("topics")
def topics_(lang: Lang = typer.Option(Lang.zh, "--lang"), fmt: Fmt = typer.Option(Fmt.table, "--format")) -> None:
    """The attestation topics with the requirements and focus points each evidences."""
    from ccinspect.attestation import load_topics

    tf = load_topics()
    if fmt == Fmt.json:
        emit_json([t.model_dump() for t in tf.topics])
        return
    t = Table()
    for col in ("id", "title", "ref_ids / scope", "focus points", "questions", "documents"):
        t.add_column(col)
    for tp in tf.topics:
        t.add_row(tp.id, tp.title_en if lang == Lang.en else tp.title, ", ".join(tp.ref_ids + tp.scope),
                  ", ".join(tp.focus_points), str(len(tp.questions)), str(len(tp.documents)))
    console.print(t)


@app.command("template")
def template(
    out: Path = typer.Option(..., "--out", help="questionnaire to write: .yaml or .xlsx"),
    lang: Lang = typer.Option(Lang.zh, "--lang"),
    topic: list[str] = typer.Option(None, "--topic", help="only these topics (repeatable); default all"),
) -> None:
    """Write an empty questionnaire for the broker to fill in."""
    from ccinspect.attestation.questionnaire import write_template
    from ccinspect.core.errors import InputError

    if out.suffix.lower() not in (".yaml", ".yml", ".xlsx"):
        fail(f"--out: expected a .yaml or .xlsx file name, got {out.name}")
    try:
        write_template(out_file(out), lang=lang.value, topic_ids=topic or None)
    except InputError as exc:
        fail(exc.text("zh") + " / " + exc.text("en"))
    console.print(f"wrote {out}")


@app.command("check")
def check(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="the filled-in questionnaire"),
    as_of: str = typer.Option(None, "--as-of", help="date: 2025-06-30, 114/06/30; default today"),
    fmt: Fmt = typer.Option(Fmt.table, "--format"),
) -> None:
    """Read the answers back and judge each topic: pass, manual (incomplete) or fail."""
    from ccinspect.attestation.questionnaire import judge, read
    from ccinspect.core.dates import parse_date
    from ccinspect.core.errors import InputError

    try:
        day = parse_date(as_of, field="--as-of") if as_of else dt.date.today()
        checks = judge(read(file), day, base=file.parent, file=file.name)
    except InputError as exc:
        fail(exc.text("zh") + " / " + exc.text("en"), ExitCode.BAD_INPUT)
    if fmt == Fmt.json:
        emit_json({"as_of": day.isoformat(), "checks": [c.to_dict() for c in checks]})
    else:
        t = Table(title=f"attestation — {file.name} — {day}")
        for col in ("topic", "status", "summary"):
            t.add_column(col)
        for c in checks:
            t.add_row(c.rule, c.status.value, c.summary)
            for f in c.facts:
                t.add_row("", "", f"  line {f.line}: {f.message}")
        console.print(t)
    if any(c.status.value != "pass" for c in checks):
        raise typer.Exit(ExitCode.FINDINGS)
