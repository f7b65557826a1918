"""In Debian's chromium, in zh-TW and in English: a selected-case inspection from the investor's complaint to
the closed finding (inspector, broker, supervisor, broker again, inspector), and a thematic request to three
brokers with their answers side by side. Screenshots go to test-artifacts/."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from django.utils import timezone

from ccinspect.web.accounts.models import Organisation, Role
from ccinspect.web.inspections.models import Finding
from ccinspect.web.oversight import services as svc
from ccinspect.web.oversight.models import Answer, Engagement, ThematicInspection

from .conftest import ARTIFACTS, make_user, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ACCOUNTS = Path(__file__).resolve().parents[2] / "examples" / "evidence" / "accounts" / "order_system.csv"
COMPLAINT = "檢舉人陳先生：帳號於凌晨遭登入下單（內部資料）"


def _people():
    broker = Organisation.objects.create(name="示範證券股份有限公司", profile={
        "capital": "120億", "internet_orders": True, "mobile_app": True, "e_trading_share": 70})
    reg = Organisation.objects.create(name="臺灣證券交易所", kind=Organisation.REGULATOR)
    people = {"officer": make_user("officer", broker, Role.SECURITY_OFFICER, "資安專責人員"),
              "inspector": make_user("inspector", reg, Role.REGULATOR, "查核人員", totp=True),
              "supervisor": make_user("supervisor", reg, Role.REGULATOR_SUPERVISOR, "查核科長", totp=True)}
    svc.ensure_deduction_table()
    return broker, people


def _page(browser, live, lang):
    ctx = browser.new_context(viewport={"width": 1360, "height": 900}, locale="zh-TW")
    ctx.set_default_timeout(20000)
    if lang == "en":
        ctx.add_cookies([{"name": "django_language", "value": "en", "url": live}])
    return ctx, ctx.new_page()


def _as(browser, live, lang, username, user=None):
    ctx, page = _page(browser, live, lang)
    sign_in(page, live, username, user)
    return ctx, page


def _shot(page, name, lang):
    page.screenshot(path=str(ARTIFACTS / f"60-oversight-{name}-{lang}.png"), full_page=True)


@pytest.mark.parametrize("lang", ["zh-hant", "en"])
def test_selected_case_from_complaint_to_closed_finding(browser, live_server, settings, lang):  # noqa: F811
    settings.LANGUAGE_CODE = "zh-hant"  # the site's default; English by the switch's cookie
    broker, p = _people()
    live = live_server.url
    today = timezone.localdate()

    # the inspector plans the selected case after the complaint
    ctx, page = _as(browser, live, lang, "inspector", p["inspector"])
    page.goto(f"{live}/oversight/new/")
    assert page.get_attribute("html", "lang") == ("en" if lang == "en" else "zh-Hant-TW")
    page.select_option("#kind", "selected")
    page.select_option("#trigger", "complaint")
    page.fill("#title", "選案查核：帳號遭盜用")
    page.fill("#trigger_detail", COMPLAINT)
    page.fill("input[name=period_start]", "2025-01-01")
    page.fill("input[name=period_end]", "2025-06-30")
    page.fill("input[name=answer_due]", (today + dt.timedelta(days=14)).isoformat())
    page.check("input[name=chapters][value=CC-18000]")
    page.select_option("#inspectors", [str(p["inspector"].pk)])
    page.select_option("#supervisor", str(p["supervisor"].pk))
    _shot(page, "1-new", lang)
    page.click("#create-engagement")
    page.wait_for_selector("#engagement-status")
    eng = Engagement.objects.get()
    assert eng.requests.count() > 10 and COMPLAINT in page.inner_text("#notes")
    page.click("#send-requests")
    page.wait_for_selector("#run-analyzers")
    _shot(page, "2-planned", lang)

    # the broker answers the dormant-accounts item with its accounts export
    b_ctx, b = _as(browser, live, lang, "officer")
    b.click("#nav-oversight")
    b.click(f"a[href='/oversight/{eng.pk}/']")
    b.wait_for_selector("#requests")
    assert COMPLAINT not in b.content() and b.locator("#internal").count() == 0
    req = eng.requests.get(ref_id="CC-18000.2.f")
    row = b.locator(f"#req-{req.pk}")
    row.locator("summary").click()
    row.locator("textarea[name=text]").fill("電子下單系統帳號清單")
    row.locator("input[name=file]").set_input_files(str(ACCOUNTS))
    row.locator("select[name=layout]").select_option("accounts:accounts")
    row.locator("button").click()
    b.wait_for_selector(f"#req-{req.pk} .answer")
    assert "accounts/order_system.csv" in b.inner_text(f"#req-{req.pk}")
    _shot(b, "3-broker-answers", lang)
    assert Answer.objects.filter(request=req).count() == 1

    # the inspector runs the analyzers, records the finding, sends the report up
    page.reload()
    page.click("#run-analyzers")
    page.wait_for_selector(".analyzer-run")
    assert "CC-18000.2.f" in page.inner_text(".analyzer-run")
    page.click("#finding-form summary")
    page.select_option("#finding-ref", "CC-18000.2.f")
    page.fill("#finding-title", "久未使用帳號未停用")
    page.select_option("#finding-severity", "high")
    page.fill("#finding-due", (today + dt.timedelta(days=60)).isoformat())
    page.click("#record-finding")
    page.wait_for_selector("#observations td.ref")
    _shot(page, "4-inspector-findings", lang)
    page.click("#submit-approval")
    page.wait_for_selector("#engagement-status.review")
    assert page.locator("#approve").count() == 0  # an inspector never approves

    # the supervisor approves; the report is issued
    s_ctx, s = _as(browser, live, lang, "supervisor", p["supervisor"])
    s.goto(f"{live}/oversight/{eng.pk}/")
    s.click("#approve")
    s.wait_for_selector("#engagement-status.approved")
    _shot(s, "5-approved", lang)
    s.goto(f"{live}/oversight/{eng.pk}/report/html/")
    assert "臺灣證券交易所股份有限公司查核證券商作業辦法" in s.content() and "Legal basis" in s.content()
    _shot(s, "6-report", lang)

    # the broker remediates the issued finding
    b.goto(f"{live}/findings/")
    f = Finding.objects.get(source=Finding.REGULATOR)
    b.click(f"a[href='/findings/{f.pk}/']")
    b.wait_for_selector("#finding-source")
    b.click("details summary")
    b.fill("#remediation_plan", "停用久未使用帳號並每半年覆核")
    b.click("#save-finding")
    b.click("#to-in-progress")
    b.wait_for_selector("#retest-file")
    b.set_input_files("#retest-file", str(ACCOUNTS))
    b.click("#upload-retest")
    b.click("#to-ready")
    b.wait_for_selector("#finding-status.ready_for_retest")
    assert b.locator("#close-finding").count() == 0  # the broker cannot close the regulator's finding
    _shot(b, "7-broker-retest", lang)

    # the inspector accepts the retest: closed
    page.goto(f"{live}/findings/{f.pk}/")
    page.click("#close-finding")
    page.wait_for_selector("#finding-status.closed")
    _shot(page, "8-closed", lang)
    f.refresh_from_db()
    assert f.status == Finding.CLOSED and f.closed_by == p["inspector"]
    for c in (ctx, b_ctx, s_ctx):
        c.close()


@pytest.mark.parametrize("lang", ["zh-hant", "en"])
def test_thematic_request_to_three_brokers(browser, live_server, settings, lang):  # noqa: F811
    settings.LANGUAGE_CODE = "zh-hant"
    broker, p = _people()
    other = Organisation.objects.create(name="鄰家證券股份有限公司", profile={"capital": "30億", "internet_orders": True})
    third = Organisation.objects.create(name="遠山證券股份有限公司", profile={"capital": "60億", "internet_orders": True})
    officer_b = make_user("officer_b", other, Role.SECURITY_OFFICER)
    live = live_server.url
    ctx, page = _as(browser, live, lang, "inspector", p["inspector"])
    page.goto(f"{live}/oversight/thematic/")
    page.fill("#title", "專案查核：登入監控")
    page.fill("#issue", "帳號盜用事件頻傳")
    page.select_option("#brokers", [str(broker.pk), str(other.pk), str(third.pk)])
    page.fill("input[name=period_start]", "2025-01-01")
    page.fill("input[name=period_end]", "2025-06-30")
    page.fill("input[name=answer_due]", "2025-07-31")
    page.check("input[name=chapters][value=CC-18000]")
    page.select_option("#inspectors", [str(p["inspector"].pk)])
    page.select_option("#supervisor", str(p["supervisor"].pk))
    page.click("#create-thematic")
    page.wait_for_selector("#side-by-side")
    th = ThematicInspection.objects.get()
    assert th.engagements.count() == 3
    for e in th.engagements.all():
        svc.send_requests(p["inspector"], e)
    ref = "CC-18000.4.a" if th.engagements.get(organisation=broker).requests.filter(
        ref_id="CC-18000.4.a").exists() else "CC-18000.2.f"
    svc.answer(p["officer"], th.engagements.get(organisation=broker).requests.get(ref_id=ref), text="每日監控並通知客戶")
    svc.answer(officer_b, th.engagements.get(organisation=other).requests.get(ref_id=ref), text="每月彙整，未通知")
    page.reload()
    text = page.inner_text("#side-by-side")
    assert "遠山證券股份有限公司" in page.inner_text("#not-answered")
    assert "鄰家證券股份有限公司" not in page.inner_text("#not-answered")
    assert page.locator("td.cmp.missing").count() > 0
    assert page.locator("td.cmp.differs").count() == 2  # two answers, no majority: both differ
    assert "每日監控並通知客戶" in text and "每月彙整，未通知" in text
    _shot(page, "9-thematic", lang)
    # the annual plan: three brokers, none inspected by the regulator yet (approved), each planned this year
    page.click("#tab-plan")
    page.wait_for_selector("#plan")
    assert page.locator("#plan tr").count() == 4 and page.locator("#plan a[href^='/oversight/']").count() == 3
    _shot(page, "10-plan", lang)
    # the broker sees its own part only
    b_ctx, b = _as(browser, live, lang, "officer_b")
    assert b.goto(f"{live}/oversight/thematic/{th.pk}/").status == 403
    b.goto(f"{live}/oversight/")
    assert b.locator("#engagements a").count() == 1
    ctx.close()
    b_ctx.close()
