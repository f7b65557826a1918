"""Inspection pages: list, plan from the calendar, the checklist (htmx per item), evidence, findings."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Prefetch
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from ccinspect.web.accounts.models import Role, User
from ccinspect.web.pagination import paginate

from . import services as svc
from .evidence import UploadError, path_of
from .models import ChecklistItem, DeductionRule, Evidence, Finding, Inspection
from .permissions import (
    brokers_for,
    evidence_for,
    findings_for,
    get_or_404,
    inspections_for,
)


def _broker(request):
    brokers = brokers_for(request.user)
    want = request.GET.get("broker") or request.POST.get("broker")
    if want:
        return get_or_404(brokers, want)
    if request.user.organisation_id and brokers.filter(pk=request.user.organisation_id).exists():
        return brokers.get(pk=request.user.organisation_id)
    return brokers.first()


@login_required
@require_safe
def inspection_list(request):
    qs = inspections_for(request.user).order_by("-period_end", "unit", "id")  # a total order: stable pages
    if request.GET.get("broker"):
        qs = qs.filter(organisation_id=_broker(request).pk)
    return render(request, "inspections/list.html", {"page": paginate(request, qs)})


@login_required
@require_safe
def plan(request):
    org = _broker(request)
    if org is None:
        return render(request, "inspections/plan.html", {"org": None})
    try:
        year = int(request.GET.get("year") or timezone.localdate().year)
    except ValueError:
        year = timezone.localdate().year
    occs = svc.calendar_for(org, dt.date(year, 1, 1), dt.date(year, 12, 31))
    existing = dict(inspections_for(request.user).filter(organisation=org).values_list("occurrence_id", "pk"))
    can_inspect = svc.inspectable(org, occs)
    rows = [{"occ": o, "inspection_id": existing.get(o.id), "applies": o.id in can_inspect} for o in occs]
    return render(request, "inspections/plan.html", {"org": org, "rows": rows, "year": year,
                                                     "can_create": request.user.organisation_id == org.pk
                                                     and request.user.can_prepare})


@login_required
@require_POST
def create(request):
    org = _broker(request)
    if org is None:
        raise PermissionDenied
    try:
        insp = svc.create_inspection(request.user, org, request.POST.get("occurrence", ""))
    except svc.ServiceError as exc:
        messages.error(request, str(exc))
        return redirect(f"/inspections/plan/?broker={org.pk}")
    return redirect("inspection", pk=insp.pk)


def _with_files(items):
    """Checklist items with their evidence (and who uploaded it) and findings: one query per relation."""
    return items.prefetch_related(Prefetch("evidence", queryset=Evidence.objects.select_related("uploaded_by")),
                                  "findings")


def _item_ctx(request, item):
    item = _with_files(ChecklistItem.objects.select_related("inspection__organisation")).get(pk=item.pk)
    insp = item.inspection
    return {"item": item, "insp": insp,
            "can_edit": insp.editable and request.user.organisation_id == insp.organisation_id
            and request.user.can_prepare, "results": ChecklistItem.RESULTS, **_upload_limits()}


def _upload_limits() -> dict:
    """The evidence size limit and its message, for the page to stop an over-large file before sending it."""
    from django.conf import settings

    from .uploads import refuse_message

    return {"max_upload": settings.EVIDENCE_MAX_BYTES, "too_large": refuse_message()}


@login_required
@require_safe
def detail(request, pk):
    insp = get_or_404(inspections_for(request.user).select_related("signed_off_by"), pk)
    # one query per relation, whatever the number of items and files
    items = list(_with_files(insp.items.all()))
    counts = {k: 0 for k, _label in ChecklistItem.RESULTS}
    for i in items:
        if i.assessable:
            counts[i.result] += 1
    can_edit = insp.editable and request.user.organisation_id == insp.organisation_id and request.user.can_prepare
    return render(request, "inspections/detail.html", {
        "insp": insp, "items": items, "can_edit": can_edit, "results": ChecklistItem.RESULTS,
        "counts": counts,
        "can_review": insp.status == Inspection.SUBMITTED and request.user.organisation_id == insp.organisation_id
        and request.user.can_review, **_upload_limits(),
    })


def _item(request, pk, item_pk):
    insp = get_or_404(inspections_for(request.user), pk)
    return get_or_404(insp.items.select_related("inspection"), item_pk)


@login_required
@require_POST
def item_update(request, pk, item_pk):
    item = _item(request, pk, item_pk)
    error = ""
    try:
        item = svc.set_item_result(request.user, item, request.POST.get("result", ""),
                                   notes=request.POST.get("notes"), na_reason=request.POST.get("na_reason", ""))
    except svc.ServiceError as exc:
        error = str(exc)
    ctx = _item_ctx(request, item) | {"error": error}
    if request.headers.get("HX-Request"):
        return render(request, "inspections/_item.html", ctx, status=200)
    if error:
        messages.error(request, error)
    return redirect(f"/inspections/{pk}/#item-{item.pk}")


@login_required
@require_POST
def item_evidence(request, pk, item_pk):
    item = _item(request, pk, item_pk)
    upload = request.FILES.get("file")
    error = ""
    if upload is None:
        error = _("Choose a file to upload.")
    else:
        supersedes = None
        if request.POST.get("supersedes"):
            supersedes = get_or_404(evidence_for(request.user), request.POST["supersedes"])
        try:
            from .evidence import read_upload

            data = read_upload(upload)
            svc.add_evidence(request.user, item, name=upload.name, data=data, note=request.POST.get("note", ""),
                             supersedes=supersedes)
        except (UploadError, svc.ServiceError) as exc:
            error = str(exc)
    ctx = _item_ctx(request, item) | {"error": error}
    if request.headers.get("HX-Request"):
        return render(request, "inspections/_item.html", ctx)
    if error:
        messages.error(request, error)
        return redirect(f"/inspections/{pk}/#item-{item.pk}")
    return redirect(f"/inspections/{pk}/#item-{item.pk}")


@login_required
@require_POST
def import_view(request, pk):
    insp = get_or_404(inspections_for(request.user), pk)
    upload = request.FILES.get("file")
    try:
        if upload is None:
            raise svc.ServiceError(_("Choose a results file (JSON)."))
        from .evidence import read_upload

        out = svc.import_results(request.user, insp, read_upload(upload), source=upload.name)
        messages.success(request, _("%(n)d automated results attached, %(s)d outside this inspection.")
                         % {"n": len(out["attached"]), "s": len(out["skipped"])})
    except (svc.ServiceError, UploadError) as exc:
        messages.error(request, str(exc))
    return redirect("inspection", pk=insp.pk)


@login_required
@require_POST
def workflow(request, pk, action):
    insp = get_or_404(inspections_for(request.user), pk)
    try:
        if action == "submit":
            svc.submit(request.user, insp)
        elif action == "signoff":
            svc.sign_off(request.user, insp, request.POST.get("note", ""))
        elif action == "return":
            svc.return_for_rework(request.user, insp, request.POST.get("note", ""))
        else:
            raise svc.ServiceError(f"unknown action {action}")
    except svc.ServiceError as exc:
        messages.error(request, str(exc))
    return redirect("inspection", pk=insp.pk)


@login_required
@require_safe
def evidence_download(request, pk):
    e = get_or_404(evidence_for(request.user), pk)
    resp = FileResponse(open(path_of(e), "rb"), as_attachment=True, filename=e.original_name,
                        content_type=e.content_type)
    resp["X-Content-Type-Options"] = "nosniff"
    resp["Content-Security-Policy"] = "sandbox"
    resp.audit_object, resp.audit_organisation_id = e, e.organisation_id  # the broker sees who downloaded it
    return resp


# ---- findings -------------------------------------------------------------------------------------------

@login_required
@require_safe
def finding_list(request):
    qs = findings_for(request.user)
    status = request.GET.get("status")
    if status == "open":
        qs = qs.exclude(status=Finding.CLOSED)
    elif status == "overdue":
        qs = qs.exclude(status=Finding.CLOSED).filter(due_date__lt=timezone.localdate())
    elif status in {k for k, _l in Finding.STATUSES}:
        qs = qs.filter(status=status)
    if request.GET.get("broker"):
        qs = qs.filter(organisation_id=_broker(request).pk)
    return render(request, "inspections/findings.html", {"page": paginate(request, qs), "status": status or ""})


@login_required
@require_POST
def finding_create(request, pk, item_pk):
    item = _item(request, pk, item_pk)
    p = request.POST
    try:
        f = svc.raise_finding(request.user, item, title=p.get("title", ""), severity=p.get("severity", ""),
                              due_date=p.get("due_date", ""), description=p.get("description", ""),
                              owner_id=p.get("owner") or None, remediation_plan=p.get("remediation_plan", ""))
    except svc.ServiceError as exc:
        messages.error(request, str(exc))
        return redirect(f"/inspections/{pk}/#item-{item.pk}")
    messages.success(request, _("Finding raised."))
    return redirect("finding", pk=f.pk)


@login_required
@require_safe
def finding_new(request, pk, item_pk):
    item = _item(request, pk, item_pk)
    users = User.objects.filter(organisation_id=item.inspection.organisation_id, is_active=True)
    due = timezone.localdate() + dt.timedelta(days=30)
    return render(request, "inspections/finding_new.html", {
        "item": item, "insp": item.inspection, "users": users, "severities": DeductionRule.SEVERITIES,
        "due": due, "table": DeductionRule.objects.all()})


@login_required
@require_safe
def finding_detail(request, pk):
    f = get_or_404(findings_for(request.user), pk)
    mine = request.user.organisation_id == f.organisation_id
    return render(request, "inspections/finding.html", {
        "f": f, "events": f.events.select_related("actor"), "evidence": f.evidence.select_related("uploaded_by"),
        "users": User.objects.filter(organisation_id=f.organisation_id, is_active=True),
        "severities": DeductionRule.SEVERITIES,
        "can_edit": mine and request.user.can_prepare and f.status != Finding.CLOSED,
        "can_review": f.status == Finding.READY and (request.user.is_regulator if f.from_regulator
                                                     else mine and request.user.can_review),
        "Finding": Finding,
    })


@login_required
@require_POST
def finding_action(request, pk, action):
    f = get_or_404(findings_for(request.user), pk)
    p = request.POST
    try:
        if action == "update":
            svc.update_finding(request.user, f, remediation_plan=p.get("remediation_plan"),
                               owner_id=p.get("owner", None), due_date=p.get("due_date"), severity=p.get("severity"))
        elif action == "retest":
            upload = request.FILES.get("file")
            if upload is None:
                raise svc.ServiceError(_("Choose a file to upload."))
            from .evidence import read_upload

            svc.add_retest_evidence(request.user, f, name=upload.name, data=read_upload(upload),
                                    note=p.get("note", ""))
        elif action == "transition":
            svc.transition(request.user, f, p.get("to", ""), p.get("note", ""))
        else:
            raise svc.ServiceError(f"unknown action {action}")
    except (svc.ServiceError, UploadError) as exc:
        messages.error(request, str(exc))
    return redirect("finding", pk=f.pk)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def deductions(request):
    if request.method == "POST":
        if request.user.role != Role.SITE_ADMIN:
            raise PermissionDenied
        from ccinspect.web.accounts import audit

        try:
            with audit.acting_as(request.user), transaction.atomic():
                for rule in DeductionRule.objects.all():
                    raw = request.POST.get(f"points_{rule.severity}")
                    if raw not in (None, ""):
                        from decimal import Decimal, InvalidOperation

                        try:
                            value = Decimal(raw)
                        except InvalidOperation:
                            raise svc.ServiceError(f"{raw!r} is not a number") from None
                        if value < 0:
                            raise svc.ServiceError("points cannot be negative")
                        if value != rule.points:
                            rule.points = value
                            rule.save()
        except svc.ServiceError as exc:
            messages.error(request, str(exc))
        return redirect("deductions")
    return render(request, "inspections/deductions.html", {"rules": DeductionRule.objects.all(),
                                                           "editable": request.user.role == Role.SITE_ADMIN})


@require_safe
def healthz(request):
    return HttpResponse("ok", content_type="text/plain")
