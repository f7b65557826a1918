"""In Debian's chromium: the regulator's dashboard (risk map, cyber risk now, trends, drill-down) over the demo
market, and the incident register (overdue clocks, recording an incident, its clocks counting down, the report).
Screenshots go to test-artifacts/."""

from __future__ import annotations

import datetime as dt
import os

import pytest
from django.utils import timezone

from ccinspect.web.accounts.models import Organisation, Role

from .conftest import ARTIFACTS, make_user, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def _ctx(browser):  # noqa: F811
    ctx = browser.new_context(viewport={"width": 1360, "height": 900}, locale="zh-TW")
    ctx.set_default_timeout(15000)
    return ctx, ctx.new_page()


def test_regulator_dashboard(browser, live_server, settings):  # noqa: F811
    from ccinspect.web.regulator.demo import seed_market

    settings.LANGUAGE_CODE = "zh-hant"
    org = Organisation.objects.create(name="示範證券股份有限公司", profile={"capital": "120億", "internet_orders": True})
    make_user("boss", org, Role.SECURITY_OFFICER)
    reg = Organisation.objects.create(name="臺灣證券交易所", kind=Organisation.REGULATOR)
    inspector = make_user("inspector", reg, Role.REGULATOR, "查核人員", totp=True)
    seed_market(timezone.localdate(), periods=3)
    live = live_server.url
    ctx, page = _ctx(browser)
    sign_in(page, live, "inspector", inspector)
    page.goto(f"{live}/regulator/")
    page.wait_for_selector("#risk-map .main-svg")
    assert page.locator("#risk-map .scatterlayer .point").count() == 64
    attention = page.locator("#attention tr").count() - 1
    assert attention >= 3 and int(page.inner_text("#block-attention")) >= 1
    page.screenshot(path=str(ARTIFACTS / "20-regulator-risk-map.png"), full_page=True)
    page.click("#tab-now")
    page.wait_for_selector("#risk-now .main-svg")
    assert page.locator("#types tr").count() > 5
    page.screenshot(path=str(ARTIFACTS / "21-regulator-risk-now.png"), full_page=True)
    page.click("#tab-trends")
    page.wait_for_selector("#trend-counts .main-svg")
    page.wait_for_selector("#trend-tiers .main-svg")
    page.screenshot(path=str(ARTIFACTS / "22-regulator-trends.png"), full_page=True)
    page.click("#tier-tabs a:has-text('4')")
    page.wait_for_selector("#trend-counts .main-svg")
    assert "tier=4" in page.url
    # drill down to the broker that needs attention most
    page.click("#tab-map")
    first = page.locator("#attention tr td a").first
    name = first.inner_text()
    first.click()
    page.wait_for_selector("#broker-points .main-svg")
    assert page.inner_text("h1") == name
    assert page.locator("#broker-inspections tr").count() > 10
    page.screenshot(path=str(ARTIFACTS / "23-regulator-broker.png"), full_page=True)
    page.locator("#broker-inspections a").first.click()
    page.wait_for_selector("#insp-status")
    assert page.locator("#submit-inspection").count() == 0  # read-only
    page.select_option("#lang-form select", "en")
    page.wait_for_selector("html[lang=en]")
    page.goto(f"{live}/regulator/")
    page.wait_for_selector("#risk-map .main-svg")
    assert "Risk map" in page.inner_text("h1")
    page.screenshot(path=str(ARTIFACTS / "24-regulator-risk-map-en.png"), full_page=True)
    ctx.close()


def test_incident_register(browser, live_server, settings, tmp_path):  # noqa: F811
    from ccinspect.web.incidents.demo import seed_incidents
    from ccinspect.web.incidents.models import Incident

    settings.LANGUAGE_CODE = "zh-hant"
    org = Organisation.objects.create(name="示範證券股份有限公司", profile={"capital": "120億", "internet_orders": True})
    officer = make_user("demo-officer", org, Role.SECURITY_OFFICER, "資安專責人員")
    assert seed_incidents() == 3
    live = live_server.url
    ctx, page = _ctx(browser)
    sign_in(page, live, "demo-officer")
    page.goto(f"{live}/incidents/")
    overdue = page.locator(".clock[data-state=overdue]")
    assert overdue.count() >= 2  # the leak: initial report and TWSE report
    assert page.locator(".clock[data-state=met]").count() >= 3
    page.wait_for_selector(".clock[data-deadline] .live")
    page.screenshot(path=str(ARTIFACTS / "30-incident-register.png"), full_page=True)
    # record a new incident detected just before midnight yesterday
    page.click("#new-incident")
    detected = timezone.localtime().replace(hour=23, minute=50, second=0, microsecond=0) - dt.timedelta(days=1)
    page.fill("#title", "DDoS 攻擊導致網路下單緩慢")
    page.select_option("#category", "ddos")
    page.fill("#detected_at", detected.strftime("%Y-%m-%dT%H:%M"))
    page.fill("#customers_affected", "150")
    page.click("#record-incident")
    page.wait_for_selector("#clocks")
    inc = Incident.objects.get(title="DDoS 攻擊導致網路下單緩慢")
    initial = page.locator("#clocks .clock[data-stage=initial]")
    assert (detected + dt.timedelta(minutes=30)).strftime("%Y-%m-%d 00:20") in initial.inner_text()
    assert initial.get_attribute("data-state") == "overdue"
    page.fill("#report-at", (detected + dt.timedelta(minutes=25)).strftime("%Y-%m-%dT%H:%M"))
    page.click("#record-report")
    page.wait_for_selector("#clocks .clock[data-stage=initial][data-state=met]")
    page.screenshot(path=str(ARTIFACTS / "31-incident-detail.png"), full_page=True)
    inc.refresh_from_db()
    assert inc.initial_reported_at is not None and inc.created_by == officer
    with page.expect_download() as dl:
        page.goto(f"{live}/incidents/")
        page.click("#export")
    path = tmp_path / "register.xlsx"
    dl.value.save_as(path)
    from openpyxl import load_workbook

    assert load_workbook(path).active.max_row == 5
    ctx.close()
