"""The demo: a regulator, two brokers, their users and a year of inspections, findings and evidence."""

from __future__ import annotations

import base64
import datetime as dt
import random

from django.db import transaction
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from ccinspect.web.accounts import audit
from ccinspect.web.accounts.models import Organisation, Role, User
from ccinspect.web.inspections import services as svc
from ccinspect.web.inspections.models import ChecklistItem, Finding, Inspection

DEMO_BROKER = "示範證券股份有限公司"
OTHER_BROKER = "鄰家證券股份有限公司"
REGULATOR = "臺灣證券交易所"
# Demo-only TOTP secrets (base32), printed by `make run` so the demo can be signed into.
DEMO_TOTP = {"admin": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", "demo-admin": "KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU"}

USERS = [
    # username, org, role, family, given, title, password
    ("admin", None, Role.SITE_ADMIN, "系統", "管理員", "系統管理員", "Admin-demo-2025!"),
    ("demo-admin", DEMO_BROKER, Role.BROKER_ADMIN, "林", "志明", "資訊部經理", "BrokerAdmin-2025!"),
    ("demo-officer", DEMO_BROKER, Role.SECURITY_OFFICER, "陳", "怡君", "資安專責人員", "Officer-demo-2025!"),
    ("demo-auditor", DEMO_BROKER, Role.COMPUTER_AUDITOR, "王", "建國", "電腦稽核主管", "Auditor-demo-2025!"),
    ("other-officer", OTHER_BROKER, Role.SECURITY_OFFICER, "張", "淑芬", "資安人員", "Other-demo-2025!"),
    ("demo-regulator", REGULATOR, Role.REGULATOR, "黃", "美玲", "查核人員", "Regulator-2025!"),
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


@transaction.atomic
def seed(today: dt.date | None = None, *, months: int = 12) -> dict:
    """Idempotent: a second run leaves existing inspections alone."""
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
    officer, auditor = users["demo-officer"], users["demo-auditor"]
    start = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    start = dt.date(start.year - (1 if months >= 12 else 0), start.month, 1)
    created = 0
    occs = svc.calendar_for(demo, start, today + dt.timedelta(days=31))
    for n, occ in enumerate(occs):
        if Inspection.objects.filter(organisation=demo, occurrence_id=occ.id).exists():
            continue
        if occ.due < today - dt.timedelta(days=20) and n % 11 == 7:
            continue  # a missed inspection: shows as overdue on the dashboard
        try:
            insp = svc.create_inspection(officer, demo, occ.id)
        except svc.ServiceError:
            continue
        created += 1
        if occ.period_end and occ.period_end >= today:
            continue  # the current period: in progress
        month = occ.id.rsplit(":", 1)[-1]
        # compliance improves over the year
        age = max(0, (today - occ.due).days) / 365
        fail_rate = 0.04 + 0.10 * age
        assessable = list(insp.items.filter(assessable=True))
        for i, item in enumerate(assessable):
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
                title, _title_en, sev = DEFICIENCIES[rng.randrange(len(DEFICIENCIES))]
                due = occ.due + dt.timedelta(days=60)
                f = svc.raise_finding(officer, item, title=title, severity=sev, due_date=due,
                                      description=f"{item.ref_id}：{title}", owner_id=officer.pk,
                                      remediation_plan="")
                stage = rng.random() if due < today else 0.2
                if stage > 0.15:
                    svc.update_finding(officer, f, remediation_plan="依查核重點修正並留存紀錄。")
                    svc.transition(officer, f, Finding.IN_PROGRESS)
                if stage > 0.35:
                    svc.add_retest_evidence(officer, f, name=f"retest-{item.ref_id}-{month}.txt",
                                            data=_evidence_text(item.ref_id, month + " retest", True))
                    svc.transition(officer, f, Finding.READY)
                if stage > 0.45:
                    svc.transition(auditor, f, Finding.CLOSED, "複查通過")
        svc.submit(officer, insp)
        if occ.due < today - dt.timedelta(days=10):
            svc.sign_off(auditor, insp, "覆核完成")
    return {"users": USERS, "created": created, "broker": demo, "other": other}
