"""The demo: a regulator, two brokers, their users and a year of inspections, findings and evidence."""

from __future__ import annotations

import base64
import datetime as dt
import random

from django.db import transaction
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from ccinspect.core.dates import end_of_month
from ccinspect.core.ids import OccurrenceId
from ccinspect.web.accounts import audit
from ccinspect.web.accounts.models import Organisation, Role, User
from ccinspect.web.inspections import services as svc
from ccinspect.web.inspections.models import ChecklistItem, Finding, FindingEvent, Inspection

DEMO_BROKER = "示範證券股份有限公司"
OTHER_BROKER = "鄰家證券股份有限公司"
REGULATOR = "臺灣證券交易所"
# Demo-only TOTP secrets (base32), printed by `make run` so the demo can be signed into.
DEMO_TOTP = {"admin": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", "demo-admin": "KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU",
             "demo-regulator": "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
             "demo-supervisor": "MFRGGZDFMZTWQ2LKMFRGGZDFMZTWQ2LK"}

USERS = [
    # username, org, role, family, given, title, password
    ("admin", None, Role.SITE_ADMIN, "系統", "管理員", "系統管理員", "Admin-demo-2025!"),
    ("demo-admin", DEMO_BROKER, Role.BROKER_ADMIN, "林", "志明", "資訊部經理", "BrokerAdmin-2025!"),
    ("demo-officer", DEMO_BROKER, Role.SECURITY_OFFICER, "陳", "怡君", "資安專責人員", "Officer-demo-2025!"),
    ("demo-auditor", DEMO_BROKER, Role.COMPUTER_AUDITOR, "王", "建國", "電腦稽核主管", "Auditor-demo-2025!"),
    ("other-officer", OTHER_BROKER, Role.SECURITY_OFFICER, "張", "淑芬", "資安人員", "Other-demo-2025!"),
    ("other-auditor", OTHER_BROKER, Role.COMPUTER_AUDITOR, "李", "國華", "稽核室主任", "OtherAudit-2025!"),
    ("demo-regulator", REGULATOR, Role.REGULATOR, "黃", "美玲", "查核人員", "Regulator-2025!"),
    ("demo-supervisor", REGULATOR, Role.REGULATOR_SUPERVISOR, "蔡", "文雄", "查核科長", "Supervisor-2025!"),
]

DEFICIENCIES = [
    ("防火牆規則未定期檢視", "Firewall rules not reviewed", "medium"),
    ("久未使用帳號未停用", "Dormant accounts not disabled", "high"),
    ("弱點掃描高風險項目未修補", "High-risk scan findings not patched", "critical"),
    ("密碼原則未符合強度要求", "Password policy below the required strength", "medium"),
    ("教育訓練時數不足", "Training hours short", "low"),
]


def totp_now(secret_b32: str, at: float | None = None) -> str:
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    t = TOTP(key, step=30, digits=6)
    if at is not None:
        t.time = at
    return f"{t.token():06d}"


def _evidence_text(ref_id: str, month: str, ok: bool) -> bytes:
    return (f"# 查核紀錄 {ref_id} {month}\n檢查結果: {'符合' if ok else '不符合'}\n"
            f"checked-by: demo-officer\nref: {ref_id}\n").encode()


def _pdf(text: str) -> bytes:
    body = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
            b"/Resources << /Font << /F1 5 0 R >> >> >>",
            b"<< /Length %d >>\nstream\n" % len(body) + body + b"\nendstream",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for n, o in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + o + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)


def _user(username, org, role, family, given, title, password) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User(username=username)
    user.organisation, user.role, user.last_name, user.first_name, user.title = org, role, family, given, title
    user.must_change_password = False
    user.password_changed_at = timezone.now()
    user.set_password(password)
    user.save()
    if username in DEMO_TOTP and not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        key = base64.b32decode(DEMO_TOTP[username]).hex()
        TOTPDevice.objects.create(user=user, name="demo authenticator", key=key, confirmed=True)
    return user


def _at(day: dt.date, hour: int = 10) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def _backdate_events(f: Finding, start: dt.datetime, end: dt.datetime) -> None:
    """The finding's history spread from `start` to `end` (the demo runs every step at once; a real
    finding is raised, planned, retested and closed over weeks). History rows are not the audit trail:
    the audit trail keeps the true time of every write."""
    events = list(f.events.order_by("id"))
    end = max(end, start)
    step = (end - start) / max(1, len(events) - 1)
    for n, e in enumerate(events):
        FindingEvent.objects.filter(pk=e.pk).update(at=start + n * step)
    Finding.objects.filter(pk=f.pk).update(created_at=start, closed_at=end if f.status == Finding.CLOSED else None)


def _assess(officer, insp: Inspection, rng: random.Random, *, fail_rate: float, limit: int | None = None) -> list:
    """Assess the items (all, or the first `limit`): mostly compliant, some not applicable, a few deficient,
    evidence on every fourth item and on each deficient one. Returns the deficient items."""
    month = insp.occurrence_id.rsplit(":", 1)[-1]
    deficient = []
    for i, item in enumerate(list(insp.items.filter(assessable=True))[:limit]):
        r = rng.random()
        result = (ChecklistItem.DEFICIENT if r < fail_rate else
                  ChecklistItem.NOT_APPLICABLE if r > 0.97 else ChecklistItem.COMPLIANT)
        svc.set_item_result(officer, item, result, notes="", na_reason="本期無此業務" if
                            result == ChecklistItem.NOT_APPLICABLE else "")
        if i % 4 == 0 or result == ChecklistItem.DEFICIENT:
            data = (_pdf(f"{item.ref_id} {month}") if i % 8 == 0
                    else _evidence_text(item.ref_id, month, result != ChecklistItem.DEFICIENT))
            name = f"{item.ref_id}-{month}.{'pdf' if i % 8 == 0 else 'txt'}"
            svc.add_evidence(officer, item, name=name, data=data, note="")
        if result == ChecklistItem.DEFICIENT:
            deficient.append(item)
    ChecklistItem.objects.filter(inspection=insp).exclude(updated_at=None).update(
        updated_at=_at(min(insp.due, timezone.localdate()) - dt.timedelta(days=3), 15))
    return deficient


# Days from the end of the period to a finding's due date, by severity.
REMEDIATION_DAYS = {"critical": 30, "high": 45, "medium": 60, "low": 90}


def _raise(officer, item, rng: random.Random) -> Finding:
    title, _title_en, sev = DEFICIENCIES[rng.randrange(len(DEFICIENCIES))]
    due = item.inspection.due + dt.timedelta(days=REMEDIATION_DAYS[sev])
    return svc.raise_finding(officer, item, title=title, severity=sev, due_date=due,
                             description=f"{item.ref_id}：{title}", owner_id=officer.pk, remediation_plan="")


def _advance(officer, auditor, f: Finding, stage: str) -> Finding:
    """Take a new finding to `stage`: open, in_progress, ready_for_retest or closed."""
    month = f.inspection.occurrence_id.rsplit(":", 1)[-1]
    if stage == Finding.OPEN:
        return f
    svc.update_finding(officer, f, remediation_plan="依查核重點修正並留存紀錄。")
    f = svc.transition(officer, f, Finding.IN_PROGRESS)
    if stage == Finding.IN_PROGRESS:
        return f
    svc.add_retest_evidence(officer, f, name=f"retest-{f.ref_id}-{month}.txt",
                            data=_evidence_text(f.ref_id, month + " retest", True))
    f = svc.transition(officer, f, Finding.READY)
    if stage == Finding.READY:
        return f
    return svc.transition(auditor, f, Finding.CLOSED, "複查通過")


def _close_out(officer, auditor, insp: Inspection, *, sign: bool) -> None:
    """Submit (the day before the due date) and, if `sign`, sign off three days later."""
    svc.submit(officer, insp)
    submitted = _at(insp.due - dt.timedelta(days=1), 17)
    Inspection.objects.filter(pk=insp.pk).update(created_at=_at(insp.period_start), submitted_at=submitted)
    if sign:
        svc.sign_off(auditor, insp, "覆核完成")
        signed = min(submitted + dt.timedelta(days=3), timezone.now() - dt.timedelta(hours=1))
        Inspection.objects.filter(pk=insp.pk).update(signed_off_at=signed)


OVERDUE_FINDINGS = (Finding.IN_PROGRESS, Finding.READY, Finding.IN_PROGRESS)


@transaction.atomic
def seed(today: dt.date | None = None, *, months: int = 12) -> dict:
    """A well-run broker with a few problems, relative to `today`: a year of inspections signed off on time
    except last period's latest one (submitted, awaiting the auditor: the one overdue inspection); most
    findings closed, the recent ones in progress with due dates ahead, three past their due date; the first
    inspection due this month in progress. The neighbouring broker has last month's two monthly inspections
    signed off and this month's in progress, so the regulator sees more than one broker.

    Idempotent: a second run updates the users and leaves existing inspections alone."""
    today = today or timezone.localdate()
    rng = random.Random(5)
    svc.ensure_deduction_table()
    with audit.acting_as(None):
        regulator, _ = Organisation.objects.get_or_create(name=REGULATOR, defaults={"kind": Organisation.REGULATOR})
        demo, _ = Organisation.objects.get_or_create(name=DEMO_BROKER, defaults={"profile": {
            "capital": "120億", "internet_orders": True, "mobile_app": True, "api_ordering": True,
            "cloud_user": True, "official_social_media": True, "public_company": True}})
        other, _ = Organisation.objects.get_or_create(name=OTHER_BROKER, defaults={"profile": {
            "capital": "30億", "internet_orders": True}})
        orgs = {DEMO_BROKER: demo, OTHER_BROKER: other, REGULATOR: regulator, None: None}
        users = {u[0]: _user(u[0], orgs[u[1]], *u[2:]) for u in USERS}
    month_start = today.replace(day=1)
    start = (month_start - dt.timedelta(days=1)).replace(day=1)
    start = dt.date(start.year - (1 if months >= 12 else 0), start.month, 1)
    created = _seed_broker(demo, users["demo-officer"], users["demo-auditor"], start, today, rng)
    last_month = (month_start - dt.timedelta(days=1)).replace(day=1)
    created += _seed_broker(other, users["other-officer"], users["other-auditor"], last_month, today, rng,
                            only=lambda occ: OccurrenceId.parse(occ.id).subject in ("CC-17010", "CC-18000"), min_fail_rate=0.05)
    from ccinspect.web.continuity.demo import seed as seed_continuity

    created += seed_continuity(demo, users["demo-officer"], today)  # examples/continuity, dated to today
    return {"users": USERS, "created": created, "broker": demo, "other": other}


def _seed_broker(org, officer, auditor, start: dt.date, today: dt.date, rng: random.Random,
                 only=lambda occ: True, min_fail_rate: float = 0.012) -> int:
    if Inspection.objects.filter(organisation=org).exists():
        return 0
    occs = [o for o in svc.calendar_for(org, start, end_of_month(today)) if only(o)]
    past = sorted((o for o in occs if o.due < today), key=lambda o: (o.due, o.id))
    this_month = [o for o in occs if o.due >= today]
    created, findings = 0, []
    for n, occ in enumerate(past):
        try:
            insp = svc.create_inspection(officer, org, occ.id)
        except svc.ServiceError:
            continue
        created += 1
        age = (today - occ.due).days / 365
        for item in _assess(officer, insp, rng, fail_rate=min_fail_rate + 0.04 * age):
            findings.append(_raise(officer, item, rng))
        _close_out(officer, auditor, insp, sign=n < len(past) - 1 or len(past) <= 2)
    # the findings: closed once their due date has passed, except the three most recently due (overdue);
    # those still within their time in progress or awaiting the retest review, the newest not yet planned
    past_due = sorted((f for f in findings if f.due_date < today), key=lambda f: f.due_date)
    overdue = {f.pk: stage for f, stage in zip(reversed(past_due), OVERDUE_FINDINGS, strict=False)} \
        if len(past) > 2 else {}
    newest = max((f.inspection.due for f in findings), default=None)
    for f in findings:
        if f.due_date < today:
            stage = overdue.get(f.pk, Finding.CLOSED)
        elif f.inspection.due == newest and rng.random() < 0.5:
            stage = Finding.OPEN
        else:
            stage = Finding.READY if rng.random() < 0.3 else Finding.IN_PROGRESS
        f = _advance(officer, auditor, f, stage)
        raised = _at(f.inspection.due - dt.timedelta(days=2), 14)
        end = min(_at(f.due_date - dt.timedelta(days=5), 16) if stage == Finding.CLOSED
                  else raised + dt.timedelta(days=10 * f.events.count()), timezone.now() - dt.timedelta(hours=1))
        _backdate_events(f, raised, end)
    # due this month: the first one under way (about half its checklist assessed), the rest not started
    for occ in this_month[:1]:
        try:
            insp = svc.create_inspection(officer, org, occ.id)
        except svc.ServiceError:
            continue
        created += 1
        half = insp.items.filter(assessable=True).count() // 2
        _assess(officer, insp, rng, fail_rate=0.0, limit=half)
        Inspection.objects.filter(pk=insp.pk).update(
            created_at=_at(max(insp.period_start, today - dt.timedelta(days=7))))
    return created
