"""Continuity pages: the dashboard (gaps now, gaps on the DR-site milestone with a countdown, drills due, last
drill per system as a chart, outages against RTO, the (十三) calendar duties), the records of each kind, XLSX
import/export/template and the amendment side by side. A broker's users see their own register; the regulator
and the site admin pick a broker and read."""

from __future__ import annotations

import datetime as dt

import plotly.graph_objects as go
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from ccinspect.continuity import MOMENT_TEXT, MOMENT_TEXT_EN, RegisterError
from ccinspect.core.dates import DateParseError, parse_date
from ccinspect.web.dashboard.views import _empty, _fig_json
from ccinspect.web.inspections import services as isvc
from ccinspect.web.inspections.evidence import UploadError, read_upload
from ccinspect.web.inspections.models import DeductionRule
from ccinspect.web.inspections.permissions import brokers_for, get_or_404, scoped

from . import services as svc
from .forms import form_class, initial, record_data
from .models import MODELS

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
KIND_LABELS = {
    "systems": gettext_lazy("Core systems"), "impact_analyses": gettext_lazy("Business impact analyses"),
    "fallback_plans": gettext_lazy("Manual fallback plans"), "dr_coverage": gettext_lazy("DR site coverage"),
    "drills": gettext_lazy("Drills and tests"), "risk_scenarios": gettext_lazy("Risk scenarios"),
    "provider_plans": gettext_lazy("Provider recovery plans"),
    "tolerance_classes": gettext_lazy("Tolerable interruption by class"),
}
DUE_LABELS = {
    "bia": gettext_lazy("Business impact analysis"), "bcp-drill": gettext_lazy("Business continuity drill"),
    "ddos-drill": gettext_lazy("DDoS drill"), "fault-test": gettext_lazy("Fault-recovery test"),
    "risk-review": gettext_lazy("Risk scenario review"), "provider-plan": gettext_lazy("Provider recovery plan"),
}


def _en() -> bool:
    return (get_language() or "").lower().startswith("en")


def _broker(request):
    """The broker whose register is shown: the user's own, or (regulator, site admin) ?broker=ID."""
    user = request.user
    if user.sees_all_brokers:
        bid = request.GET.get("broker") or request.POST.get("broker") or ""
        return get_or_404(brokers_for(user), bid) if bid else None
    if user.organisation_id is None:
        raise Http404
    return user.organisation


def _own(request):
    if not (request.user.can_prepare and request.user.organisation_id):
        raise PermissionDenied(_("Only the broker's security officer or administrator changes the register."))
    return request.user.organisation


def _kind(kind: str) -> str:
    if kind not in MODELS:
        raise Http404
    return kind


def _as_of(request) -> dt.date:
    raw = request.GET.get("as_of")
    if raw:
        try:
            return parse_date(raw, field="as_of")
        except DateParseError:
            messages.error(request, _("%(v)s is not a date; showing today.") % {"v": raw})
    return timezone.localdate()


def _chart(st) -> str:
    rows = [r for r in st.last_drills if r["drill"]]
    fig = go.Figure()
    if not rows:
        _empty(fig, _("No drills recorded yet"))
        return _fig_json(fig)
    x = [r["system"] for r in rows]
    hover = [f"{r['name']}<br>{r['drill']['id']} {r['drill']['date']} ({r['drill']['result']})" for r in rows]
    for key, name, color in (("target_rto_minutes", _("Target RTO"), "#9aa0a6"),
                             ("achieved_rto_minutes", _("Achieved RTO"), "#1a73e8")):
        vals = [r["drill"][key] for r in rows]
        fig.add_bar(x=x, y=vals, name=name, marker_color=color, hovertext=hover,
                    text=[("" if v is None else f"{v:g}") for v in vals], textposition="outside")
    fig.add_scatter(x=x, y=[r["tolerable_minutes"] for r in rows], mode="markers", name=_("Tolerable interruption"),
                    marker={"symbol": "line-ew", "size": 28, "line": {"width": 3, "color": "#d93025"}})
    for key, name, color in (("target_rpo_minutes", _("Target RPO"), "#c6dafc"),
                             ("achieved_rpo_minutes", _("Achieved RPO"), "#137333")):
        fig.add_bar(x=x, y=[r["drill"][key] for r in rows], name=name, marker_color=color, hovertext=hover,
                    visible="legendonly")
    # the axis fits the drills; a tolerable time far above them (a reporting system's day) stays in the table
    top = max([v for r in rows for k in ("target_rto_minutes", "achieved_rto_minutes")
               if (v := r["drill"][k]) is not None] or [1])
    top = max([top] + [t for r in rows if (t := r["tolerable_minutes"]) is not None and t <= 4 * top])
    fig.update_layout(barmode="group", yaxis={"title": _("minutes"), "range": [0, top * 1.25], "fixedrange": True},
                      xaxis={"fixedrange": True}, legend={"orientation": "h", "y": -0.15})
    return _fig_json(fig)


def _gap_rows(st, org, raised: dict, en: bool) -> list[dict]:
    out = []
    for g in st.gaps:
        key = (g.rule, *(g.record or ("", "")))
        out.append({"gap": g, "message": g.message_en if en else g.message, "title": g.title_en if en else g.title,
                    "finding": raised.get(key), "can_raise": g.rule in svc.FINDING_RULES and g.record is not None,
                    "clauses": list({(c.ref_id, c.version): c for c in g.clauses}.values())})
    return out


@login_required
@require_safe
def dashboard(request):
    org = _broker(request)
    if org is None:
        return render(request, "continuity/choose.html", {"brokers": brokers_for(request.user),
                                                          "nav_active": "continuity"})
    en = _en()
    as_of = _as_of(request)
    st = svc.status_for(org, as_of)
    mine = request.user.organisation_id == org.pk and request.user.can_prepare
    raised = svc.raised_for(org)
    duties = [o for o in isvc.calendar_for(org, as_of - dt.timedelta(days=31), as_of + dt.timedelta(days=400),
                                           kind=None)
              if o.kind != "inspection" and any(r.startswith("CC-20000") for r in o.ref_ids)]
    ol = st.dr_outlook
    return render(request, "continuity/dashboard.html", {
        "org": org, "st": st, "as_of": as_of, "en": en, "gaps": _gap_rows(st, org, raised, en),
        "upcoming": [{"gap": g, "message": g.message_en if en else g.message} for g in st.upcoming],
        "outlook": ol, "overdue": sum(d.overdue for d in st.due), "due": [{"d": d, "label": DUE_LABELS.get(d.kind, d.kind)} for d in st.due],
        "chart": _chart(st), "notes": [n["note_en"] if en else n["note"] for n in st.notes],
        "outages": svc.outages_for(org), "duties": duties, "kinds": KIND_LABELS, "can_edit": mine,
        "items": svc.candidate_items(org) if mine else [], "severities": DeductionRule.SEVERITIES,
        "finding_due": timezone.localdate() + dt.timedelta(days=30), "tolerance": st.tolerance,
        "broker_q": f"?broker={org.pk}" if request.user.sees_all_brokers else "", "nav_active": "continuity",
        "countdown_pct": max(0, min(100, 100 - ol.days_left * 100 // 1461)) if ol else 0})


def _records_ctx(request, org, kind, form=None, row=None) -> dict:
    mine = request.user.organisation_id == org.pk and request.user.can_prepare
    extra = {}
    if kind == "fallback_plans":
        texts = MOMENT_TEXT_EN if _en() else MOMENT_TEXT
        extra["moments"] = [(m.value, texts[m]) for m in texts]
    return {"org": org, "kind": kind, "label": KIND_LABELS[kind], "rows": list(svc.rows(org, kind)),
            "columns": [f for f in form_class(kind).base_fields], "form": form or form_class(kind)(),
            "row": row, "can_edit": mine, "kinds": KIND_LABELS, "nav_active": "continuity",
            "broker_q": f"?broker={org.pk}" if request.user.sees_all_brokers else "", **extra}


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def records(request, kind):
    kind = _kind(kind)
    if request.method == "POST":
        org = _own(request)
        form = form_class(kind)(request.POST)
        if form.is_valid():
            try:
                row = svc.save_record(request.user, org, kind, record_data(form.cleaned_data))
                messages.success(request, _("Saved %(id)s.") % {"id": row.record_id})
                return redirect("continuity_records", kind=kind)
            except svc.ServiceError as exc:
                form.add_error(None, str(exc))
        return render(request, "continuity/records.html", _records_ctx(request, org, kind, form), status=400)
    org = _broker(request)
    if org is None:
        return redirect("continuity")
    return render(request, "continuity/records.html", _records_ctx(request, org, kind))


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def record(request, kind, pk):
    kind = _kind(kind)
    row = get_or_404(scoped(MODELS[kind].objects.all(), request.user), pk)
    if request.method == "POST":
        org = _own(request)
        if row.organisation_id != org.pk:
            raise Http404
        form = form_class(kind)(request.POST)
        if form.is_valid():
            try:
                svc.save_record(request.user, org, kind, record_data(form.cleaned_data), row)
                messages.success(request, _("Saved %(id)s.") % {"id": row.record_id})
                return redirect("continuity_records", kind=kind)
            except svc.ServiceError as exc:
                form.add_error(None, str(exc))
        return render(request, "continuity/record.html", _records_ctx(request, org, kind, form, row), status=400)
    form = form_class(kind)(initial=initial(row))
    return render(request, "continuity/record.html", _records_ctx(request, row.organisation, kind, form, row))


@login_required
@require_POST
def record_delete(request, kind, pk):
    kind = _kind(kind)
    row = get_or_404(scoped(MODELS[kind].objects.all(), request.user), pk)
    org = _own(request)
    if row.organisation_id != org.pk:
        raise Http404
    try:
        svc.delete_record(request.user, org, kind, row)
        messages.success(request, _("Deleted %(id)s.") % {"id": row.record_id})
    except svc.ServiceError as exc:
        messages.error(request, str(exc))
    return redirect("continuity_records", kind=kind)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def import_view(request):
    org = _own(request)
    ctx = {"org": org, "kinds": KIND_LABELS, "nav_active": "continuity"}
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            messages.error(request, _("Choose a workbook to import."))
            return render(request, "continuity/import.html", ctx, status=400)
        try:
            counts = svc.import_workbook(request.user, org, read_upload(upload), upload.name)
        except UploadError as exc:
            messages.error(request, str(exc))
            return render(request, "continuity/import.html", ctx, status=400)
        except RegisterError as exc:
            return render(request, "continuity/import.html", ctx | {"problems": exc.problems, "name": upload.name},
                          status=400)
        except svc.ServiceError as exc:
            messages.error(request, str(exc))
            return render(request, "continuity/import.html", ctx, status=400)
        messages.success(request, _("Imported %(n)d records; the register was replaced.") % {
            "n": sum(counts.values())})
        return redirect("continuity")
    return render(request, "continuity/import.html", ctx)


def _xlsx(data: bytes, name: str) -> HttpResponse:
    resp = HttpResponse(data, content_type=XLSX)
    resp["Content-Disposition"] = f'attachment; filename="{name}"'
    return resp


@login_required
@require_safe
def export(request):
    org = _broker(request)
    if org is None:
        raise Http404
    return _xlsx(svc.workbook_bytes(svc.register_for(org)), f"continuity-{org.pk}-{timezone.localdate():%Y%m%d}.xlsx")


@login_required
@require_safe
def template(request):
    return _xlsx(svc.template_bytes(), "continuity-template.xlsx")


@login_required
@require_safe
def amendment_view(request):
    en = _en()
    rows = [{"c": c, "before": (c.before_en if en else c.before) or c.before,
             "after": (c.after_en if en else c.after) or c.after} for c in svc.amendment_rows()]
    return render(request, "continuity/amendment.html", {
        "rows": rows, "notes": rows[0]["c"].explanation if rows else [], "nav_active": "continuity"})


@login_required
@require_POST
def raise_finding(request):
    org = _own(request)
    p = request.POST
    try:
        f = svc.raise_gap_finding(request.user, org, rule=p.get("rule", ""), kind=p.get("kind", ""),
                                  record_id=p.get("record", ""), item_id=p.get("item"),
                                  severity=p.get("severity", ""), due_date=p.get("due_date", ""))
        messages.success(request, _("Finding F-%(n)d raised from the gap.") % {"n": f.pk})
    except svc.ServiceError as exc:
        messages.error(request, str(exc))
    return redirect("continuity")
