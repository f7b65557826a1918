"""/api/oversight: the regulator's inspections over the API, with the pages' permissions. A broker's token
sees its own engagements (once requested), their request lists and the findings issued to it, and answers;
the inspectors' notes, analyzer runs and draft findings go to the regulator's tokens only."""

from __future__ import annotations

from ninja import File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile

from ccinspect.web.inspections.evidence import read_upload
from ccinspect.web.inspections.permissions import get_or_404

from . import services as svc
from .models import DeductionTable, Engagement, ThematicInspection

router = Router(tags=["oversight"])


def _engagement(e: Engagement, regulator: bool) -> dict:
    out = {"id": e.pk, "broker_id": e.organisation_id, "kind": e.kind, "trigger": e.trigger, "title": e.title,
           "thematic_id": e.thematic_id, "period_start": e.period_start, "period_end": e.period_end,
           "scope_chapters": e.scope_chapters, "scope_focus": e.scope_focus, "scope_systems": e.scope_systems,
           "tier": e.tier, "framework_version": e.framework_version, "answer_due": e.answer_due, "status": e.status,
           "approved_at": e.approved_at}
    if regulator:
        out |= {"inspector_ids": list(e.inspectors.values_list("pk", flat=True)), "supervisor_id": e.supervisor_id,
                "notes": [{"kind": n.kind, "text": n.text, "author_id": n.author_id, "at": n.at}
                          for n in e.notes.all()],
                "observations": [_observation(o) for o in e.observations.all()]}
    return out


def _observation(o) -> dict:
    return {"id": o.pk, "broker_id": o.organisation_id, "ref_id": o.ref_id, "focus_point": o.focus_point,
            "title": o.title, "description": o.description, "severity": o.severity,
            "deduction_points": float(o.deduction_points), "deduction_table_from": o.deduction_table.effective_from,
            "due_date": o.due_date, "finding_id": o.finding_id}


def _answer(a) -> dict:
    return {"id": a.pk, "broker_id": a.organisation_id, "request_id": a.request_id, "text": a.text,
            "evidence_id": a.evidence_id, "sha256": a.evidence.sha256 if a.evidence_id else None,
            "layout_path": a.layout_path, "submitted_at": a.submitted_at, "supersedes_id": a.supersedes_id}


@router.get("/engagements")
def engagements(request, broker_id: int | None = Query(None, ge=1, le=2**63 - 1)):  # a database integer, or 422
    qs = svc.engagements_for(request.auth)
    if broker_id is not None:
        qs = qs.filter(organisation_id=broker_id)
    reg = svc.is_regulator(request.auth)
    return [_engagement(e, reg) for e in qs[:500]]


@router.get("/engagements/{engagement_id}")
def engagement(request, engagement_id: int):
    e = get_or_404(svc.engagements_for(request.auth), engagement_id)
    return _engagement(e, svc.is_regulator(request.auth))


@router.get("/engagements/{engagement_id}/requests")
def requests(request, engagement_id: int):
    e = get_or_404(svc.engagements_for(request.auth), engagement_id)
    return [{"id": r["req"].pk, "broker_id": e.organisation_id, "ref_id": r["req"].ref_id, "text": r["req"].text,
             "text_en": r["req"].text_en, "focus_points": r["req"].focus_points, "method": r["req"].method,
             "layouts": r["req"].layouts, "due": r["req"].due, "answered": r["answered"], "overdue": r["overdue"],
             "answers": [_answer(a) for a in r["history"]]} for r in svc.request_rows(e)]


@router.post("/requests/{request_id}/answers", response={201: dict})
def answer(request, request_id: int, text: Form[str] = "", layout: Form[str] = "",
           supersedes_id: Form[int | None] = None, file: File[UploadedFile] | None = None):
    """A written answer and/or a file; `layout` (analyzer:role) places a file where an analyzer reads it.
    An answer is never changed: name the one it supersedes."""
    req = get_or_404(svc.requests_for(request.auth), request_id)
    a = svc.answer(request.auth, req, text=text, name=file.name if file else None,
                   data=read_upload(file) if file is not None else None, role=layout, supersedes_id=supersedes_id)
    return Status(201, _answer(a))


class ObservationIn(Schema):
    ref_id: str
    title: str
    severity: str
    due_date: str
    description: str = ""
    focus_point: str = ""


@router.post("/engagements/{engagement_id}/findings", response={201: dict})
def record_finding(request, engagement_id: int, body: ObservationIn):
    e = get_or_404(svc.engagements_for(request.auth), engagement_id)
    o = svc.record_observation(request.auth, e, **body.dict())
    return Status(201, _observation(o))


class NoteIn(Schema):
    note: str = ""


@router.post("/engagements/{engagement_id}/approve")
def approve(request, engagement_id: int, body: NoteIn):
    """The supervisor (never one of its inspectors) approves; the findings are issued to the broker."""
    e = get_or_404(svc.engagements_for(request.auth), engagement_id)
    return _engagement(svc.approve(request.auth, e, body.note), True)


@router.get("/thematic/{thematic_id}/comparison")
def thematic_comparison(request, thematic_id: int):
    svc.require_regulator(request.auth)
    th = get_or_404(ThematicInspection.objects.all(), thematic_id)
    c = svc.comparison(th)
    return {"id": th.pk, "title": th.title, "brokers": [
        {"broker_id": e.organisation_id, "engagement_id": e.pk, "name": e.organisation.name,
         "missing": c["missing"][e.pk], "differs": c["differs"][e.pk]} for e in c["engagements"]],
        "rows": [{"ref_id": r["ref_id"], "cells": [
            {"broker_id": e.organisation_id, "state": cell["state"],
             "answers": [_answer(a) for a in cell.get("answers", [])]}
            for e, cell in zip(c["engagements"], r["cells"], strict=True)]} for r in c["rows"]]}


@router.get("/deductions")
def deductions(request):
    """Every version of the exchange's deduction table, newest first."""
    return [{"effective_from": t.effective_from, "note": t.note,
             "points": {e.severity: float(e.points) for e in t.entries.all()}}
            for t in DeductionTable.objects.prefetch_related("entries")]
