"""In Debian's chromium, under the real Content-Security-Policy: the pages with charts and scripts (broker
dashboard, inspection detail with an htmx update, incidents with their count-down clocks, continuity, the
regulator's four pages, the API docs page) draw completely and the browser reports no policy violation."""

from __future__ import annotations

import os

import pytest
from django.utils import timezone

from ccinspect.web.accounts.models import Organisation, Role

from .conftest import ARTIFACTS, make_user, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

# Every violation the page sees, with where it came from (securitypolicyviolation fires for each one).
WATCH = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", e => window.__csp.push(
  [e.violatedDirective, e.blockedURI, e.sourceFile, e.lineNumber, e.sample].join(" | ")));
"""
# What chromium prints about policies it enforces (CSP, Permissions-Policy) that the event does not cover.
POLICY_WORDS = ("Content Security Policy", "Content-Security-Policy", "Permissions-Policy", "Refused to",
                "Unrecognized feature")


def _watched(browser):
    ctx = browser.new_context(viewport={"width": 1360, "height": 900}, locale="zh-TW")
    ctx.set_default_timeout(15000)
    ctx.add_init_script(WATCH)
    page = ctx.new_page()
    console: list[str] = []
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
    return ctx, page, console


def _check(page, console, where):
    violations = page.evaluate("window.__csp || []")
    assert violations == [], f"{where}: CSP violations {violations}"
    policy = [m for m in console if any(w in m for w in POLICY_WORDS) or m.startswith("pageerror")]
    assert policy == [], f"{where}: {policy}"


def test_pages_draw_under_the_policy(browser, live_server, settings):  # noqa: F811
    from ccinspect.web.continuity import services as csvc
    from ccinspect.web.continuity.demo import demo_register
    from ccinspect.web.incidents.demo import seed_incidents
    from ccinspect.web.inspections import services as svc
    from ccinspect.web.regulator.demo import seed_market

    settings.LANGUAGE_CODE = "zh-hant"
    svc.ensure_deduction_table()
    org = Organisation.objects.create(name="示範證券股份有限公司", profile={"capital": "120億", "internet_orders": True})
    officer = make_user("demo-officer", org, Role.SECURITY_OFFICER, "資安專責人員")
    insp = svc.create_inspection(officer, org, "inspection:CC-18000:2025-05")
    csvc.replace_register(officer, org, demo_register(timezone.localdate()), source="continuity.yaml")
    reg = Organisation.objects.create(name="臺灣證券交易所", kind=Organisation.REGULATOR)
    make_user("inspector", reg, Role.REGULATOR, "查核人員")
    seed_market(timezone.localdate(), periods=2)
    assert seed_incidents() == 3  # for demo-officer's broker, with clocks still running
    live = live_server.url

    ctx, page, console = _watched(browser)
    page.goto(f"{live}/accounts/login/")
    assert page.evaluate("window.__csp") == []  # the init script ran and the login page is clean
    sign_in(page, live, "demo-officer")
    page.wait_for_selector("#chart-findings .main-svg")
    page.wait_for_selector("#chart-compliance .main-svg")
    page.hover("#chart-findings .main-svg")  # the mode bar draws (plotly adds its style rules then)
    _check(page, console, "dashboard")

    page.goto(f"{live}/inspections/{insp.pk}/")
    item = insp.items.filter(assessable=True).first()
    row = page.locator(f"#item-{item.pk}")
    row.locator("select[name=result]").select_option("compliant")
    row.locator("button[type=submit]").first.click()
    page.wait_for_selector(f"#item-{item.pk} [data-result=compliant]")  # htmx swapped the row in
    _check(page, console, "inspection detail")

    page.goto(f"{live}/incidents/")
    page.wait_for_selector(".clock[data-deadline] .live")  # clocks.js counts down
    _check(page, console, "incidents")

    page.goto(f"{live}/continuity/")
    page.wait_for_selector("#drill-chart .main-svg")
    _check(page, console, "continuity")

    # the language switch (app.js submits the form on change)
    page.select_option("#lang-form select", "en")
    page.wait_for_selector("html[lang=en]")
    _check(page, console, "language switch")

    page.goto(f"{live}/api/docs")
    page.wait_for_selector(".swagger-ui .opblock")
    assert page.locator(".swagger-ui .opblock").count() > 20
    page.locator(".swagger-ui .opblock-summary").first.click()  # expand one operation
    page.wait_for_selector(".swagger-ui .opblock.is-open")
    page.screenshot(path=str(ARTIFACTS / "40-api-docs-under-csp.png"))
    _check(page, console, "/api/docs")
    ctx.close()

    ctx, page, console = _watched(browser)
    sign_in(page, live, "inspector")
    page.goto(f"{live}/regulator/")
    page.wait_for_selector("#risk-map .main-svg")
    assert page.locator("#risk-map .scatterlayer .point").count() == 64
    _check(page, console, "risk map")
    page.goto(f"{live}/regulator/now/")
    page.wait_for_selector("#risk-now .main-svg")
    _check(page, console, "risk now")
    page.goto(f"{live}/regulator/trends/")
    page.wait_for_selector("#trend-counts .main-svg")
    page.wait_for_selector("#trend-tiers .main-svg")
    _check(page, console, "trends")
    page.goto(f"{live}/regulator/")
    page.locator("#attention tr td a").first.click()
    page.wait_for_selector("#broker-points .main-svg")
    page.screenshot(path=str(ARTIFACTS / "41-regulator-broker-under-csp.png"), full_page=True)
    _check(page, console, "regulator broker")
    ctx.close()
