"""In Debian's chromium: the continuity dashboard of a broker with the demo register (gaps now, the DR-site
countdown, the last-drill chart), a drill shortfall raised as a finding from it, and the English page.
Screenshots go to test-artifacts/."""

from __future__ import annotations

import os

import pytest
from django.utils import timezone

from ccinspect.web.accounts.models import Organisation, Role

from .conftest import ARTIFACTS, make_user, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def test_continuity_dashboard(browser, live_server, settings):  # noqa: F811
    from ccinspect.web.continuity import services as csvc
    from ccinspect.web.continuity.demo import demo_register
    from ccinspect.web.inspections import services as svc

    settings.LANGUAGE_CODE = "zh-hant"
    svc.ensure_deduction_table()
    org = Organisation.objects.create(name="示範證券股份有限公司", profile={"capital": "120億", "internet_orders": True})
    officer = make_user("officer", org, Role.SECURITY_OFFICER, "資安專責人員")
    svc.create_inspection(officer, org, "inspection:CC-18000:2025-05")
    csvc.replace_register(officer, org, demo_register(timezone.localdate()), source="continuity.yaml")
    live = live_server.url
    ctx = browser.new_context(viewport={"width": 1360, "height": 900}, locale="zh-TW")
    ctx.set_default_timeout(15000)
    page = ctx.new_page()
    sign_in(page, live, "officer")
    page.click("nav a[href='/continuity/']")
    page.wait_for_selector("#drill-chart .main-svg")
    assert "營運持續管理" in page.inner_text("h1")
    assert page.locator("tr.gap").count() == 9
    assert int(page.inner_text("#days-left")) == (csvc.status_for(org).dr_outlook.days_left)
    assert page.locator("#drill-chart .trace.bars").count() >= 2
    assert page.locator("#dr-outlook li.upcoming").count() == 2
    page.screenshot(path=str(ARTIFACTS / "30-continuity-dashboard.png"), full_page=True)
    # the BCP drill that missed its RTO target → a finding in the remediation workflow
    page.locator("tr.gap[data-rule='drill-shortfall'] form.raise button").click()
    page.wait_for_selector("tr.gap[data-rule='drill-shortfall'] a.raised")
    link = page.locator("tr.gap[data-rule='drill-shortfall'] a.raised")
    assert link.inner_text().startswith("F-")
    link.click()
    page.wait_for_url("**/findings/**")
    assert "BCP-2025-2" in page.content()
    page.select_option("#lang-form select", "en")
    page.wait_for_selector("html[lang=en]")
    page.goto(f"{live}/continuity/")
    page.wait_for_selector("#drill-chart .main-svg")
    assert "Gaps now" in page.inner_text("#gaps h2")
    page.screenshot(path=str(ARTIFACTS / "31-continuity-dashboard-en.png"), full_page=True)
    ctx.close()
