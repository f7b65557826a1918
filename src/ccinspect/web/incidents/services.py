"""The incident register as functions (pages, API and CLI call these). Each checks permissions, validates
and writes in one transaction: bad input raises ServiceError with a message, and nothing is half-written.
Every create and update goes to the audit trail (the models are tracked; links are recorded explicitly)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone

from ccinspect.web.accounts import audit
from ccinspect.web.inspections import services as isvc
from ccinspect.web.inspections.models import ChecklistItem, Finding
from ccinspect.web.inspections.permissions import require_preparer, scoped
from ccinspect.web.inspections.services import ServiceError

from . import clocks as clk
from .models import BcpFollowUp, Incident

CATEGORY_VALUES = {k for k, _l in Incident.CATEGORIES}
PD_VALUES = [k for k, _l in Incident.PERSONAL_DATA]
FUTURE_SLACK = dt.timedelta(minutes=5)


def incidents_for(user):
    return scoped(Incident.objects.select_related("organisation"), user)


def parse_when(value, field: str) -> dt.datetime | None:
    """ISO date-time; without an offset it is Taipei time. '' and None are None."""
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return clk.aware(value)
    try:
        return clk.aware(dt.datetime.fromisoformat(str(value).strip()))
    except ValueError:
        raise ServiceError(f"{field}: {value!r} is not a date and time (YYYY-MM-DD HH:MM, Taipei time)") from None


def _int(value, field: str, *, allow_none: bool = True) -> int | None:
    if value in (None, ""):
        if allow_none:
            return None
        raise ServiceError(f"{field} is required")
    try:
        n = int(str(value).strip())
    except ValueError:
        raise ServiceError(f"{field}: {value!r} is not a whole number") from None
    if n < 0:
        raise ServiceError(f"{field} cannot be negative")
    return n


def _amount(value) -> Decimal:
    if value in (None, ""):
        return Decimal(0)
    try:
        d = Decimal(str(value).replace(",", "").strip())
    except InvalidOperation:
        raise ServiceError(f"estimated amount: {value!r} is not a number") from None
    if d < 0 or not d.is_finite():
        raise ServiceError("estimated amount cannot be negative")
    return d.quantize(Decimal(1))


def _personal_data(value) -> list[str]:
    if value in (None, "", []):
        return []
    items = [value] if isinstance(value, str) else list(value)
    bad = [v for v in items if v not in PD_VALUES]
    if bad:
        raise ServiceError(f"personal data: {', '.join(map(str, bad))} is not one of {', '.join(PD_VALUES)}")
    return [v for v in PD_VALUES if v in items]


FIELDS = ("title", "category", "description", "detected_at", "systems_affected", "customers_affected",
          "estimated_amount", "personal_data", "outage_started_at", "service_restored_at", "tolerable_minutes",
          "rto_minutes", "core_system")


def _clean(data: dict, *, now: dt.datetime, current: Incident | None = None) -> dict:
    unknown = set(data) - set(FIELDS)
    if unknown:
        raise ServiceError(f"unknown field(s): {', '.join(sorted(unknown))}")
    out: dict = {}
    if "title" in data or current is None:
        out["title"] = str(data.get("title") or "").strip()
        if not out["title"]:
            raise ServiceError("an incident needs a title")
    if "category" in data or current is None:
        out["category"] = str(data.get("category") or "")
        if out["category"] not in CATEGORY_VALUES:
            raise ServiceError(f"category {out['category']!r} is not one of {', '.join(sorted(CATEGORY_VALUES))}")
    for f in ("description", "systems_affected", "core_system"):
        if f in data:
            out[f] = str(data[f] or "")
    if "detected_at" in data or current is None:
        out["detected_at"] = parse_when(data.get("detected_at"), "detected at")
        if out["detected_at"] is None:
            raise ServiceError("detected at is required")
    for f in ("outage_started_at", "service_restored_at"):
        if f in data:
            out[f] = parse_when(data[f], f.replace("_", " "))
    if "customers_affected" in data:
        out["customers_affected"] = _int(data["customers_affected"], "customers affected") or 0
    for f in ("tolerable_minutes", "rto_minutes"):
        if f in data:
            out[f] = _int(data[f], f.replace("_", " "))
    if "estimated_amount" in data:
        out["estimated_amount"] = _amount(data["estimated_amount"])
    if "personal_data" in data:
        out["personal_data"] = _personal_data(data["personal_data"])

    def val(f):
        return out[f] if f in out else getattr(current, f, None)

    detected = val("detected_at")
    if detected and detected > now + FUTURE_SLACK:
        raise ServiceError("detected at lies in the future")
    start, restored = val("outage_started_at"), val("service_restored_at")
    if restored and not start:
        raise ServiceError("give the time the outage started as well as when service was restored")
    if start and restored and restored < start:
        raise ServiceError("service was restored before the outage started")
    if restored and restored > now + FUTURE_SLACK:
        raise ServiceError("service restored lies in the future")
    for stage in clk.STAGES:
        at = getattr(current, f"{stage}_reported_at", None) if current else None
        if at and detected and at < detected:
            raise ServiceError(f"the {stage} report ({clk.taipei(at):%Y-%m-%d %H:%M}) would precede detection")
    return out


def _from_register(org_id: int, fields: dict, data: dict) -> None:
    """An incident naming a core system of the continuity register: the system must be on the register, and
    its latest business impact analysis gives the RTO and tolerable interruption time not entered by hand."""
    if not fields.get("core_system"):
        return
    from ccinspect.web.continuity.models import CoreSystem
    from ccinspect.web.continuity.services import latest_bia

    system = CoreSystem.objects.filter(organisation_id=org_id, code=fields["core_system"]).first()
    if system is None:
        raise ServiceError(f"core system {fields['core_system']!r} is not on the continuity register")
    bia = latest_bia(system.organisation, fields["core_system"])
    if bia is not None:
        for f in ("rto_minutes", "tolerable_minutes"):
            if data.get(f) in (None, ""):
                fields[f] = round(getattr(bia, f))


@transaction.atomic
def create_incident(user, org, data: dict) -> Incident:
    require_preparer(user, org.pk)
    now = timezone.now()
    fields = _clean(data, now=now)
    _from_register(org.pk, fields, data)
    minutes = clk.durations()
    with audit.acting_as(user):
        return Incident.objects.create(
            organisation=org, created_by=user, initial_minutes=minutes["initial"],
            formal_minutes=minutes["formal"], closure_minutes=minutes["closure"], twse_minutes=minutes["twse"],
            **fields)


@transaction.atomic
def update_incident(user, inc: Incident, data: dict) -> Incident:
    require_preparer(user, inc.organisation_id)
    inc = Incident.objects.select_for_update().get(pk=inc.pk)
    fields = _clean(data, now=timezone.now(), current=inc)
    _from_register(inc.organisation_id, fields, data)
    if inc.twse_reported_at and "personal_data" in fields and not fields["personal_data"]:
        raise ServiceError("the TWSE report has been recorded; the personal data involved cannot be cleared")
    with audit.acting_as(user):
        for k, v in fields.items():
            setattr(inc, k, v)
        inc.save()
    return inc


@transaction.atomic
def record_report(user, inc: Incident, stage: str, at=None) -> Incident:
    """Record that a report was made (initial, formal, closure, twse), at `at` (default: now)."""
    require_preparer(user, inc.organisation_id)
    if stage not in clk.STAGES:
        raise ServiceError(f"unknown report {stage!r}; use one of {', '.join(clk.STAGES)}")
    inc = Incident.objects.select_for_update().get(pk=inc.pk)
    now = timezone.now()
    when = parse_when(at, "reported at") or now
    if stage == "twse" and not inc.personal_data_incident:
        raise ServiceError("the immediate report to TWSE (CC-20000.6) is for incidents involving personal data")
    if getattr(inc, f"{stage}_reported_at"):
        raise ServiceError(f"the {stage} report is already recorded")
    if when < inc.detected_at:
        raise ServiceError("a report cannot precede the detection of the incident")
    if when > now + FUTURE_SLACK:
        raise ServiceError("the report time lies in the future")
    order = ["initial", "formal", "closure"]
    if stage in order:
        for before in order[:order.index(stage)]:
            prev = getattr(inc, f"{before}_reported_at")
            if prev is None:
                raise ServiceError(f"record the {before} report first")
            if when < prev:
                raise ServiceError(f"the {stage} report cannot precede the {before} report")
    with audit.acting_as(user):
        setattr(inc, f"{stage}_reported_at", when)
        inc.save()
    return inc


@transaction.atomic
def raise_finding(user, inc: Incident, item: ChecklistItem, *, title: str, severity: str, due_date,
                  remediation_plan: str = "") -> Finding:
    """A finding from an incident, on a checklist item of one of the broker's inspections in progress (the item
    is marked deficient if it is not already)."""
    require_preparer(user, inc.organisation_id)
    item = ChecklistItem.objects.select_related("inspection").get(pk=item.pk)
    if item.inspection.organisation_id != inc.organisation_id:
        raise ServiceError("the checklist item belongs to another broker")
    if not item.inspection.editable:
        raise ServiceError("choose an item of an inspection in progress")
    if item.result != ChecklistItem.DEFICIENT:
        note = (item.notes + "\n" if item.notes else "") + f"{inc.code}: {inc.title}"
        item = isvc.set_item_result(user, item, ChecklistItem.DEFICIENT, notes=note)
    f = isvc.raise_finding(user, item, title=title, severity=severity, due_date=due_date,
                           description=f"{inc.code} {inc.title}", remediation_plan=remediation_plan)
    inc.findings.add(f)
    audit.record("update", inc, changes={"findings": [None, f"F-{f.pk}"]}, actor=user)
    return f


@transaction.atomic
def add_followup(user, inc: Incident, *, action: str, due_date, owner_id=None) -> BcpFollowUp:
    require_preparer(user, inc.organisation_id)
    if not (action or "").strip():
        raise ServiceError("say what the BCP follow-up is")
    due = isvc._parse_due(due_date)
    owner = isvc._owner(inc.organisation_id, owner_id)
    with audit.acting_as(user):
        return BcpFollowUp.objects.create(incident=inc, organisation_id=inc.organisation_id, action=action.strip(),
                                          owner=owner, due_date=due, created_by=user)


@transaction.atomic
def complete_followup(user, fu: BcpFollowUp, note: str = "") -> BcpFollowUp:
    require_preparer(user, fu.organisation_id)
    fu = BcpFollowUp.objects.select_for_update().get(pk=fu.pk)
    if fu.done_at:
        raise ServiceError("the follow-up is already done")
    if not note.strip():
        raise ServiceError("say what was done")
    with audit.acting_as(user):
        fu.done_at, fu.done_note = timezone.now(), note.strip()
        fu.save()
    return fu
