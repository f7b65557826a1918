"""The demo market for the regulator's views: 64 brokers (3, 6, 10 and 45 in tiers 1–4, as tiers.yaml counts
them), each with an e-trading share, and several half-years of signed-off inspections with findings.

Fast enough for `make run`: the checklists come from the applicability engine, and the rows are written with
bulk inserts (one audit record tells what the seed created). The brokers' own users exist but cannot sign in
(no usable password, inactive): they are the preparers and reviewers the records name. Idempotent: a broker
that already has inspections for a period is left alone."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from ccinspect.core.ids import OccurrenceId
from ccinspect.web.accounts import audit
from ccinspect.web.accounts.models import Organisation, Role, User
from ccinspect.web.inspections import services as isvc
from ccinspect.web.inspections.models import ChecklistItem, DeductionRule, Finding, FindingEvent, Inspection

from . import metrics

TARGET = {1: 3, 2: 6, 3: 10, 4: 45}
CAPITAL = {1: (200, 480), 2: (100, 195), 3: (40, 98), 4: (6, 38)}  # 億
SHARE = {1: (45, 80), 2: (35, 85), 3: (20, 80), 4: (5, 95)}
FIRST = "元大富群宏凱統寶康華豐泰永聯信和興德安台新兆國日益盛福大昌金鼎亞犇"
SECOND = "京通遠富瑞展誠嘉隆盈豐鑫達匯邦晟禾益陽升鼎"
SEVERITY = [("low", 0.35), ("medium", 0.40), ("high", 0.20), ("critical", 0.05)]
DEMO_SHARES = {"示範證券股份有限公司": 72.0, "鄰家證券股份有限公司": 38.0}


def _names(rng: random.Random, n: int, taken: set[str]) -> list[str]:
    out = []
    while len(out) < n:
        name = f"{rng.choice(FIRST)}{rng.choice(SECOND)}證券股份有限公司"
        if name not in taken:
            taken.add(name)
            out.append(name)
    return out


def _periods(today: dt.date, count: int) -> list[str]:
    p = metrics.previous(metrics.period_of(today))  # the last half-year that has ended
    out = [p]
    while len(out) < count:
        p = metrics.previous(p)
        out.append(p)
    return out[::-1]


def _pick(rng, weighted):
    r, acc = rng.random(), 0.0
    for value, w in weighted:
        acc += w
        if r < acc:
            return value
    return weighted[-1][0]


@transaction.atomic
def seed_market(today: dt.date | None = None, *, periods: int = 4, seed: int = 64) -> dict:
    today = today or timezone.localdate()
    rng = random.Random(seed)
    isvc.ensure_deduction_table()
    points = {r.severity: r.points for r in DeductionRule.objects.all()}
    brokers = list(Organisation.objects.filter(kind=Organisation.BROKER))
    with audit.acting_as(None):
        for org in brokers:  # the demo brokers get an e-trading share if they have none
            if "e_trading_share" not in (org.profile or {}):
                org.profile = {**org.profile, "e_trading_share": DEMO_SHARES.get(org.name, 50.0)}
                org.save()
    have = {t: 0 for t in TARGET}
    for org in brokers:
        t = metrics.tier_of(org, today)
        have[t] = have.get(t, 0) + 1
    taken = set(Organisation.objects.values_list("name", flat=True))
    new_orgs = []
    for tier, want in TARGET.items():
        for name in _names(rng, max(0, want - have.get(tier, 0)), taken):
            lo, hi = CAPITAL[tier]
            s_lo, s_hi = SHARE[tier]
            new_orgs.append(Organisation(name=name, kind=Organisation.BROKER, profile={
                "capital": f"{rng.randint(lo, hi)}億", "internet_orders": True, "mobile_app": rng.random() < 0.8,
                "api_ordering": tier <= 2 and rng.random() < 0.6, "cloud_user": rng.random() < 0.4,
                "e_trading_share": float(rng.randint(s_lo, s_hi))}))
    Organisation.objects.bulk_create(new_orgs)
    market = list(Organisation.objects.filter(kind=Organisation.BROKER).order_by("name"))
    seeded = {o.pk for o in new_orgs} | set(
        User.objects.filter(username__startswith="mkt").values_list("organisation_id", flat=True))
    staff = _staff([o for o in market if o.pk in seeded])

    labels = _periods(today, periods)
    hot = _hot_types(labels[-1])
    inspections = items = findings = 0
    for org in market:
        if org.pk not in staff:
            continue
        officer, auditor = staff[org.pk]
        risk = rng.betavariate(1.6, 9)  # most brokers do well; a few do not
        existing = set(Inspection.objects.filter(organisation=org).values_list("occurrence_id", flat=True))
        start, _e = metrics.bounds(labels[0])
        _s, end = metrics.bounds(labels[-1])
        # the half-yearly and yearly inspections, and of the monthly ones the last month of each half-year
        occs = [o for o in isvc.calendar_for(org, start, end)
                if OccurrenceId.parse(o.id).cadence != "monthly" or (o.period_end and o.period_end.month in (6, 12))]
        for k, label in enumerate(labels):
            p_start, p_end = metrics.bounds(label)
            todo = [o for o in occs if p_start <= (o.period_end or o.due) <= p_end and o.id not in existing]
            if not todo:
                continue
            res = isvc.applicability(org, p_end)
            rows = [Inspection(
                organisation=org, occurrence_id=o.id, unit=",".join(o.ref_ids), title=o.title, title_en=o.title_en,
                cadence=isvc._cadence_of(o.id), period_start=o.period_start or p_end, period_end=o.period_end or p_end,
                due=o.due, framework_version=res.version, tier=res.tier, status=Inspection.SIGNED_OFF,
                created_by=officer, created_at=_at(p_end, 3), submitted_by=officer, submitted_at=_at(p_end, 10),
                signed_off_by=auditor, signed_off_at=_at(p_end, 20), review_note="覆核完成") for o in todo]
            Inspection.objects.bulk_create(rows)
            inspections += len(rows)
            new_items, deficient = [], []
            for insp, occ in zip(rows, todo, strict=True):
                for order, entry in enumerate(e for e in res.applicable if isvc._in_unit(e.ref_id, occ.ref_ids)):
                    r = entry.requirement
                    result = ChecklistItem.COMPLIANT
                    if r.assessable:
                        trend = hot.get(r.ref_id)
                        chance = risk * (0.10 if trend is None else max(0.05, 1.4 + trend * k))
                        if rng.random() < chance:
                            result = ChecklistItem.DEFICIENT
                        elif rng.random() < 0.02:
                            result = ChecklistItem.NOT_APPLICABLE
                    item = ChecklistItem(
                        inspection=insp, order=order, ref_id=r.ref_id, chapter=r.chapter, label=r.label or "",
                        depth=r.depth, text=r.text or r.title or "", text_en=r.text_en or r.title_en or "",
                        obligation=str(r.obligation or ""), assessable=bool(r.assessable), reason=entry.reason,
                        reason_en=entry.reason_en, result=result if r.assessable else ChecklistItem.NOT_ASSESSED,
                        na_reason="本期無此業務" if result == ChecklistItem.NOT_APPLICABLE else "",
                        updated_by=officer, updated_at=_at(p_end, 8))
                    new_items.append(item)
                    if r.assessable and result == ChecklistItem.DEFICIENT:
                        deficient.append(item)
            ChecklistItem.objects.bulk_create(new_items, batch_size=2000)
            items += len(new_items)
            new_findings = []
            latest = k == len(labels) - 1
            for item in deficient:
                sev = _pick(rng, SEVERITY)
                due = item.inspection.period_end + dt.timedelta(days=60)
                roll = rng.random()
                status = (Finding.CLOSED if roll < (0.35 if latest else 0.9) else
                          Finding.IN_PROGRESS if roll < (0.7 if latest else 0.97) else Finding.OPEN)
                new_findings.append(Finding(
                    organisation=org, inspection=item.inspection, item=item, ref_id=item.ref_id, chapter=item.chapter,
                    title=(item.text[:40] + "…") if len(item.text) > 40 else item.text,
                    description=f"{item.ref_id} 查核缺失", severity=sev, deduction_points=points.get(sev, Decimal(1)),
                    owner=officer, due_date=due, status=status,
                    remediation_plan="" if status == Finding.OPEN else "依查核重點修正並留存紀錄。",
                    created_by=officer, created_at=_at(item.inspection.period_end, 9),
                    closed_by=auditor if status == Finding.CLOSED else None,
                    closed_at=_at(due, -5) if status == Finding.CLOSED else None))
            Finding.objects.bulk_create(new_findings)
            FindingEvent.objects.bulk_create([FindingEvent(finding=f, actor=officer, to_status=Finding.OPEN,
                                                           note="raised", at=f.created_at) for f in new_findings])
            findings += len(new_findings)
    audit.record("create", model="regulator.DemoMarket", object_repr="demo market",
                 changes={"brokers": [None, len(market)], "new_brokers": [None, len(new_orgs)],
                          "inspections": [None, inspections], "items": [None, items], "findings": [None, findings],
                          "periods": [None, labels]})
    return {"brokers": len(market), "new_brokers": len(new_orgs), "inspections": inspections, "items": items,
            "findings": findings, "periods": labels}


def _at(day: dt.date, days: int) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=days), dt.time(10, 0)))


def _staff(market) -> dict[int, tuple[User, User]]:
    """For the brokers of the demo market: an officer and an auditor each (inactive, no usable password).
    Brokers with users of their own (the demo brokers) are not seeded here."""
    out = {}
    new = []
    for org in market:
        users = {u.role: u for u in User.objects.filter(organisation=org)}
        for role, title, family in ((Role.SECURITY_OFFICER, "資安專責人員", "陳"), (Role.COMPUTER_AUDITOR, "稽核主管", "林")):
            if role not in users:
                u = User(username=f"mkt{org.pk}-{role.split('_')[0]}", organisation=org, role=role, title=title,
                         last_name=family, first_name="示範", is_active=False, must_change_password=True)
                u.set_unusable_password()
                new.append(u)
                users[role] = u
        out[org.pk] = (users[Role.SECURITY_OFFICER], users[Role.COMPUTER_AUDITOR])
    User.objects.bulk_create([u for u in new if u.pk is None])
    return {k: (User.objects.get(username=a.username), User.objects.get(username=b.username)) for k, (a, b) in out.items()}


def _hot_types(label) -> dict[str, float]:
    """The deficiency types most brokers struggle with, and how each moves per period (+ rising, − falling)."""
    _s, end = metrics.bounds(label)
    profile_org = Organisation(name="tier4", profile={"capital": "10億", "internet_orders": True})
    refs = [e.ref_id for e in isvc.applicability(profile_org, end).applicable if e.requirement.assessable]
    rng = random.Random(7)
    chosen = rng.sample(refs, min(18, len(refs)))
    return {ref: rng.choice([-0.25, -0.15, 0.0, 0.1, 0.25, 0.4]) for ref in chosen}
