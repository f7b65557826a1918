"""Demo incidents for the demo broker, relative to now: one whose clocks are running, one personal-data leak
whose initial and TWSE reports are overdue (it stands out on the dashboard), and a closed outage from last month
whose interruption exceeded the tolerable time, with a BCP follow-up. Idempotent."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from ccinspect.web.accounts.models import User

from . import services as svc
from .models import Incident


def seed_incidents(officer_username: str = "demo-officer") -> int:
    officer = User.objects.filter(username=officer_username).first()
    if officer is None or officer.organisation is None:
        return 0
    org = officer.organisation
    if Incident.objects.filter(organisation=org).exists():
        return 0
    now = timezone.now().replace(second=0, microsecond=0)

    def iso(t: dt.datetime) -> str:
        return timezone.localtime(t).strftime("%Y-%m-%dT%H:%M")

    running = svc.create_incident(officer, org, {
        "title": "APP 電子下單主機無法登入", "category": "outage", "detected_at": iso(now - dt.timedelta(minutes=95)),
        "systems_affected": "APP 電子下單、中台主機", "customers_affected": 860, "estimated_amount": 1200000,
        "description": "作業系統更新後內建防火牆封鎖連線，客戶無法登入 APP 下單。",
        "outage_started_at": iso(now - dt.timedelta(minutes=100)), "service_restored_at": iso(now - dt.timedelta(minutes=40)),
        "tolerable_minutes": 30, "rto_minutes": 30})
    svc.record_report(officer, running, "initial", now - dt.timedelta(minutes=75))
    svc.create_incident(officer, org, {
        "title": "客戶個人資料疑似外洩", "category": "data_leak", "detected_at": iso(now - dt.timedelta(minutes=50)),
        "systems_affected": "客戶服務系統", "customers_affected": 312, "personal_data": ["leaked"],
        "description": "外部通報於論壇發現疑似本公司客戶名單。"})
    past = now - dt.timedelta(days=34)
    closed = svc.create_incident(officer, org, {
        "title": "憑證系統驗章回應緩慢", "category": "outage", "detected_at": iso(past),
        "systems_affected": "憑證伺服器、電子交易平台", "customers_affected": 4100, "estimated_amount": 2500000,
        "outage_started_at": iso(past - dt.timedelta(minutes=10)), "service_restored_at": iso(past + dt.timedelta(minutes=65)),
        "tolerable_minutes": 60, "rto_minutes": 45,
        "description": "憑證伺服器連線資源未釋放，達承載上限後服務中斷；重啟服務後恢復。"})
    for stage, delta in (("initial", dt.timedelta(minutes=22)), ("formal", dt.timedelta(hours=20)),
                         ("closure", dt.timedelta(days=2, hours=3))):
        svc.record_report(officer, closed, stage, past + delta)
    svc.add_followup(officer, closed, action="修正憑證伺服器連線釋放程式，擴大壓力測試並辦理故障復原演練",
                     due_date=timezone.localdate() + dt.timedelta(days=20), owner_id=officer.pk)
    return 3
