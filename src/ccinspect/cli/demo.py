"""`ccinspect demo`: a tour of the catalog, applicability and the calendar on two sample brokers."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import typer
from rich.table import Table

from .common import console


def register(app: typer.Typer) -> None:
    @app.command("demo")
    def demo(as_of: str = typer.Option(None, "--as-of", help="date for the tour (default today)")) -> None:
        """A tour of the catalog and applicability: what binds a tier-1 and a tier-4 internet broker."""
        from ccinspect.applicability import evaluate, profile_from_mapping
        from ccinspect.applicability.calendar import build_calendar
        from ccinspect.catalog import load_catalog
        from ccinspect.catalog.diff import diff_versions
        from ccinspect.core.dates import dual, parse_date

        cat = load_catalog()
        day = parse_date(as_of) if as_of else dt.date.today()
        fv = cat.version("mechanism")
        console.rule(f"[bold]{fv.framework.title}[/] / {fv.framework.title_en} — {fv.spec.title}")
        t = Table(title="catalog: nodes per chapter")
        for col in ("chapter", "title", "title (en)", "cadence", "nodes"):
            t.add_column(col)
        counts = Counter(r.chapter for r in fv.requirements)
        for ch in fv.chapter_nodes():
            t.add_row(ch.ref_id, ch.title, ch.title_en, ch.cadence.value if ch.cadence else "by sub-chapter",
                      str(counts[ch.ref_id]))
        console.print(t)
        for fw in cat.frameworks:
            vs = cat.versions(fw)
            for a, b in zip(vs, vs[1:], strict=False):
                ch = Counter(c.kind for c in diff_versions(a, b))
                console.print(f"{fw}: {a.id} → {b.id}: " + ", ".join(f"{n} {k}" for k, n in sorted(ch.items())))

        brokers = [
            profile_from_mapping({"name": "示範大型證券 (tier 1)", "capital": "250億", "internet_orders": True,
                                  "mobile_app": True, "api_ordering": True, "public_company": True}),
            profile_from_mapping({"name": "示範小型證券 (tier 4)", "capital": "30億", "internet_orders": True}),
        ]
        t = Table(title=f"applicable requirements on {dual(day)}, assessable items per chapter")
        t.add_column("chapter")
        results = [evaluate(b, day, cat) for b in brokers]
        for b in brokers:
            t.add_column(b.name)
        for ch in fv.chapter_nodes():
            t.add_row(ch.ref_id, *[str(sum(1 for e in r.applicable
                                           if e.requirement.chapter == ch.ref_id and e.requirement.assessable))
                                   for r in results])
        t.add_row("total", *[str(sum(1 for e in r.applicable if e.requirement.assessable)) for r in results])
        t.add_row("tier duties", *[str(len(r.duties)) for r in results])
        console.print(t)
        first = results[0]
        month_start = day.replace(day=1)
        month_end = (month_start + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
        due = build_calendar(brokers[0], month_start, month_end, cat)
        t = Table(title=f"{brokers[0].name}: due this month ({dual(month_start)} – {dual(month_end)})")
        t.add_column("due")
        t.add_column("what")
        t.add_column("ref_ids")
        for o in due:
            t.add_row(dual(o.due), o.title, ", ".join(o.ref_ids))
        console.print(t)
        console.print(f"tier {first.tier}: {len(first.applicable)} applicable, {len(first.not_applicable)} not "
                      f"applicable, {len(first.upcoming)} upcoming.")
        console.print("Next: ccinspect applicable --capital 250億 --as-of 2024-06-30 · ccinspect calendar "
                      "--capital 250億 --from 2025-01-01 --to 2025-12-31 --format ics · ccinspect catalog show "
                      "CC-18000.3.e")
