"""Pages of the regulator's inspections: the annual plan, engagements, the request list and answers, the
inspectors' work, approval, the report; the thematic comparison; the deduction table's versions.

A broker's users reach only their own engagements (once the requests are sent) and never the inspectors'
notes, analyzer runs or draft findings: those are not put in their pages' context at all."""

from __future__ import annotations

import functools

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from ccinspect.web.accounts.models import REGULATOR_ROLES, Organisation, Role, User
from ccinspect.web.inspections.evidence import UploadError, read_upload
from ccinspect.web.inspections.models import DeductionRule, Finding
from ccinspect.web.inspections.permissions import get_or_404
from ccinspect.web.regulator.views import block_names
from ccinspect.web.reporting.views import _download, _preview

from . import report
from . import services as svc
from .models import DeductionTable, Engagement, ThematicInspection, basis


def regulator_page(view):
    @login_required
    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        svc.require_regulator(request.user)
        return view(request, *args, **kwargs)

    return wrapped


def _staff():
    return User.objects.filter(role__in=REGULATOR_ROLES, is_active=True).order_by("username")


def _form_ctx() -> dict:
    chapters, focus = svc.scope_catalog()
    return {"chapters": chapters, "focus": focus, "brokers": Organisation.objects.filter(kind=Organisation.BROKER),
            "inspectors": _staff(), "supervisors": _staff().filter(role=Role.REGULATOR_SUPERVISOR),
            "kinds": basis()["kinds"], "triggers": Engagement.TRIGGERS}


def _selected(g) -> dict:
    return {"sel": {"chapters": g.getlist("chapters"), "focus": g.getlist("focus"),
                    "inspectors": g.getlist("inspectors"), "brokers": g.getlist("brokers")}}


def _common(p) -> dict:
    return {"period_start": p.get("period_start"), "period_end": p.get("period_end"),
            "answer_due": p.get("answer_due"), "chapters": p.getlist("chapters"), "focus": p.getlist("focus"),
            "systems": p.get("systems", ""), "inspector_ids": p.getlist("inspectors"),
            "supervisor_id": p.get("supervisor")}


@login_required
@require_safe
def engagement_list(request):
    today = timezone.localdate()
    unanswered = Q(requests__answers__isnull=True)
    qs = svc.engagements_for(request.user).annotate(
        n_requests=Count("requests", distinct=True), n_open=Count("requests", filter=unanswered, distinct=True),
        n_overdue=Count("requests", filter=unanswered & Q(requests__due__lt=today), distinct=True))
    return render(request, "oversight/list.html", {
        "nav_active": "oversight", "engagements": qs[:200], "is_reg": svc.is_regulator(request.user)})


@regulator_page
@require_safe
def plan(request):
    try:
        year = int(request.GET.get("year") or timezone.localdate().year)
    except ValueError:
        year = timezone.localdate().year
    names = block_names()
    rows = svc.annual_plan(year)
    for r in rows:
        r["block_name"] = names.get(r["block"], "")
    return render(request, "oversight/plan.html", {"nav_active": "oversight", "year": year, "rows": rows})


@regulator_page
@require_http_methods(["GET", "POST"])
def new(request):
    g = request.POST or request.GET
    ctx = {"nav_active": "oversight", **_form_ctx(), "g": g, **_selected(g)}
    if request.method == "POST":
        p = request.POST
        try:
            org = get_or_404(Organisation.objects.filter(kind=Organisation.BROKER), p.get("broker"))
            eng = svc.create_engagement(request.user, org, kind=p.get("kind", ""), title=p.get("title", ""),
                                        trigger=p.get("trigger", ""), trigger_detail=p.get("trigger_detail", ""),
                                        **_common(p))
        except svc.ServiceError as exc:
            return render(request, "oversight/new.html", ctx | {"error": str(exc)}, status=400)
        messages.success(request, _("Inspection planned: %(n)d items on the request list.")
                         % {"n": eng.requests.count()})
        return redirect("oversight_engagement", eng.pk)
    return render(request, "oversight/new.html", ctx)


def _engagement(request, pk) -> Engagement:
    return get_or_404(svc.engagements_for(request.user), pk)


@login_required
@require_safe
def engagement(request, pk):
    eng = _engagement(request, pk)
    reg = svc.is_regulator(request.user)
    ctx = {"nav_active": "oversight", "eng": eng, "rows": svc.request_rows(eng), "is_reg": reg,
           "reminders": eng.reminders.all()[:10], "today": timezone.localdate(),
           "issued": Finding.objects.filter(observation__engagement=eng).order_by("ref_id", "id"),
           "can_answer": (not reg and request.user.organisation_id == eng.organisation_id
                          and request.user.can_prepare and eng.status == Engagement.REQUESTED)}
    if reg:  # the working papers: never in a broker's context
        ctx |= {"notes": eng.notes.select_related("author"), "runs": eng.analyzer_runs.select_related("run_by")[:5],
                "observations": eng.observations.select_related("finding", "deduction_table"),
                "inspectors": eng.inspectors.all(), "severities": DeductionRule.SEVERITIES,
                "is_inspector": eng.inspectors.filter(pk=request.user.pk).exists(),
                "is_supervisor": request.user.pk == eng.supervisor_id,
                "table": DeductionTable.in_force(timezone.localdate())}
    return render(request, "oversight/engagement.html", ctx)


@login_required
@require_POST
def engagement_action(request, pk, action):
    eng = _engagement(request, pk)
    p, u = request.POST, request.user
    try:
        if action == "send":
            svc.send_requests(u, eng)
        elif action == "note":
            svc.add_note(u, eng, p.get("text", ""))
        elif action == "analyze":
            run = svc.run_analyzers(u, eng)
            messages.success(request, _("Analyzers ran on %(n)d submitted files.") % {"n": len(run.inputs)})
        elif action == "finding":
            svc.record_observation(u, eng, ref_id=p.get("ref_id", ""), title=p.get("title", ""),
                                   severity=p.get("severity", ""), due_date=p.get("due_date", ""),
                                   description=p.get("description", ""), focus_point=p.get("focus_point", ""))
        elif action == "submit":
            svc.submit_for_approval(u, eng)
        elif action == "approve":
            svc.approve(u, eng, p.get("note", ""))
        elif action == "return":
            svc.return_to_inspectors(u, eng, p.get("note", ""))
        else:
            raise Http404
    except svc.ServiceError as exc:
        messages.error(request, str(exc))
    return redirect("oversight_engagement", eng.pk)


@login_required
@require_POST
def answer(request, pk):
    req = get_or_404(svc.requests_for(request.user), pk)
    p = request.POST
    upload = request.FILES.get("file")
    try:
        data = read_upload(upload) if upload is not None else None
        svc.answer(request.user, req, text=p.get("text", ""), name=upload.name if upload else None, data=data,
                   role=p.get("layout", ""), supersedes_id=p.get("supersedes_answer") or None)
        messages.success(request, _("Answer submitted for %(ref)s.") % {"ref": req.ref_id})
    except (svc.ServiceError, UploadError) as exc:
        messages.error(request, str(exc))
    return redirect(reverse("oversight_engagement", args=[req.engagement_id]) + f"#req-{req.pk}")


@login_required
@require_safe
def engagement_report(request, pk, fmt):
    eng = _engagement(request, pk)
    if fmt not in ("html", "pdf"):
        raise Http404
    if not svc.is_regulator(request.user) and eng.status != Engagement.APPROVED:
        raise PermissionDenied("the report reaches the broker once the supervisor has approved it")
    if fmt == "pdf":
        return _download(report.report_pdf(eng), "application/pdf",
                         f"inspection-report-{eng.pk}-{eng.period_end:%Y%m%d}.pdf")
    return _preview(report.report_html(eng).encode())


@regulator_page
@require_http_methods(["GET", "POST"])
def thematic_list(request):
    g = request.POST or request.GET
    ctx = {"nav_active": "oversight", **_form_ctx(), "themes": ThematicInspection.objects.all()[:100], "g": g,
           **_selected(g)}
    if request.method == "POST":
        p = request.POST
        try:
            th = svc.create_thematic(request.user, title=p.get("title", ""), title_en=p.get("title_en", ""),
                                     issue=p.get("issue", ""), broker_ids=p.getlist("brokers"), **_common(p))
        except svc.ServiceError as exc:
            return render(request, "oversight/thematic_list.html", ctx | {"error": str(exc)}, status=400)
        return redirect("oversight_thematic", th.pk)
    return render(request, "oversight/thematic_list.html", ctx)


@regulator_page
@require_safe
def thematic(request, pk):
    th = get_or_404(ThematicInspection.objects.all(), pk)
    return render(request, "oversight/thematic.html", {"nav_active": "oversight", **svc.comparison(th)})


@login_required
@require_http_methods(["GET", "POST"])
def deductions(request):
    """The exchange's deduction table, every version: read by everyone, a new version by a supervisor."""
    if request.method == "POST":
        p = request.POST
        try:
            svc.add_deduction_table(request.user, p.get("effective_from", ""),
                                    {s: p.get(f"points_{s}", "") for s in svc.SEVERITIES}, p.get("note", ""))
            messages.success(request, _("A new version of the deduction table was added."))
            return redirect("oversight_deductions")
        except svc.ServiceError as exc:
            messages.error(request, str(exc))
    tables = DeductionTable.objects.prefetch_related("entries")
    return render(request, "oversight/deductions.html", {
        "nav_active": "oversight", "tables": tables, "severities": DeductionRule.SEVERITIES,
        "in_force": DeductionTable.in_force(timezone.localdate()),
        "can_edit": request.user.role == Role.REGULATOR_SUPERVISOR})

