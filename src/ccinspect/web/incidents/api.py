"""/api/incidents: the register over the API, with the same permissions as the pages (a broker's users see
their own incidents; the regulator and the site admin read every broker's; only the broker's security officer
or administrator records)."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied
from django.utils import timezone
from ninja import Router, Schema, Status

from ccinspect.web.inspections.models import ChecklistItem
from ccinspect.web.inspections.permissions import get_or_404

from . import clocks as clk
from . import services as svc
from .models import Incident

router = Router(tags=["incidents"])


class ClockOut(Schema):
    stage: str
    deadline: dt.datetime
    reported_at: dt.datetime | None
    state: str
    seconds_left: int


class IncidentOut(Schema):
    id: int
    code: str
    broker_id: int
    title: str
    category: str
    description: str
    detected_at: dt.datetime
    systems_affected: str
    customers_affected: int
    estimated_amount: int
    personal_data: list[str]
    twse_report_required: bool
    outage_started_at: dt.datetime | None
    service_restored_at: dt.datetime | None
    interruption_minutes: int | None
    tolerable_minutes: int | None
    rto_minutes: int | None
    core_system: str
    exceeds_tolerable: bool
    clocks: list[ClockOut]
    finding_ids: list[int]


class IncidentIn(Schema):
    title: str
    category: str
    detected_at: str
    description: str = ""
    systems_affected: str = ""
    customers_affected: int = 0
    estimated_amount: int = 0
    personal_data: list[str] = []
    outage_started_at: str | None = None
    service_restored_at: str | None = None
    tolerable_minutes: int | None = None
    rto_minutes: int | None = None
    core_system: str = ""


class IncidentPatch(Schema):
    title: str | None = None
    category: str | None = None
    detected_at: str | None = None
    description: str | None = None
    systems_affected: str | None = None
    customers_affected: int | None = None
    estimated_amount: int | None = None
    personal_data: list[str] | None = None
    outage_started_at: str | None = None
    service_restored_at: str | None = None
    tolerable_minutes: int | None = None
    rto_minutes: int | None = None
    core_system: str | None = None


class ReportIn(Schema):
    stage: str
    at: str | None = None


class FindingFromIncidentIn(Schema):
    item_id: int
    title: str
    severity: str
    due_date: dt.date
    remediation_plan: str = ""


class FollowUpIn(Schema):
    action: str
    due_date: dt.date
    owner_id: int | None = None


def out(inc: Incident) -> dict:
    now = timezone.now()
    return {
        "id": inc.pk, "code": inc.code, "broker_id": inc.organisation_id, "title": inc.title,
        "category": inc.category, "description": inc.description, "detected_at": clk.taipei(inc.detected_at),
        "systems_affected": inc.systems_affected, "customers_affected": inc.customers_affected,
        "estimated_amount": int(inc.estimated_amount), "personal_data": inc.personal_data,
        "twse_report_required": inc.personal_data_incident,
        "outage_started_at": clk.taipei(inc.outage_started_at),
        "service_restored_at": clk.taipei(inc.service_restored_at), "interruption_minutes": inc.interruption_minutes,
        "tolerable_minutes": inc.tolerable_minutes, "rto_minutes": inc.rto_minutes, "core_system": inc.core_system,
        "exceeds_tolerable": inc.interruption_exceeds_tolerable or inc.rto_exceeds_tolerable,
        "clocks": [{"stage": c.stage, "deadline": c.deadline_local, "reported_at": clk.taipei(c.done_at),
                    "state": c.state(now), "seconds_left": int(c.remaining(now).total_seconds())}
                   for c in inc.clocks()],
        "finding_ids": list(inc.findings.values_list("pk", flat=True)),
    }


def _get(request, incident_id: int) -> Incident:
    return get_or_404(svc.incidents_for(request.auth), incident_id)


@router.get("", response=list[IncidentOut])
def incidents(request, open_only: bool = False):
    qs = svc.incidents_for(request.auth)
    if open_only:
        qs = qs.filter(closure_reported_at__isnull=True)
    return [out(i) for i in qs]


@router.post("", response={201: IncidentOut})
def incident_create(request, body: IncidentIn):
    user = request.auth
    if user.organisation_id is None or not user.can_prepare:
        raise PermissionDenied("only the broker's security officer or administrator records incidents")
    return Status(201, out(svc.create_incident(user, user.organisation, body.dict())))


@router.get("/{incident_id}", response=IncidentOut)
def incident(request, incident_id: int):
    return out(_get(request, incident_id))


@router.patch("/{incident_id}", response=IncidentOut)
def incident_update(request, incident_id: int, body: IncidentPatch):
    data = body.dict(exclude_unset=True)
    return out(svc.update_incident(request.auth, _get(request, incident_id), data))


@router.post("/{incident_id}/report", response=IncidentOut)
def incident_report(request, incident_id: int, body: ReportIn):
    return out(svc.record_report(request.auth, _get(request, incident_id), body.stage, body.at))


@router.post("/{incident_id}/findings", response={201: dict})
def incident_finding(request, incident_id: int, body: FindingFromIncidentIn):
    inc = _get(request, incident_id)
    item = get_or_404(ChecklistItem.objects.filter(inspection__organisation_id=inc.organisation_id), body.item_id)
    f = svc.raise_finding(request.auth, inc, item, title=body.title, severity=body.severity, due_date=body.due_date,
                          remediation_plan=body.remediation_plan)
    return Status(201, {"finding_id": f.pk, "incident_id": inc.pk})


@router.post("/{incident_id}/bcp", response={201: dict})
def incident_bcp(request, incident_id: int, body: FollowUpIn):
    fu = svc.add_followup(request.auth, _get(request, incident_id), action=body.action, due_date=body.due_date,
                          owner_id=body.owner_id)
    return Status(201, {"followup_id": fu.pk, "incident_id": fu.incident_id})
