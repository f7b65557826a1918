"""The regulator's inspection of brokers as functions (pages, API and CLI call these).

Each checks who may act, validates, and writes in one transaction: bad input raises ServiceError, a wrong
role PermissionDenied. Separation of duties: the supervisor who approves is never one of the inspectors."""

from __future__ import annotations

import datetime as dt
import fnmatch
import tempfile
from collections import Counter
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from ccinspect.checks.rules import load_rules
from ccinspect.checks.runner import inspect as run_checks
from ccinspect.web.accounts import audit
from ccinspect.web.accounts.models import REGULATOR_ROLES, Organisation, Role, User
from ccinspect.web.inspections import evidence as ev
from ccinspect.web.inspections import services as isvc
from ccinspect.web.inspections.models import DeductionRule, Finding, FindingEvent
from ccinspect.web.inspections.permissions import require_preparer

from .models import (
    AnalyzerRun,
    Answer,
    DeductionEntry,
    DeductionTable,
    Engagement,
    EvidenceRequest,
    InspectorNote,
    Observation,
    Reminder,
    ThematicInspection,
)

ServiceError = isvc.ServiceError
SEVERITIES = [k for k, _label in DeductionRule.SEVERITIES]
REMIND_DAYS = 3  # a reminder when an unanswered request is due within this many days, and when overdue


# ---- who ---------------------------------------------------------------------------------------------

def is_regulator(user) -> bool:
    return bool(user and user.is_authenticated and user.role in REGULATOR_ROLES)


def require_regulator(user) -> None:
    if not is_regulator(user):
        raise PermissionDenied("only the regulator's inspectors and supervisors may do this")


def require_inspector(user, eng: Engagement) -> None:
    if not (is_regulator(user) and eng.inspectors.filter(pk=user.pk).exists()):
        raise PermissionDenied("only an inspector assigned to this inspection may do this")


def require_supervisor(user, eng: Engagement) -> None:
    if not (is_regulator(user) and user.pk == eng.supervisor_id and user.role == Role.REGULATOR_SUPERVISOR):
        raise PermissionDenied("only the supervisor of this inspection may do this")
    if eng.inspectors.filter(pk=user.pk).exists():
        raise PermissionDenied("separation of duties: an inspector of this inspection cannot approve it")


def engagements_for(user):
    """The regulator sees every engagement; a broker's users only their own, once the requests are sent."""
    qs = Engagement.objects.select_related("organisation", "supervisor", "thematic")
    if not user.is_authenticated:
        return qs.none()
    if is_regulator(user):
        return qs
    if user.organisation_id is None or user.sees_all_brokers:
        return qs.none()  # the site admin runs the site, not the exchange's inspections
    return qs.filter(organisation_id=user.organisation_id).exclude(status=Engagement.PLANNED)


def requests_for(user):
    return EvidenceRequest.objects.filter(engagement__in=engagements_for(user)).select_related("engagement")


# ---- the deduction table --------------------------------------------------------------------------------

def _points(value, severity: str) -> Decimal:
    try:
        p = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ServiceError(f"points for {severity}: {str(value)[:40]!r} is not a number") from None
    if not p.is_finite() or p < 0 or p > 1000:
        raise ServiceError(f"points for {severity}: expected a number from 0 to 1000")
    return p.quantize(Decimal("0.01"))


@transaction.atomic
def add_deduction_table(user, effective_from, points: dict, note: str = "") -> DeductionTable:
    """A new version of the table; the versions before it stay as they were (findings keep theirs)."""
    if not (is_regulator(user) and user.role == Role.REGULATOR_SUPERVISOR):
        raise PermissionDenied("only a regulator supervisor changes the deduction table")
    start = isvc._parse_due(effective_from)
    if DeductionTable.objects.filter(effective_from=start).exists():
        raise ServiceError(f"a version from {start} exists already; versions are never changed, add a later one")
    missing = [s for s in SEVERITIES if str(points.get(s, "")).strip() == ""]
    if missing:
        raise ServiceError("give the points for every severity (missing: " + ", ".join(missing) + ")")
    values = {s: _points(points[s], s) for s in SEVERITIES}
    with audit.acting_as(user):
        t = DeductionTable.objects.create(effective_from=start, note=note.strip()[:300], created_by=user)
        for s in SEVERITIES:
            DeductionEntry.objects.create(table=t, severity=s, points=values[s])
    return t


def ensure_deduction_table(on: dt.date = dt.date(2020, 1, 1)) -> DeductionTable:
    """The first version, from the broker-side defaults, when the exchange has set none."""
    t = DeductionTable.objects.order_by("effective_from").first()
    if t is not None:
        return t
    isvc.ensure_deduction_table()
    t = DeductionTable.objects.create(effective_from=on, note="initial")
    for r in DeductionRule.objects.all():
        DeductionEntry.objects.create(table=t, severity=r.severity, points=r.points)
    return t


# ---- planning -----------------------------------------------------------------------------------------

def _in(ref: str, units) -> bool:
    return any(ref == u or ref.startswith(u + ".") for u in units)


def scope_catalog() -> tuple[list, list]:
    cat = isvc.catalog()
    return cat.version("mechanism").chapters, cat.focus_points.points


def evidence_method(ref_id: str) -> tuple[str, list[dict]]:
    """The analyzers that read evidence for the requirement (rules.yaml), with each file's layout; a
    requirement no analyzer serves is answered with a document or in writing."""
    layouts = {}
    table = load_rules()
    for aid, rid, rule in table.rules_for(ref_id):
        spec = table.analyzers[aid]
        for role in [*rule.needs, *rule.needs_any]:
            key = (aid, role)
            if key not in layouts:
                layouts[key] = {"analyzer": aid, "title": spec.title, "role": role, "glob": spec.evidence[role],
                                "rules": []}
            layouts[key]["rules"].append(rid)
    out = list(layouts.values())
    return (EvidenceRequest.ANALYZER if out else EvidenceRequest.DOCUMENT), out


def build_requests(eng: Engagement) -> list[EvidenceRequest]:
    """The request list: the assessable requirements applicable to the broker on the last day of the
    inspected period that fall in the scope's chapters or that a chosen focus point names, each with the
    focus points for the broker's tier beside it."""
    res = isvc.applicability(eng.organisation, eng.period_end)
    cat = isvc.catalog()
    chosen = {p.id: p for p in cat.focus_points.points if p.id in set(eng.scope_focus)}
    focus_refs = {r for p in chosen.values() for r in p.ref_ids}
    out = []
    for entry in res.applicable:
        r = entry.requirement
        if not r.assessable:
            continue
        if not (_in(r.ref_id, eng.scope_chapters) or r.ref_id in focus_refs):
            continue
        points, seen = [], set()
        for p in cat.focus_points_for(r.ref_id):
            if (p.tiers is None or res.tier in p.tiers) and p.text not in seen:  # one of each text
                seen.add(p.text)
                points.append(p)
        method, layouts = evidence_method(r.ref_id)
        out.append(EvidenceRequest(
            engagement=eng, organisation_id=eng.organisation_id, order=len(out), ref_id=r.ref_id, chapter=r.chapter,
            text=r.text or r.title or "", text_en=r.text_en or r.title_en or "",
            focus_points=[{"id": p.id, "text": p.text, "text_en": p.text_en} for p in points],
            method=method, layouts=layouts, due=eng.answer_due))
    return out


def _users(ids, role_ok, what: str = "one of the regulator's staff") -> list[User]:
    out = []
    for i in ids or []:
        try:
            u = User.objects.get(pk=int(i), is_active=True)
        except (User.DoesNotExist, ValueError, TypeError):
            raise ServiceError(f"no active user {str(i)[:20]!r}") from None
        if not role_ok(u):
            raise ServiceError(f"{u.username} is not {what}")
        out.append(u)
    return out


def _scope(chapters, focus) -> tuple[list[str], list[str]]:
    known_ch = {c.ref_id for c in scope_catalog()[0]}
    known_fp = {p.id for p in scope_catalog()[1]}
    chapters = [c for c in dict.fromkeys(chapters or []) if c]
    focus = [f for f in dict.fromkeys(focus or []) if f]
    bad = [c for c in chapters if c not in known_ch] + [f for f in focus if f not in known_fp]
    if bad:
        raise ServiceError("not a chapter or focus point of the catalog: " + ", ".join(map(str, bad))[:200])
    if not chapters and not focus:
        raise ServiceError("choose at least one chapter or focus point for the scope")
    return chapters, focus


def _dates(period_start, period_end, answer_due) -> tuple[dt.date, dt.date, dt.date]:
    start, end, due = isvc._parse_due(period_start), isvc._parse_due(period_end), isvc._parse_due(answer_due)
    if end < start:
        raise ServiceError("the inspected period ends before it starts")
    return start, end, due


@transaction.atomic
def create_engagement(user, org: Organisation, *, kind: str, title: str, period_start, period_end, answer_due,
                      chapters=(), focus=(), systems: str = "", inspector_ids=(), supervisor_id=None,
                      trigger: str = "", trigger_detail: str = "", thematic: ThematicInspection | None = None
                      ) -> Engagement:
    require_regulator(user)
    if not org.is_broker:
        raise ServiceError("only a broker is inspected")
    if kind not in {k for k, _label in Engagement.KINDS}:
        raise ServiceError(f"unknown kind of inspection {kind!r}")
    if kind == Engagement.SELECTED and trigger not in {k for k, _label in Engagement.TRIGGERS}:
        raise ServiceError("a selected-case inspection names its trigger: complaint, authority or colocation")
    if kind != Engagement.SELECTED:
        trigger = ""
    if (kind == Engagement.THEMATIC) != (thematic is not None):
        raise ServiceError("a thematic inspection's engagements are created from the thematic inspection")
    start, end, due = _dates(period_start, period_end, answer_due)
    chapters, focus = _scope(chapters, focus)
    inspectors = _users(inspector_ids, lambda u: u.role in REGULATOR_ROLES)
    if not inspectors:
        raise ServiceError("assign at least one inspector")
    sup = _users([supervisor_id] if supervisor_id not in (None, "") else [],
                 lambda u: u.role == Role.REGULATOR_SUPERVISOR, "a regulator supervisor")
    if not sup:
        raise ServiceError("name the supervisor who approves (a regulator supervisor)")
    if sup[0] in inspectors:
        raise ServiceError("separation of duties: the supervisor cannot also be an inspector of this inspection")
    if not (title or "").strip():
        raise ServiceError("an inspection needs a title")
    res = isvc.applicability(org, end)
    with audit.acting_as(user):
        eng = Engagement.objects.create(
            organisation=org, kind=kind, trigger=trigger, thematic=thematic, title=title.strip()[:300],
            period_start=start, period_end=end, scope_chapters=chapters, scope_focus=focus,
            scope_systems=(systems or "").strip(), tier=res.tier, framework_version=res.version,
            supervisor=sup[0], answer_due=due, created_by=user)
        eng.inspectors.set(inspectors)
        if (trigger_detail or "").strip():
            InspectorNote.objects.create(engagement=eng, kind=InspectorNote.TRIGGER, text=trigger_detail.strip(),
                                         author=user)
        reqs = build_requests(eng)
        if not reqs:
            raise ServiceError(f"nothing in this scope applies to {org.name} on {end}")
        EvidenceRequest.objects.bulk_create(reqs)
        audit.record("create", model="oversight.EvidenceRequest", object_id=f"engagement {eng.pk}",
                     object_repr=f"{len(reqs)} evidence requests for {eng.title}",
                     changes={"ref_ids": [None, [r.ref_id for r in reqs]]}, organisation_id=org.pk)
    return eng


@transaction.atomic
def create_thematic(user, *, title: str, title_en: str = "", issue: str = "", broker_ids=(), **kw
                    ) -> ThematicInspection:
    """One issue, one request list (the same scope) to many brokers: an engagement each, its items judged by
    that broker's own tier and applicability."""
    require_regulator(user)
    brokers = list(Organisation.objects.filter(kind=Organisation.BROKER, pk__in=[
        int(b) for b in broker_ids if str(b).isdigit()]))
    if len(brokers) < 1:
        raise ServiceError("choose the brokers the thematic inspection covers")
    if not (title or "").strip():
        raise ServiceError("a thematic inspection needs a title")
    with audit.acting_as(user):
        th = ThematicInspection.objects.create(title=title.strip(), title_en=(title_en or "").strip(),
                                               issue=(issue or "").strip(), created_by=user)
    for org in brokers:
        create_engagement(user, org, kind=Engagement.THEMATIC, title=title, thematic=th, **kw)
    return th


@transaction.atomic
def add_note(user, eng: Engagement, text: str) -> InspectorNote:
    require_inspector(user, eng) if user.pk != eng.supervisor_id else require_regulator(user)
    if not (text or "").strip():
        raise ServiceError("the note is empty")
    with audit.acting_as(user):
        return InspectorNote.objects.create(engagement=eng, text=text.strip(), author=user)


@transaction.atomic
def send_requests(user, eng: Engagement) -> Engagement:
    require_inspector(user, eng)
    eng = Engagement.objects.select_for_update().get(pk=eng.pk)
    if eng.status != Engagement.PLANNED:
        raise ServiceError("the requests have been sent already")
    with audit.acting_as(user):
        eng.status, eng.requested_at = Engagement.REQUESTED, timezone.now()
        eng.save()
    return eng


# ---- the broker answers ---------------------------------------------------------------------------------

def layout_path(req: EvidenceRequest, role: str, name: str) -> str:
    """Where an analyzer looks for the file: the role's glob with the file's own name for a wildcard last
    part (the name must fit it), and `submitted` for a wildcard folder."""
    lay = next((x for x in req.layouts if f"{x['analyzer']}:{x['role']}" == role), None)
    if lay is None:
        raise ServiceError(f"{req.ref_id}: choose which file this is ({', '.join(x['glob'] for x in req.layouts)})")
    parts = lay["glob"].split("/")
    last = parts[-1]
    if "*" in last or "?" in last:
        if not fnmatch.fnmatch(name, last):
            raise ServiceError(f"{req.ref_id}: {name!r} does not fit {lay['glob']}")
        last = name
    return "/".join([*("submitted" if "*" in p else p for p in parts[:-1]), last])


def answer(user, req: EvidenceRequest, *, text: str = "", name: str | None = None, data: bytes | None = None,
           role: str = "", supersedes_id=None) -> Answer:
    eng = Engagement.objects.select_related("organisation").get(pk=req.engagement_id)  # its status now
    require_preparer(user, eng.organisation_id)
    if eng.status != Engagement.REQUESTED:
        raise ServiceError("the inspection is not taking answers")
    text = ev.clean_text(text).strip()
    if not text and data is None:
        raise ServiceError("give a written answer or a file")
    previous = None
    if supersedes_id not in (None, ""):
        try:
            previous = req.answers.get(pk=int(supersedes_id))
        except (Answer.DoesNotExist, ValueError, TypeError):
            raise ServiceError("the answer to supersede belongs to another request") from None
        if Answer.objects.filter(supersedes=previous).exists():
            raise ServiceError("that answer has been superseded already; supersede the newest one")
    path = ""
    if data is not None and req.method == EvidenceRequest.ANALYZER and role:
        path = layout_path(req, role, ev.safe_name(name or "answer"))
    with audit.acting_as(user), transaction.atomic():
        e = None
        if data is not None:
            e = ev.store(organisation=eng.organisation, uploaded_by=user, name=name or "answer", data=data,
                         note=f"oversight request {req.ref_id}", metadata={"engagement": eng.pk, "request": req.pk,
                                                                          "layout_path": path})
        return Answer.objects.create(request=req, organisation_id=eng.organisation_id, text=text, evidence=e,
                                     layout_path=path, submitted_by=user, supersedes=previous)


def send_reminders(today: dt.date | None = None) -> list[Reminder]:
    """For each engagement taking answers: one reminder a day when unanswered requests fall due within
    REMIND_DAYS, or are overdue. Idempotent for the day."""
    today = today or timezone.localdate()
    out = []
    for eng in Engagement.objects.filter(status=Engagement.REQUESTED):
        open_reqs = eng.requests.filter(answers__isnull=True)
        for kind, q in ((Reminder.OVERDUE, Q(due__lt=today)),
                        (Reminder.DUE_SOON, Q(due__gte=today, due__lte=today + dt.timedelta(days=REMIND_DAYS)))):
            refs = list(open_reqs.filter(q).values_list("ref_id", flat=True))
            if refs:
                with transaction.atomic():
                    r, created = Reminder.objects.get_or_create(engagement=eng, kind=kind, on=today,
                                                                defaults={"ref_ids": refs})
                    if created:
                        EvidenceRequest.objects.filter(engagement=eng, ref_id__in=refs).update(
                            last_reminded_at=timezone.now())
                        out.append(r)
    return out


# ---- the inspector's work ---------------------------------------------------------------------------------

def run_analyzers(user, eng: Engagement) -> AnalyzerRun:
    """Lay the current answers' files out as the analyzers expect them (each answer's layout path) and run
    ccinspect.checks on them as of the end of the inspected period; keep the results for the request list."""
    require_inspector(user, eng)
    answers = [a for a in Answer.objects.filter(request__engagement=eng, superseded_by__isnull=True,
                                                evidence__isnull=False).exclude(layout_path="")
               .select_related("evidence", "request")]
    if not answers:
        raise ServiceError("no analyzer file has been submitted yet")
    refs = set(eng.requests.values_list("ref_id", flat=True))
    with tempfile.TemporaryDirectory(prefix="oversight-") as tmp:
        root = Path(tmp)
        inputs = []
        for a in answers:
            target = root / a.layout_path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(ev.path_of(a.evidence).read_bytes())
            inputs.append({"path": a.layout_path, "sha256": a.evidence.sha256, "answer_id": a.pk,
                           "ref_id": a.request.ref_id})
        result = run_checks(eng.organisation.broker_profile(), root, eng.period_end)
    rows = [r.to_dict() for r in result.requirements if r.ref_id in refs]
    counts = dict(Counter(r["status"] for r in rows))
    with audit.acting_as(user), transaction.atomic():
        return AnalyzerRun.objects.create(engagement=eng, run_by=user, inputs=inputs, results=rows, counts=counts)


@transaction.atomic
def record_observation(user, eng: Engagement, *, ref_id: str, title: str, severity: str, due_date,
                       description: str = "", focus_point: str = "") -> Observation:
    require_inspector(user, eng)
    if eng.status not in (Engagement.PLANNED, Engagement.REQUESTED):
        raise ServiceError("the report has gone to the supervisor; findings can no longer be added")
    req = eng.requests.filter(ref_id=ref_id).first()
    if req is None:
        raise ServiceError(f"{str(ref_id)[:60]!r} is not on this inspection's request list")
    if focus_point and focus_point not in {f.get("id") for f in req.focus_points}:
        raise ServiceError(f"focus point {focus_point[:40]!r} is not one of {ref_id}'s")
    if severity not in SEVERITIES:
        raise ServiceError(f"unknown severity {str(severity)[:20]!r}")
    if not (title or "").strip():
        raise ServiceError("a finding needs a title")
    today = timezone.localdate()
    table = DeductionTable.in_force(today)
    points = table.points(severity) if table else None
    if points is None:
        raise ServiceError(f"no deduction table in force on {today} gives points for {severity}")
    with audit.acting_as(user):
        return Observation.objects.create(
            engagement=eng, organisation_id=eng.organisation_id, ref_id=req.ref_id, chapter=req.chapter,
            focus_point=focus_point or "", title=title.strip()[:300], description=ev.clean_text(description),
            severity=severity, deduction_points=points, deduction_table=table, due_date=isvc._parse_due(due_date),
            created_by=user)


@transaction.atomic
def submit_for_approval(user, eng: Engagement) -> Engagement:
    require_inspector(user, eng)
    eng = Engagement.objects.select_for_update().get(pk=eng.pk)
    if eng.status != Engagement.REQUESTED:
        raise ServiceError("only an inspection whose requests were sent goes to the supervisor")
    with audit.acting_as(user):
        eng.status, eng.submitted_at = Engagement.REVIEW, timezone.now()
        eng.save()
    return eng


@transaction.atomic
def return_to_inspectors(user, eng: Engagement, note: str) -> Engagement:
    require_supervisor(user, eng)
    eng = Engagement.objects.select_for_update().get(pk=eng.pk)
    if eng.status != Engagement.REVIEW:
        raise ServiceError("only an inspection awaiting approval can be returned")
    if not (note or "").strip():
        raise ServiceError("say what the inspectors should rework")
    with audit.acting_as(user):
        eng.status = Engagement.REQUESTED
        eng.save()
        InspectorNote.objects.create(engagement=eng, text=note.strip(), author=user)
    return eng


@transaction.atomic
def approve(user, eng: Engagement, note: str = "") -> Engagement:
    """The supervisor approves the report; each finding is issued to the broker for remediation through
    the findings workflow (source: regulator)."""
    require_supervisor(user, eng)
    eng = Engagement.objects.select_for_update().get(pk=eng.pk)
    if eng.status != Engagement.REVIEW:
        raise ServiceError("only an inspection awaiting approval can be approved")
    with audit.acting_as(user):
        for o in eng.observations.filter(finding__isnull=True).select_for_update():
            f = Finding.objects.create(
                organisation_id=eng.organisation_id, source=Finding.REGULATOR, ref_id=o.ref_id, chapter=o.chapter,
                title=o.title, description=o.description, severity=o.severity, deduction_points=o.deduction_points,
                due_date=o.due_date, created_by=o.created_by)
            FindingEvent.objects.create(finding=f, actor=user, to_status=Finding.OPEN, note="raised")
            Observation.objects.filter(pk=o.pk).update(finding=f)
        eng.status, eng.approved_by, eng.approved_at = Engagement.APPROVED, user, timezone.now()
        eng.save()
        if (note or "").strip():
            InspectorNote.objects.create(engagement=eng, text=note.strip(), author=user)
    return eng


# ---- reading ------------------------------------------------------------------------------------------

def request_rows(eng: Engagement) -> list[dict]:
    """Each request with its current answers and its whole history (oldest first)."""
    answers: dict[int, list[Answer]] = {}
    for a in Answer.objects.filter(request__engagement=eng).select_related("evidence", "submitted_by",
                                                                           "superseded_by"):
        answers.setdefault(a.request_id, []).append(a)
    today = timezone.localdate()
    out = []
    for r in eng.requests.all():
        hist = answers.get(r.pk, [])
        current = [a for a in hist if not hasattr(a, "superseded_by") or a.superseded_by is None]
        out.append({"req": r, "current": current, "history": hist, "answered": bool(hist),
                    "overdue": not hist and r.due < today})
    return out


def _fingerprint(answers: list[Answer]) -> str | None:
    """What a broker answered, comparable across brokers: the files' digests and the normalised text."""
    if not answers:
        return None
    parts = sorted((a.evidence.sha256 if a.evidence_id else "") + "|" + " ".join(a.text.split()).lower()
                   for a in answers)
    return "\n".join(parts)


def comparison(th: ThematicInspection) -> dict:
    """The thematic inspection's answers side by side: one row per requirement, one column per broker;
    who has not answered, and who differs from the most common answer."""
    engs = list(th.engagements.select_related("organisation").order_by("organisation__name"))
    cur: dict[tuple[int, str], list[Answer]] = {}
    for a in Answer.objects.filter(request__engagement__in=engs, superseded_by__isnull=True).select_related(
            "request", "evidence"):
        cur.setdefault((a.request.engagement_id, a.request.ref_id), []).append(a)
    reqs: dict[str, EvidenceRequest] = {}
    applies: dict[str, set[int]] = {}
    for r in EvidenceRequest.objects.filter(engagement__in=engs).order_by("ref_id"):
        reqs.setdefault(r.ref_id, r)
        applies.setdefault(r.ref_id, set()).add(r.engagement_id)
    rows = []
    for ref in sorted(reqs, key=lambda x: [int(p) if p.isdigit() else p for p in x.replace("CC-", "").split(".")]):
        prints = {e.pk: _fingerprint(cur.get((e.pk, ref), [])) for e in engs if e.pk in applies[ref]}
        common = Counter(p for p in prints.values() if p is not None).most_common(2)
        # the most common answer, if one is; with a tie (two brokers, two answers) every answer differs
        majority = common[0][0] if common and (len(common) == 1 or common[0][1] > common[1][1]) else None
        cells = []
        for e in engs:
            if e.pk not in applies[ref]:
                cells.append({"state": "not_applicable"})
                continue
            got = cur.get((e.pk, ref), [])
            state = "missing" if not got else "same" if prints[e.pk] == majority else "differs"
            cells.append({"state": state, "answers": got})
        rows.append({"ref_id": ref, "req": reqs[ref], "cells": cells})
    missing = {e.pk: sum(1 for r in rows for c, x in zip(r["cells"], engs, strict=True)
                         if x.pk == e.pk and c["state"] == "missing") for e in engs}
    differs = {e.pk: sum(1 for r in rows for c, x in zip(r["cells"], engs, strict=True)
                         if x.pk == e.pk and c["state"] == "differs") for e in engs}
    return {"thematic": th, "engagements": engs, "rows": rows, "missing": missing, "differs": differs,
            "brokers": [{"eng": e, "missing": missing[e.pk], "differs": differs[e.pk]} for e in engs],
            "not_answered": [e for e in engs if missing[e.pk] == sum(1 for r in rows if e.pk in applies[r["ref_id"]])]}


def annual_plan(year: int) -> list[dict]:
    """Every broker with the time since the regulator last inspected it, its open findings (the regulator's
    and its own) and its place on the risk map, oldest inspection first, so the supervisor can order the year."""
    from ccinspect.web.regulator import metrics as m

    today = timezone.localdate()
    period = m.latest_period(source=m.REGULATOR) or m.latest_period(source=m.SELF)
    placed = {r["id"]: r for r in m.risk_map(period, source=m.REGULATOR)["brokers"]} if period else {}
    last = {}
    for org_id, end in Engagement.objects.filter(status=Engagement.APPROVED).values_list(
            "organisation_id", "period_end").order_by("period_end"):
        last[org_id] = end
    planned = {}
    for e in Engagement.objects.filter(period_end__year=year).values("organisation_id", "pk", "kind", "status"):
        planned.setdefault(e["organisation_id"], []).append(e)
    open_f = Finding.objects.exclude(status=Finding.CLOSED)
    reg_open = Counter(open_f.filter(source=Finding.REGULATOR).values_list("organisation_id", flat=True))
    self_open = Counter(open_f.filter(source=Finding.SELF).values_list("organisation_id", flat=True))
    rows = []
    for org in Organisation.objects.filter(kind=Organisation.BROKER).order_by("name"):
        end = last.get(org.pk)
        place = placed.get(org.pk, {})
        rows.append({"org": org, "last": end, "days": (today - end).days if end else None,
                     "open_regulator": reg_open.get(org.pk, 0), "open_self": self_open.get(org.pk, 0),
                     "block": place.get("block", ""), "points": place.get("points", 0.0),
                     "tier": place.get("tier") or m.tier_of(org, today), "planned": planned.get(org.pk, [])})
    rows.sort(key=lambda r: (r["days"] is not None, -(r["days"] or 0), r["org"].name))
    return rows
