"""The broker dashboard: due this month, overdue, open findings by chapter, compliance by chapter over time,
the tier and what becomes effective next."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
from collections import Counter

import plotly.graph_objects as go
import plotly.io as pio
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.db.models import Count, Q
from django.shortcuts import render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe
from plotly.utils import PlotlyJSONEncoder

from ccinspect.core.dates import end_of_month
from ccinspect.web.inspections import services as svc
from ccinspect.web.inspections.models import Finding, Inspection
from ccinspect.web.inspections.permissions import brokers_for, get_or_404


def count_axis(largest: int) -> dict:
    """A y axis for counts: whole numbers only, about six intervals at most (step 1, 2, 5, 10, 20, 50 …),
    from zero with a little headroom above the tallest bar."""
    top = max(1, int(largest))
    step, magnitude = 1, 1
    while True:
        step = next((b * magnitude for b in (1, 2, 5) if top / (b * magnitude) <= 6), 0)
        if step:
            break
        magnitude *= 10
    return {"tickmode": "linear", "tick0": 0, "dtick": step, "tickformat": "d",
            "range": [0, top + max(0.5, top * 0.12)], "fixedrange": True}


def month_axis(dates: list[dt.date]) -> dict:
    """A date axis labelled by month: one tick per month for up to eight months, else every 2nd, 3rd, 6th month;
    a lone point or a short span gets a month's room either side (Plotly would label days as "2025-05" four
    times)."""
    axis = {"type": "date", "tickformat": "%Y-%m", "fixedrange": True}
    if not dates:
        return axis
    lo, hi = min(dates), max(dates)
    months = (hi.year - lo.year) * 12 + hi.month - lo.month
    axis["dtick"] = "M" + str(next(n for n in (1, 2, 3, 6, 12) if months / n <= 8 or n == 12))
    pad = dt.timedelta(days=20 if months >= 2 else 35)
    axis["range"] = [(lo - pad).isoformat(), (hi + pad).isoformat()]
    return axis


def _empty(fig, message: str) -> None:
    fig.update_layout(xaxis={"visible": False}, yaxis={"visible": False}, annotations=[{
        "text": message, "showarrow": False, "xref": "paper", "yref": "paper", "x": 0.5, "y": 0.5,
        "font": {"size": 15, "color": "#5f6368"}}])


@functools.cache
def _template(name: str) -> dict:
    return pio.templates[name].to_plotly_json()


def plot_json(fig, **layout) -> str:
    """The figure as Plotly JSON, with `layout` and the plotly_white template. The template goes into the JSON
    as data: set on the figure, plotly validates and copies it every time (some 30 ms a chart)."""
    fig.update_layout(**layout)
    data = fig.to_plotly_json()
    data["layout"]["template"] = _template("plotly_white")
    return json.dumps(data, cls=PlotlyJSONEncoder)


def cached_plot(name: str, data, build) -> str:
    """The JSON of a chart that `build()` draws from `data` alone, remembered per (chart, language, data) in
    the process's cache: the next page with the same numbers reuses it (plotly spends tens of ms on a figure
    with shapes and traces)."""
    digest = hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()
    return cache.get_or_set(f"plot:{name}:{translation.get_language()}:{digest}", build, timeout=None)


def _fig_json(fig) -> str:
    return plot_json(fig, margin={"l": 40, "r": 10, "t": 30, "b": 40}, height=320,
                     font={"family": "Noto Sans CJK TC, Noto Sans TC, sans-serif"})


def broker_summary(org, today: dt.date) -> dict:
    month_start, month_end = today.replace(day=1), end_of_month(today)
    occs = svc.calendar_for(org, today - dt.timedelta(days=366), month_end, kind=None)
    inspections = {i.occurrence_id: i for i in Inspection.objects.filter(organisation=org)}
    # Periods that ended before the broker was on ccinspect (and before its first recorded inspection) are
    # history it did elsewhere, not overdue work.
    since = min([org.created_at.date(), *(i.period_start for i in inspections.values())])
    can_inspect = svc.inspectable(org, occs)
    due_month, overdue = [], []
    for o in occs:
        insp = inspections.get(o.id)
        if o.kind == "inspection" and insp is None and o.id not in can_inspect:
            continue  # nothing of the unit applies to this broker: nothing to do, nothing overdue
        done = insp is not None and insp.status == Inspection.SIGNED_OFF
        row = {"occ": o, "inspection": insp, "done": done}
        if month_start <= o.due <= month_end:
            due_month.append(row)
        elif since <= o.due < today and o.kind == "inspection" and not done:
            overdue.append(row)
    overdue.sort(key=lambda r: r["occ"].due, reverse=True)
    findings = Finding.objects.filter(organisation=org)
    open_f = findings.exclude(status=Finding.CLOSED)
    overdue_f = sorted((f for f in open_f if f.is_overdue), key=lambda f: (f.due_date, f.pk))
    res = svc.applicability(org, today)
    upcoming = sorted(res.upcoming, key=lambda e: (e.effective_from or dt.date.max, e.ref_id))[:10]
    return {"org": org, "tier": res.tier, "version": res.version, "due_month": due_month, "overdue": overdue,
            "open_findings": open_f.count(), "overdue_findings": overdue_f, "upcoming": upcoming,
            "by_chapter": Counter(open_f.values_list("chapter", flat=True)),
            "points": sum(f.deduction_points for f in open_f)}


# The charts are drawn from their data alone: the same counts in the same language give the same JSON, so it is
# built once (plotly spends some 10 ms on a figure) and the next dashboards with these numbers reuse it.
@functools.lru_cache(maxsize=512)
def _bar_json(lang: str, chapters: tuple, counts: tuple) -> str:
    with translation.override(lang):
        bar = go.Figure(go.Bar(x=list(chapters), y=list(counts), marker_color="#b3261e", text=list(counts),
                               textposition="outside", cliponaxis=False,
                               hovertemplate="%{x}: %{y}<extra></extra>"))
        bar.update_layout(title=_("Open findings by chapter"), yaxis=count_axis(max(counts, default=0)),
                          xaxis={"type": "category", "fixedrange": True},
                          bargap=0.6 if len(chapters) <= 3 else 0.3)
        if not chapters:
            _empty(bar, _("No open findings"))
        return _fig_json(bar)


@functools.lru_cache(maxsize=512)
def _line_json(lang: str, series: tuple) -> str:
    with translation.override(lang):
        line = go.Figure()
        for chapter, pts in series:
            line.add_trace(go.Scatter(x=[p[0].isoformat() for p in pts], y=[p[1] for p in pts],
                                      mode="lines+markers", name=chapter,
                                      hovertemplate="%{x|%Y-%m} · %{y}%<extra>" + chapter + "</extra>"))
        line.update_layout(title=_("Compliance by chapter (%)"),
                           yaxis={"range": [0, 105], "tickvals": [0, 25, 50, 75, 100], "fixedrange": True},
                           xaxis=month_axis([p[0] for _c, pts in series for p in pts]))
        if not series:
            _empty(line, _("No assessed inspections yet"))
        return _fig_json(line)


def overview_rows(brokers, today: dt.date) -> list[dict]:
    """Per broker: inspections, open and overdue findings. Three queries, however many brokers."""
    n_insp = dict(Inspection.objects.filter(organisation__in=brokers).values("organisation_id")
                  .annotate(n=Count("id")).values_list("organisation_id", "n"))
    not_closed = ~Q(status=Finding.CLOSED)
    per = {r["organisation_id"]: r for r in Finding.objects.filter(organisation__in=brokers)
           .values("organisation_id").annotate(open=Count("id", filter=not_closed),
                                               overdue=Count("id", filter=not_closed & Q(due_date__lt=today)))}
    return [{"org": b, "open": per.get(b.pk, {}).get("open", 0), "overdue": per.get(b.pk, {}).get("overdue", 0),
             "inspections": n_insp.get(b.pk, 0), "today": today} for b in brokers]


@login_required
@require_safe
def dashboard(request):
    brokers = brokers_for(request.user)
    org = None
    if request.GET.get("broker"):
        org = get_or_404(brokers, request.GET["broker"])
    elif request.user.organisation_id and brokers.filter(pk=request.user.organisation_id).exists():
        org = brokers.get(pk=request.user.organisation_id)
    if org is None:
        return render(request, "dashboard/overview.html", {"rows": overview_rows(brokers, timezone.localdate())})
    s = broker_summary(org, timezone.localdate())
    chapters = sorted(s["by_chapter"])
    counts = [s["by_chapter"][c] for c in chapters]
    series = tuple((chapter, tuple(pts)) for chapter, pts in sorted(svc.compliance_series(org).items()))
    lang = translation.get_language()
    bar_json, line_json = _bar_json(lang, tuple(chapters), tuple(counts)), _line_json(lang, series)
    return render(request, "dashboard/broker.html", s | {
        "bar_json": bar_json, "line_json": line_json, "brokers": brokers,
        "chart_data": json.dumps({c: s["by_chapter"][c] for c in chapters})})
