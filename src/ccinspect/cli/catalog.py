"""`ccinspect catalog …`: list, show, diff and export the regulation."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from pathlib import Path

import typer
from rich.table import Table

from ccinspect.core.files import atomic_file, atomic_write_text

from .common import Fmt, Lang, console, emit_json, fail, out_file

# The catalog (pydantic models, YAML) is imported inside the commands, so that other commands do
# not pay for it at start-up.

app = typer.Typer(help="The regulation catalog: list, show, diff, export.", no_args_is_help=True)


def _cat():
    from ccinspect.catalog import load_catalog

    return load_catalog()


def _text(r, lang: Lang) -> str:
    return r.text_en if lang == Lang.en else r.text


@app.command("list")
def list_(
    chapter: str = typer.Option(None, "--chapter", help="a chapter or sub-chapter, e.g. CC-18000"),
    version: str = typer.Option(None, "--version", help="version id (default: the one in force)"),
    framework: str = typer.Option("mechanism", "--framework", help="mechanism | internal-control"),
    lang: Lang = typer.Option(Lang.zh, "--lang"),
    fmt: Fmt = typer.Option(Fmt.table, "--format"),
) -> None:
    """List requirements, in document order."""
    cat = _cat()
    try:
        fv = cat.version(framework, version)
    except KeyError as exc:
        fail(str(exc.args[0]))
    reqs = fv.requirements
    if chapter:
        if chapter not in fv:
            fail(f"no {chapter} in {framework} {fv.id}")
        reqs = [fv.get(chapter), *fv.descendants(chapter)]
    if fmt == Fmt.json:
        emit_json({"framework": framework, "version": fv.id, "requirements": [r.to_dict() for r in reqs]})
        return
    t = Table(title=f"{fv.framework.title if lang == Lang.zh else fv.framework.title_en} — {fv.id}",
              show_lines=False)
    t.add_column("ref_id", no_wrap=True)
    t.add_column("cadence")
    t.add_column("applies to")
    t.add_column("text" if lang == Lang.en else "條文")
    for r in reqs:
        conds = ", ".join(c if isinstance(c, str) else "|".join(c["any_of"]) for c in r.applies_to_json())
        t.add_row("  " * r.depth + r.ref_id, r.cadence.value if r.cadence else "", conds or "all",
                  _text(r, lang))
    console.print(t)
    console.print(f"{len(reqs)} requirements")


@app.command("show")
def show(
    ref_id: str = typer.Argument(..., help="e.g. CC-18000.3.e"),
    version: str = typer.Option(None, "--version"),
    framework: str = typer.Option(None, "--framework", help="mechanism (default) | internal-control"),
    fmt: Fmt = typer.Option(Fmt.table, "--format"),
) -> None:
    """One requirement: both languages, cadence, applicability, dates, tier duties, focus points, history."""
    from ccinspect.core.dates import dual

    cat = _cat()
    try:
        r = cat.version(framework, version).get(ref_id) if framework else cat.find(ref_id, version)
    except KeyError as exc:
        fail(str(exc.args[0]))
    if r is None:
        fail(f"no requirement {ref_id!r} in {framework} {version or ''}".strip())
    fw = r.framework
    duties = cat.duties_for(ref_id) if fw == "mechanism" else []
    points = cat.focus_points_for(ref_id) if fw == "mechanism" else []
    history = []
    for v in cat.versions(fw):
        old = v.get(ref_id)
        history.append({"version": v.id, "status": v.spec.status.value,
                        "text": old.text if old else None, "cadence": old.cadence.value if old and old.cadence else None})
    data = r.to_dict() | {
        "tier_duties": [{"id": d.id, "name": d.name, "name_en": d.name_en,
                         "bindings": [b.model_dump() for b in d.bindings]} for d in duties],
        "focus_points": [p.model_dump() for p in points],
        "history": history,
    }
    if fmt == Fmt.json:
        emit_json(data)
        return
    console.rule(f"[bold]{r.ref_id}[/]  {fw} {r.version}")
    if r.title:
        console.print(f"[bold]{r.title}[/] / {r.title_en}")
    console.print(r.text, soft_wrap=True)
    console.print(f"[dim]{r.text_en}[/]", soft_wrap=True)
    console.print(f"cadence: {r.cadence.value if r.cadence else '—'}   obligation: {r.obligation}   "
                  f"assessable: {r.assessable}")
    console.print(f"applies to: {data['applies_to'] or 'all securities firms'}")
    if r.effective_from:
        console.print(f"effective from: {dual(r.effective_from)}")
    for m in r.milestones:
        console.print(f"  milestone {dual(m.date)}: {m.scope} / {m.scope_en} ({m.source_text})")
    if r.note:
        console.print(f"note: {r.note}\n      {r.note_en}", soft_wrap=True)
    if r.parent:
        console.print(f"parent: {r.parent}")
    if r.children:
        console.print(f"items: {', '.join(r.children)}")
    for d in duties:
        console.print(f"[bold]tier duty[/] {d.name} / {d.name_en}")
        for b in d.bindings:
            console.print(f"   source {b.source}: tiers {b.tiers}, {b.scope}, {b.effective_text or ''} "
                          f"{b.frequency or ''}")
    for p in points:
        console.print(f"[bold]focus point[/] {p.area} {p.number or ''}: {p.text}", soft_wrap=True)
    console.print("[bold]history[/]")
    for h in history:
        mark = "—" if h["text"] is None else ("same" if h["text"] == r.text else "different text")
        console.print(f"   {h['version']} ({h['status']}): {mark}")


@app.command("diff")
def diff(
    from_: str = typer.Option(..., "--from", help="older version id"),
    to: str = typer.Option(..., "--to", help="newer version id"),
    framework: str = typer.Option("mechanism", "--framework"),
    fmt: Fmt = typer.Option(Fmt.table, "--format"),
) -> None:
    """What an amendment added, removed or reworded."""
    from ccinspect.catalog.diff import diff_versions, inline_diff

    cat = _cat()
    try:
        old, new = cat.version(framework, from_), cat.version(framework, to)
    except KeyError as exc:
        fail(str(exc.args[0]))
    changes = diff_versions(old, new)
    if fmt == Fmt.json:
        emit_json({"framework": framework, "from": from_, "to": to, "changes": [c.to_dict() for c in changes]})
        return
    counts = {k: sum(c.kind == k for c in changes) for k in ("added", "removed", "reworded", "changed")}
    t = Table(title=f"{framework}: {from_} → {to}")
    t.add_column("change")
    t.add_column("ref_id", no_wrap=True)
    t.add_column("what")
    for c in changes:
        if c.kind == "added":
            what = c.new.text
        elif c.kind == "removed":
            what = c.old.text
        elif c.kind == "reworded":
            what = inline_diff(c.old.text, c.new.text)
        else:
            what = "; ".join(f"{f}: {getattr(c.old, f)!s} → {getattr(c.new, f)!s}" for f in c.fields)
        if c.moved_to:
            what += f"  (old text continues at {c.moved_to})"
        if c.moved_from:
            what += f"  (carries on {c.moved_from} of {from_})"
        t.add_row(c.kind, c.ref_id, what)
    console.print(t, markup=False)
    console.print(", ".join(f"{v} {k}" for k, v in counts.items()))


class ExportFmt(StrEnum):
    json = "json"
    csv = "csv"
    xlsx = "xlsx"
    oscal = "oscal"


@app.command("export")
def export(
    fmt: ExportFmt = typer.Option(..., "--format"),
    version: str = typer.Option(None, "--version"),
    framework: str = typer.Option("all", "--framework", help="mechanism | internal-control | all"),
    out: Path = typer.Option(None, "--out", help="file (json/csv/xlsx) or directory (oscal); json/csv default stdout"),
    as_of: str = typer.Option(None, "--as-of", help="OSCAL tier profiles: date (default today)"),
) -> None:
    """Export requirements as JSON, CSV, XLSX, or OSCAL catalogs with a profile per tier."""
    from ccinspect.applicability.oscal import write_oscal
    from ccinspect.catalog.export import select_versions, to_csv, to_json, to_xlsx
    from ccinspect.core.dates import DateParseError, parse_date

    cat = _cat()
    try:
        versions = select_versions(cat, framework, version)
    except KeyError as exc:
        fail(str(exc.args[0]))
    if fmt in (ExportFmt.json, ExportFmt.csv):
        text = to_json(versions) if fmt == ExportFmt.json else to_csv(versions)
        if out:
            atomic_write_text(out_file(out), text)
            console.print(f"wrote {out}")
        else:
            typer.echo(text, nl=False)
        return
    if out is None:
        fail(f"--format {fmt.value} needs --out")
    if fmt == ExportFmt.xlsx:
        with atomic_file(out_file(out)) as tmp:
            to_xlsx(versions, cat, tmp)
        console.print(f"wrote {out}")
        return
    try:
        day = parse_date(as_of, field="--as-of") if as_of else dt.date.today()
    except DateParseError as exc:
        fail(str(exc))
    if out.exists() and not out.is_dir():
        fail(f"--out: {out} is a file; expected a folder for the OSCAL documents")
    if not out.parent.is_dir():
        fail(f"--out: folder {out.parent} does not exist; expected a folder in an existing one")
    for p in write_oscal(cat, out, version, day):
        console.print(f"wrote {p}")
