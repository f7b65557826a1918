"""Pages: the records (a broker's own), cases and their decisions, the gateway settings, the templates with
a preview; for the regulator and the site admin, counts per broker only."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from ccinspect.notification import message as msg
from ccinspect.web.accounts.models import Organisation
from ccinspect.web.incidents.models import Incident
from ccinspect.web.inspections.models import Inspection
from ccinspect.web.inspections.permissions import get_or_404
from ccinspect.web.pagination import paginate

from . import services as svc
from .models import Case, Gateway, MessageTemplate
from .permissions import cases_for, notifications_for


def _period(request):
    from ccinspect.core.dates import DateParseError, parse_date

    out = []
    for k in ("from", "to"):
        v = request.GET.get(k, "").strip()
        try:
            out.append(parse_date(v) if v else None)
        except DateParseError:
            out.append(None)
    return out


@login_required
@require_safe
def overview(request):
    start, end = _period(request)
    if request.user.organisation_id is None or request.user.sees_all_brokers:
        brokers = Organisation.objects.filter(kind=Organisation.BROKER).order_by("name")
        rows = [(b, svc.figures([b.pk], start, end)) for b in brokers]
        return render(request, "notification/counts.html", {"rows": rows, "start": start, "end": end})
    org = request.user.organisation
    qs = notifications_for(request.user).select_related("case")
    if start:
        qs = qs.filter(detected_at__date__gte=start)
    if end:
        qs = qs.filter(detected_at__date__lte=end)
    status = request.GET.get("status", "")
    if status in {"queued", "sent", "failed", "answered"}:
        qs = qs.filter(status=status)
    page = paginate(request, qs)
    inspections = []
    if request.user.can_prepare:
        inspections = [i for i in Inspection.objects.filter(organisation=org, status=Inspection.IN_PROGRESS)
                       if svc.point16_items(i)[0]]
    return render(request, "notification/overview.html", {
        "page": page, "notifications": page.object_list, "figures": svc.figures([org.pk], start, end),
        "start": start, "end": end, "status": status, "gateway": Gateway.objects.filter(organisation=org).first(),
        "inspections": inspections, "can_edit": request.user.can_prepare})


@login_required
@require_safe
def notification_detail(request, pk):
    n = get_or_404(notifications_for(request.user), pk)
    return render(request, "notification/detail.html", {
        "n": n, "attempts": n.attempts.all(), "case": Case.objects.filter(notification=n).first()})


@login_required
@require_safe
def case_list(request):
    if request.user.organisation_id is None or request.user.sees_all_brokers:
        return overview(request)  # counts per broker only
    qs = cases_for(request.user).select_related("notification", "incident")
    st = request.GET.get("status", "")
    if st in dict(Case.STATUSES):
        qs = qs.filter(status=st)
    page = paginate(request, qs)
    return render(request, "notification/cases.html", {"page": page, "cases": page.object_list, "status": st})


@login_required
@require_safe
def case_detail(request, pk):
    case = get_or_404(cases_for(request.user).select_related("notification", "incident"), pk)
    return render(request, "notification/case.html", {
        "case": case, "n": case.notification, "can_edit": request.user.can_prepare,
        "pd_kinds": Incident.PERSONAL_DATA})


@login_required
@require_POST
def case_action(request, pk, action):
    if not request.user.can_prepare:
        raise PermissionDenied(_("Only the broker's security officer or administrator changes this."))
    case = get_or_404(cases_for(request.user), pk)
    try:
        if action == "escalate":
            inc = svc.escalate(request.user, case, title=request.POST.get("title", ""),
                               personal_data=request.POST.getlist("personal_data"))
            messages.success(request, _("Escalated to the incident register; its clocks run from the detection time."))
            return redirect("incident", pk=inc.pk)
        if action == "close":
            svc.close_case(request.user, case, request.POST.get("note", ""))
            messages.success(request, _("Case closed as not reportable."))
        elif action == "lock-done":
            svc.lock_reset_done(request.user, case)
            messages.success(request, _("Lock-and-reset recorded."))
        else:
            raise PermissionDenied
    except svc.ServiceError as exc:
        messages.error(request, str(exc))
    return redirect("notification_case", pk=case.pk)


def _own_org(request):
    if not (request.user.can_prepare and request.user.organisation_id):
        raise PermissionDenied(_("Only the broker's security officer or administrator changes this."))
    return request.user.organisation


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def gateway_settings(request):
    org = _own_org(request)
    gw = Gateway.objects.filter(organisation=org).first()
    secret = None
    if request.method == "POST":
        try:
            gw, secret = svc.save_gateway(request.user, org, request.POST.dict())
            messages.success(request, _("Saved."))
        except svc.ServiceError as exc:
            messages.error(request, str(exc))
            return render(request, "notification/settings.html", {"gw": gw, "post": request.POST,
                                                                  "channels": Gateway.CHANNELS}, status=400)
    return render(request, "notification/settings.html", {"gw": gw, "secret": secret, "channels": Gateway.CHANNELS,
                                                          "post": {}})


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def templates(request):
    org = _own_org(request)
    kind = request.GET.get("kind") or request.POST.get("kind") or MessageTemplate.NOTIFICATION
    lang = request.GET.get("language") or request.POST.get("language") or "zh-hant"
    if kind not in dict(MessageTemplate.KINDS) or lang not in msg.LANGUAGES:
        kind, lang = MessageTemplate.NOTIFICATION, "zh-hant"
    subject, body, allow_links, _tid = svc.template_for(org, kind, lang)
    status, problem = 200, ""
    if request.method == "POST":
        subject, body = request.POST.get("subject", ""), request.POST.get("body", "")
        allow_links = request.POST.get("allow_links") == "on"
        try:
            if request.POST.get("action") == "save":
                svc.save_template(request.user, org, kind, lang, subject, body, allow_links)
                messages.success(request, _("Template saved."))
            else:
                msg.check(subject, body, allow_links=allow_links)
        except (svc.ServiceError, msg.TemplateError) as exc:
            problem, status = str(exc), 400
    return render(request, "notification/templates.html", {
        "kind": kind, "language": lang, "subject": subject, "body": body, "allow_links": allow_links,
        "preview": svc.preview(subject, body, lang), "problem": problem, "kinds": MessageTemplate.KINDS,
        "languages": [("zh-hant", "繁體中文"), ("en", "English")], "placeholders": msg.PLACEHOLDERS},
        status=status)


@login_required
@require_POST
def point16(request, insp_pk):
    org = _own_org(request)
    insp = get_or_404(Inspection.objects.filter(organisation=org), insp_pk)
    try:
        out = svc.attach_to_inspection(request.user, insp, base_url="")
        messages.success(request, _("Attached to %(n)d checklist item(s): %(status)s.")
                         % {"n": len(out["attached"]), "status": out["status"]})
    except svc.ServiceError as exc:
        messages.error(request, str(exc))
        return redirect("notification")
    return redirect("inspection", pk=insp.pk)
