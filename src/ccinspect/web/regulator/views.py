"""The regulator's pages: risk map, cyber risk now, risk trends, and the read-only drill-down to a broker."""

from __future__ import annotations

import json

import plotly.graph_objects as go
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from ccinspect.web.accounts.models import Organisation
from ccinspect.web.dashboard.views import cached_plot, plot_json
from ccinspect.web.incidents.services import incidents_for
from ccinspect.web.inspections.models import Finding, Inspection
from ccinspect.web.inspections.permissions import get_or_404
from ccinspect.web.pagination import paginate

from . import metrics as m
from .permissions import regulator_only

BLOCK_COLOURS = {"attention": "#b3261e", "guidance": "#b26a00", "watch": "#0b5394", "normal": "#1e7e34"}
TIER_COLOURS = {1: "#6a1b9a", 2: "#0b5394", 3: "#00897b", 4: "#9e9d24", 0: "#777"}


def _lang() -> str:
    return "en" if (get_language() or "").startswith("en") else "zh"


def _fig(fig, height=420) -> str:
    return plot_json(fig, margin={"l": 50, "r": 20, "t": 40, "b": 50}, height=height,
                     font={"family": "Noto Sans CJK TC, Noto Sans TC, sans-serif"},
                     legend={"orientation": "h", "y": -0.18})


def _float(request, name, default):
    try:
        return float(request.GET.get(name, default))
    except ValueError:
        return default


def _tier(request):
    t = request.GET.get("tier", "")
    return int(t) if t in {"1", "2", "3", "4"} else None


def _source(request) -> str:
    return m.source_of(request.GET.get("source"))


def source_names() -> dict:
    return {m.REGULATOR: _("Regulator inspection findings"),
            m.SELF: _("Broker self-inspection findings (self-reported)")}


def _source_ctx(source: str, fell_back: bool = False) -> dict:
    names = source_names()
    return {"source": source, "source_label": names[source], "beside_label": names[m.other(source)],
            "source_names": names, "source_fallback": fell_back}


def _period(request, source=None):
    ps = m.periods_with_data(source=source)
    p = request.GET.get("period") or (ps[-1] if ps else None)
    if p is not None and p not in ps:
        raise Http404("no such period")
    return p, ps


def block_names():
    return {"attention": _("Needs attention"), "guidance": _("Guidance"), "watch": _("Watch"),
            "normal": _("Normal")}


@regulator_only  # outermost: anonymous goes to sign in, whatever the method
@require_safe
def risk_map(request):
    source = _source(request)
    period, ps = _period(request, source)
    ctx = {"tab": "map", "periods": ps, "period": period, "tier": _tier(request), "names": block_names(),
           **_source_ctx(source, "source" not in request.GET and source == m.SELF)}
    if period is None:
        return render(request, "regulator/map.html", ctx)
    data = m.risk_map(period, _float(request, "share", m.SHARE_THRESHOLD), _float(request, "points",
                                                                                  m.POINTS_THRESHOLD), ctx["tier"],
                      source)

    def build():
        fig = go.Figure()
        xmax = 100
        ymax = max([r["points"] for r in data["brokers"]] + [data["points_threshold"] * 2]) * 1.1
        s, p = data["share_threshold"], data["points_threshold"]
        for block, (x0, x1, y0, y1) in {"attention": (s, xmax, p, ymax), "guidance": (0, s, p, ymax),
                                        "watch": (s, xmax, 0, p), "normal": (0, s, 0, p)}.items():
            fig.add_shape(type="rect", x0=x0, x1=x1, y0=y0, y1=y1, fillcolor=BLOCK_COLOURS[block], opacity=0.07,
                          line_width=0, layer="below")
            fig.add_annotation(x=(x0 + x1) / 2, y=y1 if y1 < ymax else ymax * 0.97, text=block_names()[block],
                               showarrow=False, font={"color": BLOCK_COLOURS[block], "size": 13}, yanchor="top")
        for t in sorted({r["tier"] for r in data["brokers"]}):
            rows = [r for r in data["brokers"] if r["tier"] == t]
            fig.add_trace(go.Scatter(
                x=[r["e_trading_share"] or 0 for r in rows], y=[r["points"] for r in rows], mode="markers",
                name=_("Tier %(n)d") % {"n": t}, text=[r["name"] for r in rows], customdata=[r["id"] for r in rows],
                marker={"size": 11, "color": TIER_COLOURS.get(t, "#777"), "line": {"width": 1, "color": "#fff"}},
                hovertemplate="%{text}<br>" + _("E-trading share") + " %{x:.0f}%<br>" + _("Deduction points")
                              + " %{y}<extra></extra>"))
        fig.add_vline(x=s, line_dash="dash", line_color="#888")
        fig.add_hline(y=p, line_dash="dash", line_color="#888")
        fig.update_layout(title=_("Risk map %(p)s: e-trading share × deduction points") % {"p": period},
                          xaxis={"title": _("E-trading share (%)"), "range": [0, xmax]},
                          yaxis={"title": _("Deduction points"), "range": [0, ymax]})
        return _fig(fig, 520)

    return render(request, "regulator/map.html", ctx | {"data": data, "fig": cached_plot("risk-map", data, build)})


@regulator_only  # outermost: anonymous goes to sign in, whatever the method
@require_safe
def risk_now(request):
    source = _source(request)
    period, ps = _period(request, source)
    ctx = {"tab": "now", "periods": ps, "period": period, "tier": _tier(request),
           **_source_ctx(source, "source" not in request.GET and source == m.SELF)}
    if period is None:
        return render(request, "regulator/now.html", ctx)
    data = m.risk_now(period, _lang(), ctx["tier"], source=source)

    def build():
        rows = list(reversed(data["types"]))
        fig = go.Figure()
        fig.add_trace(go.Bar(y=[r["ref_id"] for r in rows], x=[r["previous"] or 0 for r in rows], orientation="h",
                             name=data["previous_period"], marker_color="#b0bec5", hovertext=[r["label"] for r in rows],
                             textposition="none", hovertemplate="%{y} %{hovertext}<br>%{x}%<extra></extra>"))
        fig.add_trace(go.Bar(y=[r["ref_id"] for r in rows], x=[r["share"] for r in rows], orientation="h",
                             name=period, marker_color="#b3261e", text=[f"{r['share']:.0f}%" for r in rows],
                             textposition="outside", hovertemplate="%{y}<br>%{x}%<extra></extra>"))
        fig.update_layout(barmode="group", title=_("Share of brokers with each deficiency type (%)"),
                          xaxis={"title": _("% of brokers inspected"), "rangemode": "tozero"},
                          yaxis={"automargin": True})
        return _fig(fig, 120 + 34 * len(rows))

    return render(request, "regulator/now.html", ctx | {"data": data, "fig": cached_plot("risk-now", data, build)})


@regulator_only  # outermost: anonymous goes to sign in, whatever the method
@require_safe
def risk_trends(request):
    tier = _tier(request)
    source = _source(request)
    data = m.trends(tier, _lang(), source=source)

    def build():
        counts, points = go.Figure(), go.Figure()
        for ch in data["chapters"]:
            counts.add_trace(go.Bar(x=data["periods"], y=ch["counts"], name=f"{ch['chapter']} {ch['name']}"))
            points.add_trace(go.Scatter(x=data["periods"], y=ch["points"], mode="lines+markers",
                                        name=f"{ch['chapter']} {ch['name']}"))
        counts.update_layout(barmode="stack", title=_("Deficiencies by chapter"), yaxis={"title": _("Findings")},
                             xaxis={"type": "category"})
        points.update_layout(title=_("Deduction points by chapter"), yaxis={"title": _("Deduction points")},
                             xaxis={"type": "category"})
        tiers = go.Figure()
        for t, series in data["by_tier"].items():
            tiers.add_trace(go.Scatter(x=data["periods"], y=series, mode="lines+markers", name=_("Tier %(n)d") % {"n": t},
                                       line={"color": TIER_COLOURS.get(t, "#777")}))
        names = source_names()
        counts.add_trace(go.Scatter(x=data["periods"], y=data["beside_totals"]["counts"], mode="lines+markers",
                                    name=names[data["beside"]], line={"dash": "dot", "color": "#555"}))
        tiers.update_layout(title=_("Deficiencies by tier"), yaxis={"title": _("Findings"), "rangemode": "tozero"},
                            xaxis={"type": "category"})
        return json.dumps([_fig(counts, 460), _fig(points, 460), _fig(tiers, 340)])

    counts_fig, points_fig, tiers_fig = json.loads(cached_plot("trends", data, build))
    return render(request, "regulator/trends.html", {
        "tab": "trends", "tier": tier, "data": data, "counts_fig": counts_fig, "points_fig": points_fig,
        "tiers_fig": tiers_fig, **_source_ctx(source, "source" not in request.GET and source == m.SELF)})


@regulator_only  # outermost: anonymous goes to sign in, whatever the method
@require_safe
def broker(request, pk):
    org = get_or_404(Organisation.objects.filter(kind=Organisation.BROKER), pk)
    source = _source(request)
    data = m.broker_detail(org, _lang(), source)

    def build():
        fig = go.Figure(go.Bar(x=[r["period"] for r in data["periods"]], y=[r["points"] for r in data["periods"]],
                               marker_color="#b3261e", text=[r["findings"] for r in data["periods"]],
                               hovertemplate="%{x}: %{y} / %{text}<extra></extra>"))
        fig.update_layout(title=_("Deduction points per period"), xaxis={"type": "category"})
        return _fig(fig, 300)

    return render(request, "regulator/broker.html", {
        "tab": "map", "org": org, "data": data, "fig": cached_plot("broker", data["periods"], build),
        **_source_ctx(source),
        "page": paginate(request, Inspection.objects.filter(organisation=org).order_by("-period_end", "unit", "id")),
        "findings": Finding.objects.filter(organisation=org).exclude(status=Finding.CLOSED).order_by("due_date")[:50],
        "incidents": incidents_for(request.user).filter(organisation=org)[:20]})
