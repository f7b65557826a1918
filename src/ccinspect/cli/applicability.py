"""`ccinspect applicable` and `ccinspect calendar`."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from enum import StrEnum
from pathlib import Path

import typer
from rich.table import Table

from ccinspect.core.files import atomic_write_bytes

from .common import Fmt, Lang, console, emit_json, fail, out_file

# The applicability engine (catalog, pydantic models) is imported inside the commands, so that
# other commands (`ccinspect logins scan` on a daily timer) do not pay for it at start-up.


def _profile(profile: Path | None, overrides: dict):
    from ccinspect.applicability import ProfileError, load_profile, profile_from_mapping

    overrides = {k: v for k, v in overrides.items() if v is not None}
    try:
        if profile:
            base = load_profile(profile)
            return profile_from_mapping(base.model_dump() | overrides, str(profile))
        if "capital" not in overrides:
            fail("give --profile FILE or at least --capital")
        return profile_from_mapping(overrides, "command-line flags")
    except ProfileError as exc:
        fail(str(exc))


def _date(value: str | None, field: str) -> dt.date:
    from ccinspect.core.dates import DateParseError, parse_date

    try:
        return parse_date(value, field=field) if value else dt.date.today()
    except DateParseError as exc:
        fail(str(exc))


class CalFmt(StrEnum):
    table = "table"
    json = "json"
    ics = "ics"


def register(app: typer.Typer) -> None:
    @app.command("applicable")
    def applicable(
        profile: Path = typer.Option(None, "--profile", help="broker profile (YAML or JSON)"),
        as_of: str = typer.Option(None, "--as-of", help="date: 2024-06-30, 113/06/30, 民國113年6月30日"),
        capital: str = typer.Option(None, "--capital", help="NTD: 25000000000, 250億, 2.5e10"),
        name: str = typer.Option(None, "--name"),
        internet_orders: bool = typer.Option(None, "--internet-orders/--no-internet-orders"),
        securities_brokerage: bool = typer.Option(None, "--brokerage/--no-brokerage"),
        api_ordering: bool = typer.Option(None, "--api/--no-api"),
        mobile_app: bool = typer.Option(None, "--mobile-app/--no-mobile-app"),
        public_company: bool = typer.Option(None, "--public-company/--no-public-company"),
        cloud_user: bool = typer.Option(None, "--cloud-user/--no-cloud-user"),
        cloud_provider: bool = typer.Option(None, "--cloud-provider/--no-cloud-provider"),
        official_social_media: bool = typer.Option(None, "--social-media/--no-social-media"),
        iot_devices: bool = typer.Option(None, "--iot/--no-iot"),
        tier_source: str = typer.Option(None, "--tier-source",
                                        help="where tier sources disagree, follow this one (001 or 003)"),
        lang: Lang = typer.Option(Lang.zh, "--lang"),
        fmt: Fmt = typer.Option(Fmt.table, "--format"),
    ) -> None:
        """Which requirements bind this broker on a date, which are coming, and its tier duties."""
        from ccinspect.applicability import evaluate
        from ccinspect.applicability.engine import ApplicabilityError
        from ccinspect.core.dates import dual

        prof = _profile(profile, {
            "capital": capital, "name": name, "internet_orders": internet_orders,
            "securities_brokerage": securities_brokerage, "api_ordering": api_ordering,
            "mobile_app": mobile_app, "public_company": public_company, "cloud_user": cloud_user,
            "cloud_provider": cloud_provider, "official_social_media": official_social_media,
            "iot_devices": iot_devices,
        })
        day = _date(as_of, "--as-of")
        try:
            res = evaluate(prof, day, tier_source=tier_source)
        except ApplicabilityError as exc:
            fail(str(exc))
        if fmt == Fmt.json:
            emit_json(res.to_dict())
            return
        en = lang == Lang.en
        console.rule(f"[bold]{prof.name}[/] — tier {res.tier} — as of {dual(day)} — text {res.version}")
        per = Counter(e.requirement.chapter for e in res.applicable if e.requirement.assessable)
        t = Table(title="applicable (assessable items by chapter)" if en else "適用項目（可查核項目，依章）")
        t.add_column("chapter")
        t.add_column("items", justify="right")
        for ch, n in per.items():
            t.add_row(ch, str(n))
        console.print(t)
        for title, rows in (("applicable" if en else "適用", res.applicable),
                            ("not applicable" if en else "不適用", res.not_applicable),
                            ("upcoming" if en else "即將生效", res.upcoming)):
            t = Table(title=f"{title} ({len(rows)})")
            t.add_column("ref_id", no_wrap=True)
            t.add_column("cadence")
            t.add_column("effective")
            t.add_column("reason")
            for e in rows:
                t.add_row(e.ref_id, e.cadence or "", dual(e.effective_from), e.reason_en if en else e.reason)
            console.print(t)
        t = Table(title=f"tier {res.tier} duties ({len(res.duties)})")
        t.add_column("duty")
        t.add_column("tiers")
        t.add_column("scope")
        t.add_column("effective")
        t.add_column("every")
        t.add_column("implements")
        for d in res.duties:
            t.add_row(d.name_en if en else d.name, ",".join(map(str, d.tiers)), d.scope, d.effective_text or "",
                      f"{d.frequency_months} mo" if d.frequency_months else "", ", ".join(d.implements))
        console.print(t)

    @app.command("calendar")
    def calendar(
        profile: Path = typer.Option(None, "--profile"),
        from_: str = typer.Option(..., "--from", help="start date (ISO or ROC)"),
        to: str = typer.Option(..., "--to", help="end date (ISO or ROC)"),
        capital: str = typer.Option(None, "--capital"),
        internet_orders: bool = typer.Option(None, "--internet-orders/--no-internet-orders"),
        out: Path = typer.Option(None, "--out", help="write here instead of stdout"),
        lang: Lang = typer.Option(Lang.zh, "--lang"),
        fmt: CalFmt = typer.Option(CalFmt.table, "--format"),
    ) -> None:
        """Every inspection and dated duty in a date range, with due dates and the ref_ids each serves."""
        from ccinspect.applicability.calendar import build_calendar, to_ics
        from ccinspect.applicability.engine import ApplicabilityError
        from ccinspect.core.dates import dual

        prof = _profile(profile, {"capital": capital, "internet_orders": internet_orders})
        start, end = _date(from_, "--from"), _date(to, "--to")
        if end < start:
            fail(f"--to {dual(end)} is before --from {dual(start)}")
        try:
            items = build_calendar(prof, start, end)
        except ApplicabilityError as exc:
            fail(str(exc))
        if fmt == CalFmt.ics:
            data = to_ics(items, prof)
            if out:
                atomic_write_bytes(out_file(out), data)
                console.print(f"wrote {out} ({len(items)} events)")
            else:
                typer.echo(data.decode("utf-8"), nl=False)
            return
        if fmt == CalFmt.json:
            emit_json({"broker": prof.name, "from": start.isoformat(), "to": end.isoformat(),
                       "occurrences": [o.to_dict() for o in items]})
            return
        en = lang == Lang.en
        t = Table(title=f"{prof.name}: {dual(start)} – {dual(end)} ({len(items)})")
        t.add_column("due", no_wrap=True)
        t.add_column("kind")
        t.add_column("what")
        t.add_column("ref_ids")
        for o in items:
            what = (o.title_en if en else o.title) + (" *" if o.assumed else "")
            t.add_row(dual(o.due), o.kind, what, ", ".join(o.ref_ids))
        console.print(t)
        if any(o.assumed for o in items):
            console.print("* interval proposed by ccinspect; the text says only 定期 (periodically)")
