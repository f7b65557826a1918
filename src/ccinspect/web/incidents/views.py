"""Incident register pages: the list with its clocks, recording, reports, findings and BCP follow-ups, XLSX."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from ccinspect.web.accounts.models import User
from ccinspect.web.continuity.services import system_choices
from ccinspect.web.inspections.models import ChecklistItem, DeductionRule, Inspection
from ccinspect.web.inspections.permissions import get_or_404
from ccinspect.web.pagination import paginate

from . import clocks as clk
from . import services as svc
from .export import register_xlsx
from .models import BcpFollowUp, Incident

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _form_data(post) -> dict:
    data = {f: post.get(f) for f in svc.FIELDS if f in post and f != "personal_data"}
    if "personal_data_form" in post:
        data["personal_data"] = post.getlist("personal_data")
    return data


def _filtered(request):
    """The incidents the filters select, newest first: a queryset, or a list for "overdue" (judged by the
    clocks in Python)."""
    qs = svc.incidents_for(request.user).prefetch_related("findings", "bcp_followups")
    state = request.GET.get("state", "")
    if state == "open":
        qs = qs.filter(closure_reported_at__isnull=True)
    if request.GET.get("broker") and request.user.sees_all_brokers:
        qs = qs.filter(organisation_id=request.GET["broker"]) if request.GET["broker"].isdigit() else qs.none()
    now = timezone.now()
    if state == "overdue":
        return [i for i in qs if i.overdue_clocks(now)], state, now
    return qs, state, now


@login_required
@require_safe
def incident_list(request):
    incidents, state, now = _filtered(request)
    page = paginate(request, incidents)  # a regulator's register spans every broker and year
    can_create = request.user.can_prepare and request.user.organisation_id is not None
    return render(request, "incidents/list.html", {
        "incidents": page.object_list, "page": page, "state": state, "now": now, "can_create": can_create,
        "minutes": clk.durations(), "show_broker": request.user.sees_all_brokers})


@login_required
@require_safe
def incident_export(request):
    incidents, _state, now = _filtered(request)
    resp = HttpResponse(register_xlsx(incidents, now), content_type=XLSX)
    resp["Content-Disposition"] = f'attachment; filename="incidents-{clk.taipei(now):%Y%m%d-%H%M}.xlsx"'
    return resp


def _own_org(request):
    if not (request.user.can_prepare and request.user.organisation_id):
        raise PermissionDenied(_("Only the broker's security officer or administrator records incidents."))
    return request.user.organisation


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def incident_new(request):
    org = _own_org(request)
    if request.method == "POST":
        try:
            inc = svc.create_incident(request.user, org, _form_data(request.POST))
        except svc.ServiceError as exc:
            messages.error(request, str(exc))
            return render(request, "incidents/new.html", _form_ctx(request, post=request.POST), status=400)
        messages.success(request, _("Incident recorded; the reporting clocks are running."))
        return redirect("incident", pk=inc.pk)
    return render(request, "incidents/new.html", _form_ctx(request))


def _form_ctx(request, post=None, inc=None) -> dict:
    now = clk.taipei(timezone.now())
    return {"categories": Incident.CATEGORIES, "pd_kinds": Incident.PERSONAL_DATA, "post": post or {},
            "pd_checked": post.getlist("personal_data") if post else (inc.personal_data if inc else []),
            "now_local": now.strftime("%Y-%m-%dT%H:%M"), "inc": inc, "minutes": clk.durations(),
            "core_systems": system_choices(inc.organisation if inc else request.user.organisation)}


def _local(value) -> str:
    return clk.taipei(value).strftime("%Y-%m-%dT%H:%M") if value else ""


@login_required
@require_safe
def incident_detail(request, pk):
    inc = get_or_404(svc.incidents_for(request.user), pk)
    mine = request.user.organisation_id == inc.organisation_id and request.user.can_prepare
    items = []
    if mine:
        items = list(ChecklistItem.objects.filter(
            inspection__organisation_id=inc.organisation_id, inspection__status=Inspection.IN_PROGRESS,
            assessable=True).select_related("inspection").order_by("inspection__period_end", "order"))
    now = timezone.now()
    return render(request, "incidents/detail.html", _form_ctx(request, inc=inc) | {
        "inc": inc, "now": now, "clocks": inc.clocks(), "can_edit": mine, "items": items,
        "severities": DeductionRule.SEVERITIES, "followups": inc.bcp_followups.select_related("owner"),
        "findings": inc.findings.all(), "users": User.objects.filter(organisation_id=inc.organisation_id,
                                                                     is_active=True),
        "stages": [c.stage for c in inc.clocks() if c.done_at is None], "stage_labels": _stage_labels(),
        "local": {f: _local(getattr(inc, f)) for f in ("detected_at", "outage_started_at", "service_restored_at")},
        "due": timezone.localdate() + timezone.timedelta(days=30)})


def _stage_labels():
    from .templatetags.incidents import STAGE_LABELS

    return STAGE_LABELS


@login_required
@require_POST
def incident_action(request, pk, action):
    inc = get_or_404(svc.incidents_for(request.user), pk)
    p = request.POST
    try:
        if action == "update":
            svc.update_incident(request.user, inc, _form_data(p))
            messages.success(request, _("Saved."))
        elif action == "report":
            svc.record_report(request.user, inc, p.get("stage", ""), p.get("at") or None)
            messages.success(request, _("Report recorded."))
        elif action == "finding":
            item = get_or_404(ChecklistItem.objects.filter(inspection__organisation_id=inc.organisation_id),
                              p.get("item"))
            f = svc.raise_finding(request.user, inc, item, title=p.get("title", ""), severity=p.get("severity", ""),
                                  due_date=p.get("due_date", ""), remediation_plan=p.get("remediation_plan", ""))
            messages.success(request, _("Finding F-%(n)d raised from the incident.") % {"n": f.pk})
        elif action == "bcp":
            svc.add_followup(request.user, inc, action=p.get("action", ""), due_date=p.get("due_date", ""),
                             owner_id=p.get("owner") or None)
            messages.success(request, _("BCP follow-up added."))
        elif action == "bcp_done":
            fu = get_or_404(BcpFollowUp.objects.filter(incident=inc), p.get("followup"))
            svc.complete_followup(request.user, fu, p.get("note", ""))
            messages.success(request, _("BCP follow-up done."))
        else:
            raise svc.ServiceError(f"unknown action {action}")
    except svc.ServiceError as exc:
        messages.error(request, str(exc))
    return redirect("incident", pk=inc.pk)
