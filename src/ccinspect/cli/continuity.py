"""`ccinspect continuity`: the business continuity register (CC-20000) — status, XLSX template, import, export."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from ccinspect.core.exitcodes import ExitCode

from .common import Fmt, Lang, console, emit_json, err_console, fail

# The register engine (openpyxl, the catalog) is imported inside the commands, so that other
# commands do not pay for it at start-up.
if TYPE_CHECKING:
    from ccinspect.continuity import Register

app = typer.Typer(help="營運持續管理 (CC-20000): the business continuity register, its gaps and the amendment.",
                  no_args_is_help=True)


def _register(path: Path) -> Register:
    from ccinspect.continuity import RegisterError, load_register

    try:
        return load_register(path)
    except RegisterError as exc:
        fail(f"the register is not valid ({len(exc.problems)} problem(s)):\n{exc}")


def _clauses(g) -> str:
    return "\n".join(f"{c.ref_id} ({c.version}{', changed' if c.changed_by_amendment else ''})" for c in g.clauses)


def _from_db(broker: str | None):
    """The register and profile of a broker in the web database (DATABASE_URL or ./var, as `ccinspect web`)."""
    if not broker:
        fail("--db needs --broker NAME|ID")
    from .web import _django

    _django()
    from ccinspect.web.continuity import services as websvc

    try:
        org = websvc.org_by_name_or_id(broker)
        return websvc.register_for(org), org.broker_profile()
    except websvc.ServiceError as exc:
        fail(str(exc))


@app.command("status")
def status(
    profile: Path = typer.Option(None, "--profile", help="broker profile (YAML or JSON); with --db default: the "
                                                         "broker's profile in the database"),
    data: Path = typer.Option(None, "--data", help="data directory (continuity.yaml or continuity.xlsx) or a file"),
    db: bool = typer.Option(False, "--db", help="read the register from the web application's database"),
    broker: str = typer.Option(None, "--broker", help="with --db: the broker's name or id"),
    as_of: str = typer.Option(None, "--as-of", help="date: 2025-06-30, 114/06/30; default today"),
    fmt: Fmt = typer.Option(Fmt.table, "--format"),
    lang: Lang = typer.Option(Lang.zh, "--lang"),
    fail_on_gaps: bool = typer.Option(False, "--fail-on-gaps", help="exit 1 when there is a gap now"),
) -> None:
    """Every gap of the register with the CC-20000 clause it breaks (both versions where the amendment changed it)."""
    from ccinspect.applicability import ProfileError, load_profile
    from ccinspect.continuity import evaluate
    from ccinspect.core.dates import DateParseError, parse_date

    if db == (data is not None):
        fail("give either --data DIR or --db --broker NAME|ID")
    if not db and profile is None:
        fail("--profile is required with --data")
    try:
        prof = load_profile(profile) if profile else None
        day = parse_date(as_of, field="--as-of") if as_of else dt.date.today()
    except (ProfileError, DateParseError) as exc:
        fail(str(exc))
    if db:
        reg, db_prof = _from_db(broker)
        prof = prof or db_prof
    else:
        reg = _register(data)
    st = evaluate(reg, prof, day)
    empty = not any(getattr(reg, kind) for kind in type(reg).model_fields)
    if fmt == Fmt.json:
        emit_json(st.to_dict() | {"register_empty": empty})
    else:
        _print_status(st, lang == Lang.en)
    if empty:  # the gaps listed are those of a register with nothing in it: said, and not exit 0
        err_console.print(f"[bold yellow]warning:[/] the register ({data or 'database'}) is empty: no core "
                          "system, analysis, plan or drill is recorded; the gaps above are those of an empty "
                          "register (exit 3)", highlight=False, soft_wrap=True)
        raise typer.Exit(int(ExitCode.PARTIAL))
    if fail_on_gaps and st.gaps:
        raise typer.Exit(int(ExitCode.FINDINGS))


def _print_status(st, en: bool) -> None:
    from ccinspect.core.dates import dual

    console.rule(f"[bold]{st.broker}[/] — tier {st.tier} — as of {dual(st.as_of)} — internal-control "
                 f"{st.framework_version}")
    for title, gaps in ((("gaps now" if en else "目前缺失"), st.gaps),
                        (("gaps coming with the amendment" if en else "修正條文生效後將產生之缺失"), st.upcoming)):
        t = Table(title=f"{title} ({len(gaps)})", show_lines=True)
        t.add_column("rule", overflow="fold")
        t.add_column("finding", overflow="fold")
        t.add_column("internal-control", overflow="fold")
        t.add_column("mechanism", overflow="fold")
        for g in gaps:
            msg = (g.message_en if en else g.message) + (" *" if g.assumed else "")
            t.add_row(g.rule, msg, _clauses(g), ", ".join(g.mechanism))
        console.print(t)
    o = st.dr_outlook
    if o:
        head = (f"DR-site extension of CC-20000.八 on {dual(o.milestone)}: " if en else
                f"CC-20000.八 異地備援範圍擴大 {dual(o.milestone)}：") + \
               ("in force" if o.in_force else f"{o.days_left} days left" if en else f"尚餘 {o.days_left} 天")
        t = Table(title=head)
        for c in ("system", "at DR now" if en else "目前已建置", "DR since" if en else "建置日", "on the date" if en
                  else "屆時"):
            t.add_column(c, overflow="fold")
        for s in o.systems:
            t.add_row(f"{s['system']} {s['name']}", "✓" if s["at_dr_now"] else "✗", s["dr_since"] or "—",
                      ("falls short" if en else "不符") if s["falls_short"] else ("covered" if en else "符合"))
        console.print(t)
    t = Table(title="due" if en else "到期事項")
    for c in ("kind", "system", "last", "due", ""):
        t.add_column(c, overflow="fold")
    for d in st.due:
        t.add_row(d.kind, d.system or "—", dual(d.last) if d.last else "—", dual(d.due) if d.due else "now",
                  (("overdue" if en else "逾期") if d.overdue else "") + (" *" if d.assumed else ""))
    console.print(t)
    tol = st.tolerance
    feeds = ", ".join(f"{k}={v}" for k, v in tol["feeds"].items())
    console.print(f"{'tolerance classes' if en else '可容忍中斷時間分級表'}: {len(tol['classes'])} row(s); "
                  f"{'fed by' if en else '依據'} {feeds}; {'class' if en else '所屬級別'}: "
                  f"{tol['class']['id'] if tol['class'] else '—'}")
    console.print(tol["note_en"] if en else tol["note"])
    for n in st.notes:
        console.print(f"[dim]{n['rule']}: {n['note_en'] if en else n['note']}[/]")
    if any(g.assumed for g in st.gaps + st.upcoming) or any(d.assumed for d in st.due):
        console.print("* interval proposed by ccinspect; the text says only 定期 or sets none")


@app.command("template")
def template(out: Path = typer.Argument(..., help="the XLSX file to write")) -> None:
    """An empty register workbook: one sheet per record kind, header row, data validation."""
    from ccinspect.continuity import Register, write_workbook

    write_workbook(Register(), out)
    console.print(f"wrote {out}")


@app.command("import")
def import_(
    xlsx: Path = typer.Argument(..., help="a workbook in the template's format"),
    data: Path = typer.Option(..., "--data", help="data directory; continuity.yaml is (re)written there"),
) -> None:
    """Validate the whole workbook, then write DIR/continuity.yaml atomically; nothing is written on error."""
    from ccinspect.continuity import RegisterError, import_workbook

    try:
        reg, path = import_workbook(xlsx, data)
    except RegisterError as exc:
        fail(f"nothing imported; {len(exc.problems)} problem(s):\n{exc}")
    counts = ", ".join(f"{k} {len(getattr(reg, k))}" for k in type(reg).model_fields)
    console.print(f"wrote {path} ({counts})")


@app.command("export")
def export(
    data: Path = typer.Option(..., "--data", help="data directory or register file"),
    out: Path = typer.Argument(..., help="the XLSX file to write"),
) -> None:
    """The register as a workbook in the template's format."""
    from ccinspect.continuity import write_workbook

    write_workbook(_register(data), out)
    console.print(f"wrote {out}")


@app.command("amendment")
def amendment_(
    fmt: Fmt = typer.Option(Fmt.table, "--format"),
    lang: Lang = typer.Option(Lang.zh, "--lang"),
) -> None:
    """Before/after text of each clause of CC-20000 the amendment changed, from the catalog's versions."""
    from ccinspect.continuity import amendment

    changes = amendment()
    if fmt == Fmt.json:
        emit_json([c.to_dict() for c in changes])
        return
    en = lang == Lang.en
    t = Table(title="CC-20000 修正對照 (pre-amendment → amended)", show_lines=True)
    t.add_column("ref_id", overflow="fold")
    t.add_column("修正後內容 (amended)" if not en else "amended", overflow="fold")
    t.add_column("修正前內容 (pre-amendment)" if not en else "pre-amendment", overflow="fold")
    for c in changes:
        after = (c.after_en if en else c.after) or "—"
        before = (c.before_en if en else c.before) or "—"
        if c.continues:
            after += f"\n\n(continues pre-amendment {c.continues})" if en else f"\n\n（承修正前 {c.continues}）"
        t.add_row(f"{c.ref_id}\n{c.change}", after, before)
    console.print(t)
    if changes and changes[0].explanation:
        console.print(changes[0].explanation[0])


@app.command("rules")
def rules_(fmt: Fmt = typer.Option(Fmt.table, "--format"), lang: Lang = typer.Option(Lang.zh, "--lang")) -> None:
    """The gap rules and the CC-20000 clauses each serves."""
    from ccinspect.continuity import default_rules

    rs = default_rules()
    if fmt == Fmt.json:
        emit_json([r.model_dump() | {"clauses": [c.to_dict() for c in rs.clauses(r.id)]} for r in rs])
        return
    en = lang == Lang.en
    t = Table(title="continuity gap rules", show_lines=True)
    t.add_column("rule", overflow="fold")
    t.add_column("what", overflow="fold")
    t.add_column("internal-control", overflow="fold")
    t.add_column("mechanism", overflow="fold")
    t.add_column("params", overflow="fold")
    for r in rs:
        clauses = "\n".join(f"{ver}: {', '.join(refs)}" for ver, refs in r.clauses.items())
        params = ", ".join(f"{k}={v}" for k, v in r.params.items()) + (" *" if r.assumed else "")
        t.add_row(r.id, r.title_en if en else r.title, clauses, ", ".join(r.mechanism), params)
    console.print(t)
