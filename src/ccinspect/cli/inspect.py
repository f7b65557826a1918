"""`ccinspect inspect`: run every analyzer with evidence present and print the applicable checklist."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path

import typer

from ccinspect.core.exitcodes import ExitCode


class Format(StrEnum):
    table = "table"
    json = "json"


STYLE = {"pass": "green", "fail": "bold red", "manual": "yellow", "error": "bold magenta", "partial": "magenta"}


def register(app: typer.Typer) -> None:
    @app.command("inspect")
    def inspect_cmd(
        profile: Path = typer.Option(..., "--profile", help="Broker profile (YAML or JSON)."),
        evidence: Path = typer.Option(..., "--evidence", help="Evidence folder (see docs/evidence.md)."),
        as_of: str = typer.Option(..., "--as-of", help="Inspection date: 2024-06-30 or ROC 113/06/30."),
        fmt: Format = typer.Option(Format.table, "--format", help="table or json."),
        out: Path | None = typer.Option(None, "--out", help="Also write inspection.json and inspection.md here."),
        host: bool = typer.Option(False, "--host", help="Also check this machine's own Linux settings."),
        only: str | None = typer.Option(None, "--status", help="Show only these statuses, e.g. fail,error."),
        strict: bool = typer.Option(False, "--strict", help="Exit 1 when any requirement fails or errors."),
    ) -> None:
        """Weigh the evidence: pass / fail (with facts) / manual / error for every applicable requirement."""
        from ccinspect.applicability import ProfileError, load_profile
        from ccinspect.checks import inspect
        from ccinspect.core.dates import DateParseError, parse_date

        try:
            prof = load_profile(profile)
            day = parse_date(as_of, field="--as-of")
        except (ProfileError, DateParseError) as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(int(ExitCode.BAD_INPUT)) from None
        if evidence.exists() and not evidence.is_dir():
            typer.echo(f"error: --evidence: {evidence} is a file; expected the evidence folder "
                       "(see docs/evidence.md)", err=True)
            raise typer.Exit(int(ExitCode.BAD_INPUT))
        if not evidence.is_dir():
            typer.echo(f"error: --evidence: folder {evidence} does not exist", err=True)
            raise typer.Exit(int(ExitCode.BAD_INPUT))
        empty = not any(p.is_file() for p in evidence.rglob("*"))
        result = inspect(prof, evidence, day, host=host)
        data = result.to_dict()
        shown = set(only.split(",")) if only else None
        if out:
            write_outputs(out, data)
        if fmt == Format.json:
            typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
        else:
            _table(data, shown)
        if out:
            typer.echo(f"wrote {out / 'inspection.json'} and {out / 'inspection.md'}", err=True)
        codes = [ExitCode.OK]
        if strict and (data["counts"]["fail"] or data["counts"]["error"] or data["counts"]["partial"]):
            codes.append(ExitCode.FINDINGS)
        if data.get("unreadable") or data["counts"]["error"]:
            codes.append(ExitCode.PARTIAL)  # some evidence was lost: never exit 0
        if empty:  # valid, but nothing was inspected: said, and not exit 0
            typer.echo(f"warning: --evidence: folder {evidence} holds no files; no check could run, every "
                       "requirement is left to the inspector (exit 3)", err=True)
            codes.append(ExitCode.PARTIAL)
        code = ExitCode.worst(*codes)
        if code:
            raise typer.Exit(int(code))


def write_outputs(out: Path, data: dict) -> None:
    """inspection.json, inspection.md and run.json (the SHA-256 of the other two, which `web import-results`
    checks), in a folder that replaces `out` in one rename: the set of one run, or of the previous one."""
    import hashlib

    from ccinspect import __version__
    from ccinspect.core.files import atomic_dir

    files = {"json": ("inspection.json", json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")),
             "markdown": ("inspection.md", markdown(data).encode("utf-8"))}
    record = {"tool": "ccinspect inspect", "version": __version__, "as_of": data.get("as_of"),
              "outputs": {k: {"file": name, "sha256": hashlib.sha256(body).hexdigest()}
                          for k, (name, body) in files.items()}}
    with atomic_dir(out, keep_others=True) as tmp:
        for name, body in files.values():
            (tmp / name).write_bytes(body)
        (tmp / "run.json").write_text(json.dumps(record, ensure_ascii=False, indent=2), encoding="utf-8")


def _table(data: dict, shown: set[str] | None) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console(width=max(Console().width, 140))
    c = data["counts"]
    console.print(f"[bold]{data['broker']}[/] · tier {data['tier']} · as of {data['as_of']} · "
                  f"mechanism {data['version']} · evidence {data['evidence_dir']}")
    console.print(" · ".join(f"[{STYLE[k]}]{k} {v}[/]" for k, v in c.items()))
    t = Table(show_lines=False)
    t.add_column("ref_id", no_wrap=True)
    t.add_column("status", no_wrap=True)
    t.add_column("result")
    for r in data["requirements"]:
        if shown and r["status"] not in shown:
            continue
        lines = [escape(r["summary"])]
        for ch in r["checks"]:
            if ch["status"] in ("fail", "error", "manual") and ch["facts"]:
                lines += [f"  • {escape(_fact(f))}" for f in ch["facts"][:8]]
                if len(ch["facts"]) > 8:
                    lines.append(f"  • … {len(ch['facts']) - 8} more (see --format json)")
        t.add_row(r["ref_id"], f"[{STYLE[r['status']]}]{r['status']}[/]", "\n".join(lines))
    console.print(t)
    for e in data.get("unreadable", []):
        where = f"{e.get('file', '')}:{e.get('line') or 0} field {e.get('field', '')!r}: "
        console.print("[bold magenta]unreadable evidence:[/] " + escape(where + e["message"]))
    for f in data.get("not_used", []):
        console.print("[yellow]not used:[/] " + escape(f) + " (no analyzer reads this file)")
    bad = [a for a in data["analyzers"] if a["status"] == "error"]
    for a in bad:
        e = a["error"]
        where = f"{e.get('file', '')}:{e.get('line', '')} field {e.get('field', '')!r}: " if "file" in e else ""
        console.print(f"[bold magenta]analyzer {a['analyzer']} errored:[/] " + escape(where + e["message"]))


def _fact(f: dict) -> str:
    where = f"{f['file']}:{f['line']}" if f.get("file") and f.get("line") else f.get("file", "")
    msg = f["message"]
    if f.get("subject") and f["subject"] not in msg:
        msg = f"{f['subject']}: {msg}"
    return f"{msg} [{where}]" if where else msg


def markdown(data: dict) -> str:
    """A plain report for the inspection file: every requirement, its facts and its evidence hashes."""
    out = [f"# Inspection of {data['broker']} as of {data['as_of']}", "",
           f"Tier {data['tier']}, mechanism {data['version']}, evidence `{data['evidence_dir']}`.", "",
           " · ".join(f"{k}: {v}" for k, v in data["counts"].items()), "",
           "| ref_id | status | result |", "| --- | --- | --- |"]
    for r in data["requirements"]:
        facts = [_fact(f) for ch in r["checks"] for f in ch["facts"]]
        cell = "<br>".join([r["summary"]] + [f"• {x}" for x in facts]).replace("|", "\\|")
        out.append(f"| {r['ref_id']} | {r['status']} | {cell} |")
    out += ["", "## Evidence files", "", "| file | SHA-256 | read by |", "| --- | --- | --- |"]
    for e in data["evidence"]:
        out.append(f"| {e['path']} | `{e['sha256']}` | {', '.join(e['analyzers']) or '—'} |")
    return "\n".join(out) + "\n"
