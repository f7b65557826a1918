"""The report data (ccinspect.reports.model) from the database: the web pages and `ccinspect report` share it."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from ccinspect.reports import (
    EvidenceRow,
    FindingRow,
    InspectionReport,
    ItemRow,
    Signatory,
    SignOff,
    Statement,
    StatementChapter,
    TrackingList,
)
from ccinspect.web.accounts.models import AuditEvent, Organisation
from ccinspect.web.incidents.models import Incident
from ccinspect.web.inspections import services as isvc
from ccinspect.web.inspections.models import ChecklistItem, Finding, Inspection


def _person(u) -> tuple[str, str]:
    return (u.display_name(), u.title) if u is not None else ("", "")


def finding_row(f: Finding) -> FindingRow:
    last = f.events.order_by("-at", "-id").first()
    return FindingRow(
        id=f"F-{f.pk}", ref_id=f.ref_id, title=f.title, severity=f.severity, deduction_points=f.deduction_points,
        status=f.status, due_date=f.due_date, owner=f.owner.display_name() if f.owner else "",
        description=f.description, remediation_plan=f.remediation_plan, closed_at=f.closed_at,
        overdue=f.is_overdue, broker=f.organisation.name, inspection=f.inspection.label if f.inspection_id
        else str(f.get_source_display()),
        period=f"{f.inspection.period_start:%Y-%m-%d} – {f.inspection.period_end:%Y-%m-%d}" if f.inspection_id else "",
        raised_at=f.created_at,
        last_note=(f"{last.to_status}: {last.note}".strip(": ") if last else ""))


def inspection_report(insp: Inspection) -> InspectionReport:
    items = list(insp.items.all())
    by_id = {i.pk: i.ref_id for i in items}
    evidence = []
    for e in insp.evidence.select_related("uploaded_by", "supersedes", "finding").order_by("uploaded_at", "id"):
        ref = by_id.get(e.item_id) or (e.finding.ref_id if e.finding_id else "")
        evidence.append(EvidenceRow(
            ref_id=ref, name=e.original_name, sha256=e.sha256, size=e.size, kind=e.kind,
            uploaded_by=e.uploaded_by.display_name(), uploaded_at=e.uploaded_at, note=e.note,
            supersedes=f"{e.supersedes.original_name} ({e.supersedes.sha256[:12]})" if e.supersedes_id else ""))
    signoffs = []
    if insp.created_by_id:
        signoffs.append(SignOff("prepared", *_person(insp.created_by), at=insp.created_at))
    returned = AuditEvent.objects.filter(model="inspections.Inspection", object_id=str(insp.pk), action="update",
                                         changes__has_key="review_note").order_by("at")
    for ev in returned:
        if ev.changes.get("status", [None, None])[1] == Inspection.IN_PROGRESS:
            signoffs.append(SignOff("returned", ev.actor_name, ev.actor_title, at=ev.at,
                                    note=str(ev.changes["review_note"][1] or "")))
    if insp.submitted_by_id:
        signoffs.append(SignOff("submitted", *_person(insp.submitted_by), at=insp.submitted_at))
    if insp.signed_off_by_id:
        signoffs.append(SignOff("signed_off", *_person(insp.signed_off_by), at=insp.signed_off_at,
                                note=insp.review_note))
    return InspectionReport(
        broker=insp.organisation.name, tier=insp.tier, title=insp.title, title_en=insp.title_en,
        period_start=insp.period_start, period_end=insp.period_end, as_of=insp.period_end, due=insp.due,
        framework_version=insp.framework_version, status=insp.status, inspection_id=str(insp.pk),
        items=[ItemRow(ref_id=i.ref_id, chapter=i.chapter, text=i.text, text_en=i.text_en, label=i.label,
                       depth=i.depth, assessable=i.assessable, result=i.result, na_reason=i.na_reason,
                       notes=i.notes, automated_status=i.automated_status) for i in items],
        evidence=evidence,
        findings=[finding_row(f) for f in insp.findings.select_related("owner", "organisation", "inspection")],
        signoffs=sorted(signoffs, key=lambda s: s.at or timezone.now()), generated_at=timezone.now())


def tracking_list(findings, scope: str) -> TrackingList:
    rows = [finding_row(f) for f in findings.select_related("owner", "organisation", "inspection")
            .order_by("organisation__name", "status", "due_date", "id")]
    return TrackingList(scope=scope, findings=rows, as_of=timezone.localdate(), generated_at=timezone.now())


def fiscal_year(org: Organisation, year: int) -> tuple[dt.date, dt.date]:
    """The fiscal year that ends in `year` (the broker profile's fiscal_year_end, default 12-31)."""
    profile = org.broker_profile()
    return profile.fiscal_year_end_date(year - 1) + dt.timedelta(days=1), profile.fiscal_year_end_date(year)


def statement(org: Organisation, year: int, signatories: dict[str, tuple[str, str]],
              board_approval_date: dt.date | None = None, lang: str = "zh") -> Statement:
    start, end = fiscal_year(org, year)
    insp = Inspection.objects.filter(organisation=org, period_end__gte=start, period_end__lte=end)
    fv = isvc.catalog().version("mechanism")
    chapters = []
    for ch in sorted({c for c in ChecklistItem.objects.filter(inspection__in=insp).values_list("chapter", flat=True)}):
        ins = insp.filter(items__chapter=ch).distinct()
        items = ChecklistItem.objects.filter(inspection__in=insp, chapter=ch, assessable=True)
        assessed = items.filter(result__in=[ChecklistItem.COMPLIANT, ChecklistItem.DEFICIENT])
        node = fv.get(ch)
        name = ((node.title_en if lang == "en" else node.title) or node.title) if node else ch
        f = Finding.objects.filter(inspection__in=insp, chapter=ch)
        chapters.append(StatementChapter(
            chapter=ch, name=name, inspections=ins.count(), signed_off=ins.filter(status=Inspection.SIGNED_OFF).count(),
            assessed=assessed.count(), compliant=assessed.filter(result=ChecklistItem.COMPLIANT).count(),
            findings=f.count(), closed=f.filter(status=Finding.CLOSED).count()))
    year_findings = Finding.objects.filter(inspection__in=insp)
    open_f = [f for f in year_findings.exclude(status=Finding.CLOSED)]
    incidents = Incident.objects.filter(organisation=org, detected_at__date__gte=start, detected_at__date__lte=end)
    on_time = sum(1 for i in incidents if i.all_met())
    return Statement(
        broker=org.name, fiscal_year_start=start, fiscal_year_end=end,
        signatories=[Signatory(role, *signatories.get(role, ("", ""))) for role in
                     ("ciso", "chairman", "president", "chief_auditor")],
        chapters=chapters, board_approval_date=board_approval_date, open_findings=len(open_f),
        overdue_findings=sum(1 for f in open_f if f.is_overdue), incidents=incidents.count(),
        incidents_reported_on_time=on_time, generated_at=timezone.now())

