"""The inspection workflow as functions: the views, the API and the CLI all call these.

Every function checks permissions, validates, and writes inside one transaction: bad input raises
ServiceError (a message for the user) or PermissionDenied, and nothing is half-written."""

from __future__ import annotations

import datetime as dt
import json
import re
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from ccinspect.applicability import evaluate
from ccinspect.applicability.calendar import build_calendar
from ccinspect.catalog import load_catalog
from ccinspect.core.errors import InputError
from ccinspect.core.ids import OccurrenceId, within
from ccinspect.core.results import Severity, login_review_results
from ccinspect.web.accounts import audit
from ccinspect.web.accounts.models import Organisation

from . import evidence as ev
from .models import ChecklistItem, DeductionRule, Evidence, Finding, FindingEvent, Inspection
from .permissions import require_preparer, require_regulator_reviewer, require_reviewer


class ServiceError(ValueError):
    pass


@lru_cache(maxsize=1)
def catalog():
    return load_catalog()


def _profile_key(org: Organisation) -> str:
    return json.dumps(org.profile or {}, sort_keys=True, ensure_ascii=False, default=str)


def applicability(org: Organisation, on: dt.date):
    """What binds the broker on a date. The result is shared between callers: read it, never change it."""
    return _applicability(org.name, _profile_key(org), on)


@lru_cache(maxsize=256)
def _applicability(name: str, profile_json: str, on: dt.date):
    """A pure function of the profile, the date and the catalog, and pages ask it often (the dashboard for
    each period of its calendar, the regulator's views for each of the 64 brokers): evaluated once."""
    org = Organisation(name=name, profile=json.loads(profile_json))
    return evaluate(org.broker_profile(on), on, catalog())  # the profile version in force on the date


def calendar_for(org: Organisation, start: dt.date, end: dt.date, kind: str | None = "inspection"):
    return [o for o in _calendar(org.name, _profile_key(org), start, end) if kind is None or o.kind == kind]


@lru_cache(maxsize=128)
def _calendar(name: str, profile_json: str, start: dt.date, end: dt.date) -> tuple:
    """Pure too (profile, dates, catalog), and asked for on every dashboard: built once per broker and day."""
    org = Organisation(name=name, profile=json.loads(profile_json))
    return tuple(build_calendar(org.profile_history(), start, end, catalog()))


def inspectable(org: Organisation, occs) -> set[str]:
    """The ids of the inspection occurrences with something to inspect: some assessable requirement of the
    unit applies to the broker on the period's last day (the calendar lists every unit; create_inspection
    refuses the others, and nobody can be overdue on them)."""
    units = tuple((o.id, o.period_end or o.due, o.ref_ids) for o in occs if o.kind == "inspection")
    return set(_inspectable(org.name, _profile_key(org), units))


@lru_cache(maxsize=256)
def _inspectable(name: str, profile_json: str, units: tuple) -> frozenset:
    """Pure as well; every dashboard asks it for the year of its calendar."""
    org = Organisation(name=name, profile=json.loads(profile_json))
    by_day: dict[dt.date, list] = {}
    out = set()
    for occ_id, as_of, ref_ids in units:
        if as_of not in by_day:
            by_day[as_of] = [e.ref_id for e in applicability(org, as_of).applicable if e.requirement.assessable]
        if any(_in_unit(ref, ref_ids) for ref in by_day[as_of]):
            out.add(occ_id)
    return frozenset(out)


def _cadence_of(occ_id: str) -> str:
    return OccurrenceId.parse(occ_id).cadence or "annual"


@lru_cache(maxsize=32)
def _inspections_from(name: str, profile_json: str, year: int) -> dict:
    """The inspection occurrences of `year` and the next, by id, for one broker profile (the calendar is a
    pure function of the profile and the catalog; creating a year of inspections asks for it each time)."""
    org = Organisation(name=name, profile=json.loads(profile_json))
    return {o.id: o for o in calendar_for(org, dt.date(year, 1, 1), dt.date(year + 1, 12, 31))}


def find_occurrence(org: Organisation, occurrence_id: str):
    try:
        parsed = OccurrenceId.parse(occurrence_id or "")
    except InputError:
        parsed = None
    if parsed is None or parsed.kind != "inspection":
        raise ServiceError(f"{occurrence_id!r} is not an inspection of the calendar")
    occ = _inspections_from(org.name, _profile_key(org), parsed.year).get(occurrence_id)
    if occ is not None:
        return occ
    raise ServiceError(f"{occurrence_id!r} is not on {org.name}'s inspection calendar")


def _in_unit(ref_id: str, units: tuple[str, ...]) -> bool:
    return any(within(ref_id, u) for u in units)


@transaction.atomic
def create_inspection(user, org: Organisation, occurrence_id: str) -> Inspection:
    """An inspection for one calendar occurrence; its checklist is exactly the requirements of that unit
    applicable on the period's last day, with the inspection focus points beside each."""
    require_preparer(user, org.pk)
    occ = find_occurrence(org, occurrence_id)
    if Inspection.objects.filter(organisation=org, occurrence_id=occ.id).exists():
        raise ServiceError(f"an inspection for {occ.id} already exists")
    as_of = occ.period_end or occ.due
    res = applicability(org, as_of)
    cat = catalog()
    with audit.acting_as(user):
        insp = Inspection.objects.create(
            organisation=org, occurrence_id=occ.id, unit=",".join(occ.ref_ids), title=occ.title,
            title_en=occ.title_en, cadence=_cadence_of(occ.id), period_start=occ.period_start or as_of,
            period_end=as_of, due=occ.due, framework_version=res.version, tier=res.tier, created_by=user)
        items = []
        for order, entry in enumerate(e for e in res.applicable if _in_unit(e.ref_id, occ.ref_ids)):
            r = entry.requirement
            items.append(ChecklistItem(
                inspection=insp, order=order, ref_id=r.ref_id, chapter=r.chapter, label=r.label or "",
                depth=r.depth, text=r.text or r.title or "", text_en=r.text_en or r.title_en or "",
                obligation=str(r.obligation or ""), assessable=bool(r.assessable), reason=entry.reason,
                reason_en=entry.reason_en,
                focus_points=[{"text": f.text, "text_en": f.text_en} for f in cat.focus_points_for(r.ref_id)]))
        if not any(i.assessable for i in items):
            raise ServiceError(f"nothing under {occ.ref_ids} applies to {org.name} on {as_of}")
        ChecklistItem.objects.bulk_create(items)
        audit.record("create", model="inspections.ChecklistItem", object_id=f"inspection {insp.pk}",
                     object_repr=f"{len(items)} checklist items for {insp.title}",
                     changes={"ref_ids": [None, [i.ref_id for i in items]]}, organisation_id=org.pk)
    return insp


RESULT_VALUES = {k for k, _ in ChecklistItem.RESULTS}


@transaction.atomic
def set_item_result(user, item: ChecklistItem, result: str, *, notes: str | None = None,
                    na_reason: str = "") -> ChecklistItem:
    insp = item.inspection
    require_preparer(user, insp.organisation_id)
    if not insp.editable:
        raise ServiceError("the inspection has been submitted; it can no longer be changed")
    if not item.assessable:
        raise ServiceError(f"{item.ref_id} is a heading, not an assessable requirement")
    if result not in RESULT_VALUES:
        raise ServiceError(f"unknown result {result!r}; use one of {', '.join(sorted(RESULT_VALUES))}")
    na_reason = (na_reason or "").strip()
    if result == ChecklistItem.NOT_APPLICABLE and not na_reason:
        raise ServiceError("give the reason why the requirement does not apply")
    item = ChecklistItem.objects.select_for_update().get(pk=item.pk)
    with audit.acting_as(user):
        item.result = result
        item.na_reason = na_reason if result == ChecklistItem.NOT_APPLICABLE else ""
        if notes is not None:
            item.notes = notes
        item.updated_by = user
        item.updated_at = timezone.now()
        item.save()
    return item


def add_evidence(user, item: ChecklistItem, *, name: str, data: bytes, note: str = "",
                 supersedes: Evidence | None = None) -> Evidence:
    insp = item.inspection
    require_preparer(user, insp.organisation_id)
    if not insp.editable:
        raise ServiceError("the inspection has been submitted; evidence can no longer be added to it")
    if supersedes is not None and supersedes.item_id != item.pk:
        raise ServiceError("a new version must belong to the same checklist item")
    with audit.acting_as(user), transaction.atomic():
        return ev.store(organisation=insp.organisation, uploaded_by=user, name=name, data=data, inspection=insp,
                        item=item, note=note, supersedes=supersedes)


@transaction.atomic
def submit(user, insp: Inspection) -> Inspection:
    require_preparer(user, insp.organisation_id)
    if insp.status != Inspection.IN_PROGRESS:
        raise ServiceError("only an inspection in progress can be submitted")
    open_items = insp.items.filter(assessable=True, result=ChecklistItem.NOT_ASSESSED).count()
    if open_items:
        raise ServiceError(f"{open_items} requirement(s) are not assessed yet")
    missing = [i.ref_id for i in insp.items.filter(result=ChecklistItem.DEFICIENT) if not i.findings.exists()]
    if missing:
        raise ServiceError(f"raise a finding for every deficient item first: {', '.join(missing)}")
    with audit.acting_as(user):
        insp.status, insp.submitted_by, insp.submitted_at = Inspection.SUBMITTED, user, timezone.now()
        insp.save()
    return insp


@transaction.atomic
def sign_off(user, insp: Inspection, note: str = "") -> Inspection:
    require_reviewer(user, insp.organisation_id)
    if insp.status != Inspection.SUBMITTED:
        raise ServiceError("only a submitted inspection can be signed off")
    if user.pk in (insp.submitted_by_id, insp.created_by_id) or insp.items.filter(updated_by=user).exists():
        raise PermissionDenied("separation of duties: the reviewer cannot sign off an inspection they prepared")
    with audit.acting_as(user):
        insp.status, insp.signed_off_by, insp.signed_off_at = Inspection.SIGNED_OFF, user, timezone.now()
        insp.review_note = note
        insp.save()
    return insp


@transaction.atomic
def return_for_rework(user, insp: Inspection, note: str) -> Inspection:
    require_reviewer(user, insp.organisation_id)
    if insp.status != Inspection.SUBMITTED:
        raise ServiceError("only a submitted inspection can be returned")
    if not note.strip():
        raise ServiceError("say what needs rework")
    with audit.acting_as(user):
        insp.status, insp.review_note = Inspection.IN_PROGRESS, note
        insp.save()
    return insp


# ---- findings -------------------------------------------------------------------------------------------

def _parse_due(value) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ServiceError(f"{value!r} is not a date (YYYY-MM-DD)") from None


def _owner(org_id, owner_id):
    from ccinspect.web.accounts.models import User

    if owner_id in (None, ""):
        return None
    try:
        return User.objects.get(pk=int(owner_id), organisation_id=org_id, is_active=True)
    except (User.DoesNotExist, ValueError, TypeError):
        raise ServiceError("the owner must be an active user of the same broker") from None


@transaction.atomic
def raise_finding(user, item: ChecklistItem, *, title: str, severity: str, due_date, description: str = "",
                  owner_id=None, remediation_plan: str = "") -> Finding:
    item = ChecklistItem.objects.select_related("inspection").get(pk=item.pk)
    insp = item.inspection
    require_preparer(user, insp.organisation_id)
    if item.result != ChecklistItem.DEFICIENT:
        raise ServiceError("findings are raised from deficient items; mark the item deficient first")
    if severity not in {k for k, _ in DeductionRule.SEVERITIES}:
        raise ServiceError(f"unknown severity {severity!r}")
    if not (title or "").strip():
        raise ServiceError("a finding needs a title")
    due = _parse_due(due_date)
    with audit.acting_as(user):
        f = Finding.objects.create(
            organisation_id=insp.organisation_id, inspection=insp, item=item, ref_id=item.ref_id,
            chapter=item.chapter, title=title.strip(), description=description, severity=severity,
            deduction_points=DeductionRule.points_for(severity), owner=_owner(insp.organisation_id, owner_id),
            due_date=due, remediation_plan=remediation_plan, created_by=user)
        FindingEvent.objects.create(finding=f, actor=user, to_status=Finding.OPEN, note="raised")
    return f


@transaction.atomic
def update_finding(user, f: Finding, *, remediation_plan=None, owner_id=None, due_date=None,
                   severity=None) -> Finding:
    require_preparer(user, f.organisation_id)
    if f.status == Finding.CLOSED:
        raise ServiceError("the finding is closed")
    if f.from_regulator and (due_date not in (None, "") and _parse_due(due_date) != f.due_date
                             or severity not in (None, "") and severity != f.severity):
        raise ServiceError("the regulator set this finding's severity and due date")
    f = Finding.objects.select_for_update().get(pk=f.pk)
    changed = []
    with audit.acting_as(user):
        if remediation_plan is not None and remediation_plan != f.remediation_plan:
            f.remediation_plan, _ = remediation_plan, changed.append("remediation plan")
        if owner_id is not None:
            new = _owner(f.organisation_id, owner_id)
            if (new.pk if new else None) != f.owner_id:
                f.owner, _ = new, changed.append("owner")
        if due_date not in (None, ""):
            due = _parse_due(due_date)
            if due != f.due_date:
                f.due_date, _ = due, changed.append("due date")
        if severity not in (None, "") and severity != f.severity:
            if severity not in {k for k, _ in DeductionRule.SEVERITIES}:
                raise ServiceError(f"unknown severity {severity!r}")
            f.severity, f.deduction_points = severity, DeductionRule.points_for(severity)
            changed.append("severity")
        if changed:
            f.save()
            FindingEvent.objects.create(finding=f, actor=user, from_status=f.status, to_status=f.status,
                                        note="updated: " + ", ".join(changed))
    return f


TRANSITIONS = {
    (Finding.OPEN, Finding.IN_PROGRESS): "preparer",
    (Finding.IN_PROGRESS, Finding.READY): "preparer",
    (Finding.READY, Finding.CLOSED): "reviewer",
    (Finding.READY, Finding.IN_PROGRESS): "reviewer",
}


@transaction.atomic
def transition(user, f: Finding, to: str, note: str = "") -> Finding:
    f = Finding.objects.select_for_update().get(pk=f.pk)
    who = TRANSITIONS.get((f.status, to))
    if who is None:
        raise ServiceError(f"a finding cannot go from {f.status} to {to}")
    if who == "reviewer" and f.from_regulator:  # the regulator accepts the closure of its own findings
        require_regulator_reviewer(user)
    else:
        (require_preparer if who == "preparer" else require_reviewer)(user, f.organisation_id)
    if to == Finding.IN_PROGRESS and f.status == Finding.OPEN and not f.remediation_plan.strip():
        raise ServiceError("write the remediation plan first")
    if to == Finding.READY and not f.evidence.filter(kind=Evidence.RETEST).exists():
        raise ServiceError("attach retest evidence first")
    if f.status == Finding.READY and to == Finding.IN_PROGRESS and not note.strip():
        raise ServiceError("say why the retest failed")
    if to == Finding.CLOSED and user.pk == f.ready_by_id:
        raise PermissionDenied("separation of duties: who submitted the retest cannot close the finding")
    with audit.acting_as(user):
        old = f.status
        f.status = to
        if to == Finding.READY:
            f.ready_by = user
        if to == Finding.CLOSED:
            f.closed_by, f.closed_at = user, timezone.now()
        f.save()
        FindingEvent.objects.create(finding=f, actor=user, from_status=old, to_status=to, note=note)
    return f


def add_retest_evidence(user, f: Finding, *, name: str, data: bytes, note: str = "") -> Evidence:
    require_preparer(user, f.organisation_id)
    if f.status not in (Finding.OPEN, Finding.IN_PROGRESS):
        raise ServiceError("retest evidence is added while the finding is open or in progress")
    with audit.acting_as(user), transaction.atomic():
        e = ev.store(organisation=f.organisation, uploaded_by=user, name=name, data=data, kind=Evidence.RETEST,
                     inspection=f.inspection, finding=f, note=note)
        FindingEvent.objects.create(finding=f, actor=user, from_status=f.status, to_status=f.status,
                                    note=f"retest evidence {e.original_name} ({e.sha256[:12]})")
        return e


# ---- automated check results --------------------------------------------------------------------------

IMPORT_STATUSES = {"pass", "fail", "manual", "error", "partial"}  # partial: judged on part of its evidence
SHA_RE = re.compile(r"^[0-9a-f]{64}$")


def _reject_constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows")


def _unstorable(value, where: str) -> None:
    """Values the database cannot hold: NUL in text (PostgreSQL), NaN/Infinity (JSON), nesting past 50."""
    stack = [(value, where, 0)]
    while stack:
        v, at, depth = stack.pop()
        if depth > 50:
            raise ServiceError(f"{at}: nested more than 50 levels deep")
        if isinstance(v, str):
            if "\x00" in v:
                raise ServiceError(f"{at}: contains a NUL character")
        elif isinstance(v, float):
            if v != v or v in (float("inf"), float("-inf")):
                raise ServiceError(f"{at}: {v} is not a number JSON allows")
        elif isinstance(v, dict):
            for k, x in v.items():
                if "\x00" in str(k):
                    raise ServiceError(f"{at}: a key contains a NUL character")
                stack.append((x, f"{at}.{k}", depth + 1))
        elif isinstance(v, list):
            stack.extend((x, f"{at}[{i}]", depth + 1) for i, x in enumerate(v))


def parse_results(data) -> list[dict]:
    """Validate the results JSON (see docs/web.md): a list of results, or an object whose "requirements"
    or "results" is that list (`ccinspect inspect --format json` writes the former kind)."""
    if isinstance(data, bytes | str):
        try:
            data = json.loads(data, parse_constant=_reject_constant)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            raise ServiceError(f"the results file is not JSON: {exc}") from None
    rows = data
    if isinstance(data, dict) and "requirements" not in data and "results" not in data and "alerts" in data:
        rows = from_login_scan(data)
    elif isinstance(data, dict):
        rows = data.get("requirements", data.get("results"))
    if not isinstance(rows, list):
        raise ServiceError('expected a list of results, or an object with a "requirements" list')
    out = []
    for n, row in enumerate(rows):
        where = f"result {n + 1}"
        if not isinstance(row, dict):
            raise ServiceError(f"{where}: expected an object")
        ref_id, status = row.get("ref_id"), row.get("status")
        if not isinstance(ref_id, str) or not ref_id.strip():
            raise ServiceError(f"{where}: ref_id is missing")
        where = f"{where} ({ref_id[:80]})"
        if not isinstance(status, str) or status not in IMPORT_STATUSES:
            raise ServiceError(f"{where}: status {repr(status)[:80]} is not one of pass, fail, manual, error")
        files = row.get("evidence", row.get("files", [])) or []
        if not isinstance(files, list):
            raise ServiceError(f"{where}: evidence must be a list")
        for f in files:
            if not isinstance(f, dict) or not isinstance(f.get("path"), str):
                raise ServiceError(f"{where}: each evidence file needs a path")
            if not SHA_RE.match(str(f.get("sha256", ""))):
                raise ServiceError(f"{where}: evidence {repr(f.get('path'))[:120]} has no valid sha256")
        facts = row.get("facts", [])
        if not isinstance(facts, list):
            raise ServiceError(f"{where}: facts must be a list")
        _unstorable(row, where)
        out.append(row)
    return out


LOGIN_SCAN = "ccinspect logins scan"


def from_login_scan(data: dict) -> list[dict]:
    """Results from the login-monitoring engine's output (`ccinspect logins scan --out DIR`): alerts.json is
    {"tool", "rules", "summary", "alerts": [{"id", "kind", "severity", "ref_ids", "accounts", "ips", "first",
    "last", "detail", …}]}; run.json adds "inputs" (each log file with its SHA-256) and "review_ref_ids".

    One result per requirement an alert names (the rules file decides which), status `manual`: the alerts are
    facts for the inspector to weigh, as `ccinspect inspect` treats them, since no machine can attest that
    staff reviewed the logs (CC-18000.4.b). The review requirements get a result even when nothing fired.
    The evidence files are the scanned logs when run.json's inputs are given."""
    alerts = data.get("alerts")
    if not isinstance(alerts, list):
        raise ServiceError("login scan: alerts must be a list")
    for key in ("inputs", "review_ref_ids"):
        if not isinstance(data.get(key) or [], list):
            raise ServiceError(f"login scan: {key} must be a list")
    files = []
    for n, i in enumerate(data.get("inputs") or []):
        if not isinstance(i, dict) or not isinstance(i.get("file"), str) or not SHA_RE.match(str(i.get("sha256"))):
            raise ServiceError(f"login scan: input {n + 1} needs a file and a valid sha256")
        files.append({"path": i["file"], "sha256": i["sha256"]})
    for n, a in enumerate(alerts):
        refs = a.get("ref_ids") if isinstance(a, dict) else None
        if not isinstance(refs, list) or not refs or not all(isinstance(r, str) and r for r in refs):
            raise ServiceError(f"login scan: alert {n + 1} names no ref_ids")
        if a.get("severity") is not None and a.get("severity") not in set(Severity):
            raise ServiceError(f"login scan: alert {n + 1}: severity {str(a['severity'])[:40]!r} is not one of "
                               + ", ".join(Severity))
    rules = data.get("rules") if isinstance(data.get("rules"), dict) else {}
    review = [r for r in data.get("review_ref_ids") or [] if isinstance(r, str)]
    return [{"ref_id": r.ref_id, "status": r.status.value, "summary": r.summary,
             "facts": [f.to_dict() for f in r.checks[0].facts],
             "checks": [{"analyzer": "logins", "rule": "scan", "tool": data.get("tool", LOGIN_SCAN),
                         "rules_version": rules.get("version"), "rules_sha256": rules.get("sha256")}],
             "evidence": files} for r in login_review_results(alerts, review)]


def import_results(user, insp: Inspection, data, *, source: str = "results.json") -> dict:
    """Attach each result to its checklist item as automated evidence (the result itself, as JSON, with the
    digests of the files it examined). Results for requirements outside this inspection are skipped."""
    require_preparer(user, insp.organisation_id)
    if not insp.editable:
        raise ServiceError("the inspection has been submitted; results can no longer be attached")
    rows = parse_results(data)
    items = {i.ref_id: i for i in insp.items.all()}
    payloads = []
    for n, row in enumerate(rows):  # every payload checked before anything is written
        payload = json.dumps(row, ensure_ascii=False, indent=1, sort_keys=True).encode()
        if len(payload) > settings.EVIDENCE_MAX_BYTES:
            raise ServiceError(f"result {n + 1} ({row['ref_id'][:80]}): {len(payload)} bytes, more than the "
                               f"evidence limit of {settings.EVIDENCE_MAX_BYTES} bytes")
        payloads.append(payload)
    attached, skipped = [], []
    # one transaction; the evidence files are written after every row, just before the commit
    with audit.acting_as(user), transaction.atomic(), ev.deferred_writes():
        for row, payload in zip(rows, payloads, strict=True):
            item = items.get(row["ref_id"])
            if item is None or not item.assessable:
                skipped.append(row["ref_id"])
                continue
            e = ev.store(organisation=insp.organisation, uploaded_by=user, kind=Evidence.AUTOMATED,
                         name=f"check-{item.ref_id}.json", data=payload, inspection=insp, item=item,
                         note=str(row.get("summary", ""))[:2000], content_type="application/json",
                         metadata={"status": row["status"], "source": ev.safe_name(source),
                                   "files": row.get("evidence", row.get("files", [])) or []})
            item.automated_status = row["status"]
            item.save(update_fields=["automated_status"])
            attached.append({"ref_id": item.ref_id, "status": row["status"], "evidence_id": e.pk})
        # a login scan also lists the customers to ask whether a login was theirs (point 16)
        notified = _notify_from_scan(user, insp.organisation, data, source)
    out = {"attached": attached, "skipped": skipped}
    if notified is not None:
        out["notifications"] = notified
    return out


def _notify_from_scan(user, org, data, source: str):
    if isinstance(data, bytes | str):
        data = json.loads(data)  # parse_results has read it already: it is JSON
    if not isinstance(data, dict) or "alerts" not in data or not data.get("notifications"):
        return None
    from ccinspect.web.notification.services import from_login_scan

    return from_login_scan(user, org, data, source=ev.safe_name(source))


# ---- dashboard numbers ----------------------------------------------------------------------------------

def compliance_series(org: Organisation) -> dict[str, list[tuple[dt.date, float]]]:
    """Per chapter: (period end, compliant share of assessed items) for each inspection, oldest first.
    One grouped query, whatever the number of inspections."""
    rows = (ChecklistItem.objects.filter(inspection__organisation=org, assessable=True,
                                         result__in=(ChecklistItem.COMPLIANT, ChecklistItem.DEFICIENT))
            .values("inspection_id", "inspection__period_end", "chapter")
            .annotate(ok=Count("id", filter=Q(result=ChecklistItem.COMPLIANT)), total=Count("id"))
            .order_by("inspection__period_end", "inspection_id", "chapter"))
    series: dict[str, list] = {}
    for r in rows:
        series.setdefault(r["chapter"], []).append((r["inspection__period_end"], round(100 * r["ok"] / r["total"], 1)))
    return series


def ensure_deduction_table() -> None:
    defaults = {"low": 1, "medium": 3, "high": 5, "critical": 10}
    for sev, pts in defaults.items():
        DeductionRule.objects.get_or_create(severity=sev, defaults={"points": pts})
