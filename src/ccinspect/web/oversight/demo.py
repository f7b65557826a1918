"""The demo of the regulator's own inspections, dated relative to today:

- the demo market: an approved annual inspection of every third broker for each of the last two half-years,
  with findings (so the risk map has the regulator's own points to show, the self-reported ones beside);
- the demo broker (示範證券): last half-year's annual inspection approved, one finding closed after the
  regulator accepted the retest and one still being remediated; and a selected-case inspection after an
  investor's complaint, its request list sent and due in two days, partly answered (an accounts export
  the analyzers have read, a written answer), with the inspectors' notes and a draft finding;
- a thematic inspection of three brokers: one has answered, one answered differently, one not at all.

Idempotent: nothing is added once an engagement exists."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from ccinspect.web.accounts.models import Organisation, Role, User
from ccinspect.web.inspections import services as isvc
from ccinspect.web.inspections.models import Finding, FindingEvent
from ccinspect.web.regulator import metrics

from . import services as svc
from .models import Engagement, Observation

ACCOUNTS = Path(__file__).resolve().parents[4] / "examples" / "evidence" / "accounts" / "order_system.csv"
COMPLAINT = ("投資人檢舉：其電子下單帳號於非本人操作時段遭登入並下單，疑似帳號遭盜用；"
             "請查核帳號管理、登入監控與異常通知機制。")
TITLES = [("久未使用帳號未定期檢討停用", "high"), ("特權帳號使用未經權責主管核准", "medium"),
          ("密碼設定未符合複雜度要求", "medium"), ("系統日誌保存期限不足", "low"), ("共用帳號未明確指定使用人", "high"),
          ("異常登入未即時通知客戶", "critical")]


def _staff() -> tuple[User, User]:
    inspector = User.objects.filter(role=Role.REGULATOR, is_active=True).order_by("pk").first()
    supervisor = User.objects.filter(role=Role.REGULATOR_SUPERVISOR, is_active=True).order_by("pk").first()
    if inspector is None or supervisor is None:
        raise RuntimeError("the oversight demo needs a regulator inspector and a regulator supervisor")
    return inspector, supervisor


def _approved(inspector, supervisor, org, start, end, rng, kind=Engagement.ANNUAL, n_findings=None):
    eng = svc.create_engagement(inspector, org, kind=kind, title=f"{end.year}年度資安例查", period_start=start,
                                period_end=end, answer_due=end + dt.timedelta(days=45),
                                chapters=["CC-17000", "CC-18000"], systems="電子下單系統、核心交易系統",
                                inspector_ids=[inspector.pk], supervisor_id=supervisor.pk)
    svc.send_requests(inspector, eng)
    refs = list(eng.requests.values_list("ref_id", flat=True))
    for _ in range(rng.randint(0, 3) if n_findings is None else n_findings):
        title, sev = rng.choice(TITLES)
        svc.record_observation(inspector, eng, ref_id=rng.choice(refs), title=title, severity=sev,
                               due_date=end + dt.timedelta(days=120), description=f"{title}（{org.name}）")
    svc.submit_for_approval(inspector, eng)
    return svc.approve(supervisor, eng, "核定")


@transaction.atomic
def seed_oversight(today: dt.date | None = None) -> dict:
    if Engagement.objects.exists():
        return {"engagements": 0}
    today = today or timezone.localdate()
    rng = random.Random(26)
    svc.ensure_deduction_table()
    inspector, supervisor = _staff()
    brokers = list(Organisation.objects.filter(kind=Organisation.BROKER).order_by("name"))
    demo = next((b for b in brokers if b.name == "示範證券股份有限公司"), brokers[0])
    other = next((b for b in brokers if b.name == "鄰家證券股份有限公司"), brokers[-1])
    last = metrics.previous(metrics.period_of(today))
    count = 0
    for k, label in enumerate((metrics.previous(last), last)):
        start, end = metrics.bounds(label)
        for org in brokers[k::3]:
            if org.pk in (demo.pk, other.pk):
                continue
            eng = _approved(inspector, supervisor, org, start, end, rng)
            count += 1
            if end < today - dt.timedelta(days=150):  # the older half-year's findings are closed by now
                for f in Finding.objects.filter(observation__engagement=eng):
                    Finding.objects.filter(pk=f.pk).update(status=Finding.CLOSED, closed_by=inspector,
                                                           closed_at=timezone.now(), remediation_plan="已改善")
                    FindingEvent.objects.create(finding=f, actor=inspector, from_status=Finding.OPEN,
                                                to_status=Finding.CLOSED, note="複查通過")

    # the demo broker: last half-year's annual inspection, two findings
    start, end = metrics.bounds(last)
    eng = _approved(inspector, supervisor, demo, start, end, rng, n_findings=2)
    count += 1
    officer = User.objects.filter(organisation=demo, role=Role.SECURITY_OFFICER).first()
    f1, f2 = list(Finding.objects.filter(observation__engagement=eng).order_by("pk"))
    if officer is not None:
        for f in (f1, f2):
            isvc.update_finding(officer, f, remediation_plan="停用久未使用帳號，每半年覆核並留存紀錄。")
            isvc.transition(officer, f, Finding.IN_PROGRESS)
        isvc.add_retest_evidence(officer, f1, name="retest-accounts.csv",
                                 data=b"user,status,disabled_at\nwang.jh,disabled,2025-09-01\n")
        isvc.transition(officer, f1, Finding.READY)
        isvc.transition(inspector, f1, Finding.CLOSED, "複查通過")

    # the demo broker: a selected case after a complaint, answers under way
    q_start = (today.replace(day=1) - dt.timedelta(days=85)).replace(day=1)
    sel = svc.create_engagement(
        inspector, demo, kind=Engagement.SELECTED, trigger="complaint", trigger_detail=COMPLAINT,
        title="選案查核：客戶帳號遭盜用檢舉", period_start=q_start, period_end=today.replace(day=1) - dt.timedelta(days=1),
        answer_due=today + dt.timedelta(days=2), chapters=["CC-18000"], focus=[], systems="電子下單系統",
        inspector_ids=[inspector.pk], supervisor_id=supervisor.pk)
    count += 1
    svc.send_requests(inspector, sel)
    svc.add_note(inspector, sel, "檢舉人要求匿名；先調閱帳號清單與登入監控紀錄。")
    if officer is not None:
        req = next((r for r in sel.requests.filter(method="analyzer")
                    if any(lay["analyzer"] == "accounts" and lay["role"] == "accounts" for lay in r.layouts)), None)
        if req is not None and ACCOUNTS.is_file():
            svc.answer(officer, req, text="電子下單系統帳號清單匯出", name=ACCOUNTS.name, data=ACCOUNTS.read_bytes(),
                       role="accounts:accounts")
            svc.run_analyzers(inspector, sel)
            svc.record_observation(inspector, sel, ref_id=req.ref_id, title="久未使用帳號未定期檢討停用",
                                   severity="high", due_date=today + dt.timedelta(days=60),
                                   description="帳號清單中有逾 180 日未使用仍啟用之帳號。")
        for r in sel.requests.filter(method="document")[:3]:
            svc.answer(officer, r, text="相關程序書及執行紀錄如附件，請參閱。")

    # a thematic inspection of three brokers
    third = next((b for b in brokers if b.pk not in (demo.pk, other.pk)), None)
    targets = [b for b in (demo, other, third) if b is not None]
    th = _thematic(inspector, supervisor, targets, q_start, today)
    count += th.engagements.count()
    svc.send_reminders(today)
    return {"engagements": count, "observations": Observation.objects.count()}


def _thematic(inspector, supervisor, targets, start, today):
    th = svc.create_thematic(inspector, title="專案查核：帳號管理與登入監控", title_en="Thematic: accounts and login monitoring",
                             issue="近期多起客戶帳號遭盜用，檢視各證券商帳號管理及登入監控之辦理情形。",
                             broker_ids=[b.pk for b in targets], period_start=start,
                             period_end=today.replace(day=1) - dt.timedelta(days=1),
                             answer_due=today + dt.timedelta(days=10), chapters=["CC-18000"],
                             inspector_ids=[inspector.pk], supervisor_id=supervisor.pk)
    # the first answers, the second answers differently, the third not at all
    answers = ["每日執行登入監控並於異常時通知客戶。", "每月彙整登入紀錄，未即時通知客戶。"]
    texts = {b.pk: text for b, text in zip(targets, answers, strict=False)}
    for e in th.engagements.all():
        svc.send_requests(inspector, e)
        officer = User.objects.filter(organisation_id=e.organisation_id, role=Role.SECURITY_OFFICER,
                                      is_active=True).first()
        text = texts.get(e.organisation_id)
        if officer is None or not text:
            continue
        for r in e.requests.filter(ref_id__startswith="CC-18000.4")[:3]:
            svc.answer(officer, r, text=text)
    return th
