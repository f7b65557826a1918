"""The brokers pages (site administrators): the list, onboarding, editing (a dated version) and retiring."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from ccinspect.web.accounts.models import Organisation
from ccinspect.web.inspections.permissions import get_or_404
from ccinspect.web.inspections.services import catalog

from . import services as svc
from .forms import BrokerForm, format_capital


def _admin(request) -> None:
    if not svc.may_manage_brokers(request.user):
        raise PermissionDenied


def _duties():
    return [(d.id, d.name, d.name_en) for d in catalog().recurring.duties]


@login_required
@require_safe
def broker_list(request):
    _admin(request)
    q = "".join(ch for ch in (request.GET.get("q") or "") if ch.isprintable()).strip()  # PostgreSQL refuses NUL
    orgs = Organisation.objects.filter(kind=Organisation.BROKER)
    if q:
        orgs = orgs.filter(name__icontains=q) | orgs.filter(profile__broker_code=q.upper())
    rows = []
    for org in orgs.order_by("retired_at", "name"):
        s = svc.summary(org)
        prof = s["profile"] or {}
        rows.append({"org": org, "tier": s["tier"], "error": s.get("error", ""), "code": prof.get("broker_code"),
                     "capital": format_capital(prof.get("capital")), "as_of": prof.get("capital_as_of"),
                     "foreign": prof.get("foreign_branch"), "override": prof.get("tier_override")})
    return render(request, "brokers/list.html", {"rows": rows, "q": q, "nav_active": "brokers"})


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def broker_edit(request, pk=None):
    _admin(request)
    org = get_or_404(Organisation.objects.filter(kind=Organisation.BROKER), pk) if pk is not None else None
    history = svc.versions(org) if org is not None else []
    # a new broker starts from BrokerProfile's defaults (internet and traditional orders, brokerage, 12-31)
    initial = BrokerForm.initial_from(org.name if org else "", history[-1]["profile"] if history else
                                      svc.defaults())
    form = BrokerForm(request.POST or None, initial=initial, duties=_duties())
    if request.method == "POST" and form.is_valid():
        try:
            org = svc.save_broker(request.user, org=org, name=form.cleaned_data["name"], profile=form.profile_data(),
                                  effective_from=form.cleaned_data["effective_from"] or None,
                                  note=form.cleaned_data["note"])
        except svc.BrokerError as exc:
            form.add_broker_errors(exc)
        else:
            messages.success(request, _("The broker %(name)s is saved.") % {"name": org.name})
            return redirect("broker_edit", pk=org.pk)
    summary = svc.summary(org) if org is not None else None
    bools = [form[n] for n, k in form.kinds.items() if k == "bool"]
    others = [form[n] for n in form.fields if n not in {b.name for b in bools} and "." not in n
              and n not in ("effective_from", "note")]
    duties = [form[n] for n in form.fields if "." in n]
    for v in history:
        v["capital_shown"] = format_capital(v["profile"].get("capital"))
    return render(request, "brokers/edit.html", {
        "form": form, "org": org, "summary": summary, "history": list(reversed(history)), "bools": bools,
        "others": others, "duties": duties, "duties_open": any(f.value() for f in duties), "nav_active": "brokers"},
        status=400 if form.errors else 200)


@login_required
@require_POST
def broker_retire(request, pk):
    _admin(request)
    org = get_or_404(Organisation.objects.filter(kind=Organisation.BROKER), pk)
    try:
        svc.retire_broker(request.user, org, request.POST.get("reason", ""))
    except svc.BrokerError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The broker %(name)s is retired; its users are disabled.") % {"name": org.name})
    return redirect("broker_edit", pk=org.pk)
