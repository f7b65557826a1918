"""The register as functions (pages, API and CLI call these). Each checks permissions, validates every record
with the library's pydantic model and cross-checks the whole register (`reference_problems`: unknown systems,
duplicate ids) in one transaction: a bad change raises ServiceError and nothing is written. The tables are
tracked by the audit trail; imports and findings raised from gaps add an explicit entry."""

from __future__ import annotations

import datetime as dt
import io
import math
import tempfile
from pathlib import Path

from django.db import models, transaction
from django.db.backends.base.operations import BaseDatabaseOperations
from django.utils import timezone
from django.utils.translation import gettext as _
from pydantic import ValidationError

from ccinspect import safezip
from ccinspect.continuity import (
    KINDS,
    Register,
    RegisterError,
    Status,
    amendment,
    evaluate,
    read_workbook,
    reference_problems,
    write_workbook,
)
from ccinspect.continuity.store import WORKBOOK_MAX_MEMBERS, WORKBOOK_MAX_UNZIPPED
from ccinspect.core.ids import within
from ccinspect.web.accounts import audit
from ccinspect.web.accounts.models import Organisation
from ccinspect.web.inspections import services as isvc
from ccinspect.web.inspections.evidence import archive_message, safe_name
from ccinspect.web.inspections.models import ChecklistItem, Finding
from ccinspect.web.inspections.permissions import require_preparer
from ccinspect.web.inspections.services import ServiceError

from .models import MODELS, GapFinding

FINDING_RULES = ("drill-shortfall", "drill-over-tolerable")  # gaps that raise a finding


def rows(org, kind: str):
    return MODELS[kind].objects.filter(organisation=org)


def register_for(org) -> Register:
    """The broker's register from its rows (validated by the library's models)."""
    data = {kind: [r.to_record() for r in rows(org, kind)] for kind in KINDS}
    return Register.model_validate(data)


def status_for(org, as_of: dt.date | None = None) -> Status:
    day = as_of or timezone.localdate()
    return evaluate(register_for(org), org.broker_profile(day), day)  # the profile version in force that day


def _messages(exc: ValidationError) -> list[str]:
    return [f"{'.'.join(map(str, e['loc'])) or 'record'}: {e['msg']}" for e in exc.errors()]


def _values(kind: str, rec) -> dict:
    """A validated record as the table's values."""
    out = {}
    for name in KINDS[kind][0].model_fields:
        v = getattr(rec, name)
        v = v.value if hasattr(v, "value") else v
        if isinstance(v, list):
            v = [x.value if hasattr(x, "value") else x for x in v]
        if v is None and isinstance(MODELS[kind]._meta.get_field("code" if name == "id" else name).default, str):
            v = ""  # optional text: blank, not NULL
        out["code" if name == "id" else name] = v
    return out


def db_problems(kind: str, values: dict) -> list[tuple[str, str]]:
    """What the database cannot store although the library's model accepts it: text longer than its column,
    NUL characters (PostgreSQL), non-finite numbers, whole numbers past the column's range. (field, message)."""
    out = []
    for col, v in values.items():
        f = MODELS[kind]._meta.get_field(col)
        name = "id" if col == "code" else col
        texts = [v] if isinstance(v, str) else [x for x in v if isinstance(x, str)] if isinstance(v, list) else []
        if any("\x00" in t for t in texts):
            out.append((name, "contains a NUL character"))
        if isinstance(v, str) and f.max_length and len(v) > f.max_length:
            out.append((name, f"{len(v)} characters, at most {f.max_length} fit"))
        if isinstance(v, float) and not math.isfinite(v):
            out.append((name, f"{v} is not a finite number"))
        if isinstance(v, int) and not isinstance(v, bool) and isinstance(f, models.IntegerField):
            # the portable range (PostgreSQL's), not SQLite's 64 bits: one answer on every backend
            low, high = BaseDatabaseOperations.integer_field_ranges[f.get_internal_type()]
            if (low is not None and v < low) or (high is not None and v > high):
                out.append((name, f"{v} is out of range (at most {high})"))
    return out


def validate(kind: str, data: dict) -> dict:
    """One record checked by the library's model and against the table's columns; the values for the table."""
    model = KINDS[kind][0]
    try:
        rec = model.model_validate(data)
    except ValidationError as exc:
        raise ServiceError("; ".join(_messages(exc))) from None
    values = _values(kind, rec)
    problems = db_problems(kind, values)
    if problems:
        raise ServiceError("; ".join(f"{kind} {f}: {m}" for f, m in problems))
    return values


def _fits(kind: str, rec) -> list[tuple[str, str]]:
    return db_problems(kind, _values(kind, rec))


def _check_references(org, before: set) -> None:
    after = reference_problems(register_for(org))
    new = [p for p in after if (p[0], p[2], p[3]) not in before]
    if new:
        raise ServiceError("; ".join(f"{kind} {field}: {msg}" for kind, _i, field, msg in new))


def _problems(org) -> set:
    return {(k, f, m) for k, _i, f, m in reference_problems(register_for(org))}


@transaction.atomic
def save_record(user, org, kind: str, data: dict, row=None):
    """Create (row None) or update one record of the broker's register."""
    require_preparer(user, org.pk)
    if kind not in MODELS:
        raise ServiceError(f"unknown record kind {kind!r}")
    if row is not None and row.organisation_id != org.pk:
        raise ServiceError("the record belongs to another broker")
    before = _problems(org)
    values = validate(kind, data)
    key = "system" if kind == "dr_coverage" else "code"
    same = rows(org, kind).filter(**{key: values[key]})
    if row is not None:
        same = same.exclude(pk=row.pk)
    if same.exists():
        raise ServiceError(f"{kind} {key}: duplicate id {values[key]!r} (already on the register)")
    with audit.acting_as(user):
        if row is None:
            row = MODELS[kind](organisation=org, **values)
        else:
            for k, v in values.items():
                setattr(row, k, v)
            row.updated_at = timezone.now()
        row.save()
    _check_references(org, before)
    return row


@transaction.atomic
def delete_record(user, org, kind: str, row) -> None:
    require_preparer(user, org.pk)
    if row.organisation_id != org.pk:
        raise ServiceError("the record belongs to another broker")
    before = _problems(org)
    with audit.acting_as(user):
        row.delete()
    _check_references(org, before)


@transaction.atomic
def replace_register(user, org, reg: Register, *, source: str) -> dict:
    """Replace the broker's whole register (an import): every old row deleted, every new one created, one
    audit entry for the import on top of the per-row ones. Nothing is written if anything fails."""
    require_preparer(user, org.pk)
    problems = reference_problems(reg)
    if problems:
        raise ServiceError("; ".join(f"{k} record {i + 1} {f}: {m}" for k, i, f, m in problems))
    counts = {}
    with audit.acting_as(user):
        for kind in reversed(list(KINDS)):
            for row in rows(org, kind):
                row.delete()
        for kind in KINDS:
            recs = getattr(reg, kind)
            for rec in recs:
                MODELS[kind].objects.create(organisation=org, **validate(kind, rec.model_dump()))
            counts[kind] = len(recs)
    audit.record("import", model="continuity.Register", object_id=str(org.pk), object_repr=f"{org} ← {source}",
                 organisation_id=org.pk, changes={k: [None, n] for k, n in counts.items()}, actor=user)
    return counts


def import_workbook(user, org, data: bytes, name: str = "register.xlsx") -> dict:
    """Check the archive (a zip bomb is refused before it is inflated), read and check the whole workbook
    (RegisterError with sheet/row/column problems, including values too long for their column), then replace
    the register in one transaction."""
    require_preparer(user, org.pk)
    clean = safe_name(name)
    if not data:
        raise ServiceError(_("the file is empty"))
    if not safezip.is_zip(data[:4]):
        raise ServiceError(_("%(name)s is not an XLSX workbook (its content is not a ZIP archive)")
                           % {"name": repr(clean)})
    try:
        safezip.check_zip(data, max_members=WORKBOOK_MAX_MEMBERS, max_unzipped=WORKBOOK_MAX_UNZIPPED, max_depth=1)
    except safezip.ArchiveError as exc:
        raise ServiceError(archive_message(clean, exc)) from None
    reg = read_workbook(io.BytesIO(data), source=clean, check=_fits)
    return replace_register(user, org, reg, source=clean)


def workbook_bytes(reg: Register) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        out = write_workbook(reg, Path(tmp) / "continuity.xlsx")
        return Path(out).read_bytes()


def template_bytes() -> bytes:
    return workbook_bytes(Register())


def amendment_rows() -> list:
    return amendment()


# ---- findings from gaps --------------------------------------------------------------------------------

def finding_gaps(st: Status) -> list:
    return [g for g in st.gaps if g.rule in FINDING_RULES and g.record]


def raised_for(org) -> dict[tuple[str, str, str], GapFinding]:
    return {(g.rule, g.record_kind, g.record_id): g for g in
            GapFinding.objects.filter(organisation=org).select_related("finding")}


def candidate_items(org, gap=None):
    """Checklist items of the broker's inspections in progress a gap's finding can sit on, the ones the gap's
    mechanism ref_ids name first."""
    items = list(ChecklistItem.objects.filter(
        inspection__organisation=org, inspection__status="in_progress", assessable=True,
    ).select_related("inspection").order_by("inspection__period_end", "order"))
    if gap is not None:
        refs = set(gap.mechanism) | {c.ref_id for c in gap.clauses}
        items.sort(key=lambda i: 0 if any(within(i.ref_id, r) for r in refs) else 1)
    return items


@transaction.atomic
def raise_gap_finding(user, org, *, rule: str, kind: str, record_id: str, item_id, severity: str, due_date,
                      as_of: dt.date | None = None) -> Finding:
    """A drill shortfall (or a drill past the tolerable time) raised as a finding in the remediation workflow,
    on a checklist item of one of the broker's inspections in progress (marked deficient if it is not)."""
    require_preparer(user, org.pk)
    if rule not in FINDING_RULES:
        raise ServiceError(f"findings are raised from {', '.join(FINDING_RULES)} gaps")
    st = status_for(org, as_of)
    gap = next((g for g in st.gaps if g.rule == rule and g.record == (kind, record_id)), None)
    if gap is None:
        raise ServiceError(f"no {rule} gap for {kind} {record_id} in the register now")
    if GapFinding.objects.filter(organisation=org, rule=rule, record_kind=kind, record_id=record_id).exists():
        raise ServiceError("a finding has already been raised for this gap")
    try:
        item = ChecklistItem.objects.select_related("inspection").get(pk=item_id, inspection__organisation=org)
    except (ChecklistItem.DoesNotExist, ValueError, TypeError):
        raise ServiceError("choose a checklist item of one of your inspections in progress") from None
    if not item.inspection.editable:
        raise ServiceError("choose an item of an inspection in progress")
    clauses = ", ".join(dict.fromkeys(c.ref_id for c in gap.clauses))
    label = f"{gap.rule} {kind}:{record_id}"
    if item.result != ChecklistItem.DEFICIENT:
        note = (item.notes + "\n" if item.notes else "") + f"{label}: {gap.message}"
        item = isvc.set_item_result(user, item, ChecklistItem.DEFICIENT, notes=note)
    f = isvc.raise_finding(user, item, title=f"{gap.title}（{record_id}）"[:300], severity=severity,
                           due_date=due_date,
                           description=f"{gap.message}\n{gap.message_en}\n{clauses} · {label}")
    with audit.acting_as(user):
        link = GapFinding.objects.create(organisation=org, rule=rule, record_kind=kind, record_id=record_id,
                                         finding=f, created_by=user)
    audit.record("raise_finding", link, changes={"gap": [None, label], "finding": [None, f"F-{f.pk}"]}, actor=user)
    return f


# ---- the incident link ---------------------------------------------------------------------------------

def system_choices(org) -> list[tuple[str, str]]:
    return [(s.code, f"{s.code} {s.name}") for s in rows(org, "systems")]


def latest_bia(org, system: str):
    return rows(org, "impact_analyses").filter(system=system).order_by("-date", "-id").first()


def outages_for(org) -> list[dict]:
    """Outages of the incident register that name a core system: achieved recovery against its RTO."""
    from ccinspect.web.incidents.models import Incident

    out = []
    for inc in Incident.objects.filter(organisation=org).exclude(core_system="").order_by("-detected_at"):
        bia = latest_bia(org, inc.core_system)
        out.append({"incident": inc, "system": inc.core_system, "achieved": inc.interruption_minutes,
                    "rto": bia.rto_minutes if bia else None, "tolerable": bia.tolerable_minutes if bia else None,
                    "bia": bia.code if bia else None,
                    "over_rto": bool(bia and inc.interruption_minutes is not None
                                     and inc.interruption_minutes > bia.rto_minutes)})
    return out


def org_by_name_or_id(value: str) -> Organisation:
    qs = Organisation.objects.filter(kind=Organisation.BROKER)
    org = qs.filter(pk=int(value)).first() if value.isdigit() else None
    org = org or qs.filter(name=value).first()
    if org is None:
        raise ServiceError(f"no broker {value!r} in the database")
    return org


__all__ = ["RegisterError"]
