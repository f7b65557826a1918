"""In Debian's chromium, under the real Content-Security-Policy (no inline script, no inline style): the pages
with charts and scripts (broker dashboard, inspection detail with an htmx update, incidents with their
count-down clocks, continuity, the regulator's four pages, the API docs page) and every page whose styles
live in static/ccinspect/*.css draw completely, with those styles applied, and the browser reports no policy
violation. The stylesheets that stand in for what plotly.js would inject match the bundled plotly.js."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

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


def _css(page, selector, prop):
    return page.eval_on_selector(selector, "(el, p) => getComputedStyle(el)[p]", prop)


def _rem(page, n):
    return f"{n * float(page.evaluate('parseFloat(getComputedStyle(document.documentElement).fontSize)')):g}px"


def test_pages_draw_under_the_policy(browser, live_server, settings):  # noqa: F811
    from ccinspect.web.continuity import services as csvc
    from ccinspect.web.continuity.demo import demo_register
    from ccinspect.web.continuity.models import CoreSystem
    from ccinspect.web.incidents.demo import seed_incidents
    from ccinspect.web.incidents.models import Incident
    from ccinspect.web.inspections import services as svc
    from ccinspect.web.regulator.demo import seed_market

    settings.LANGUAGE_CODE = "zh-hant"
    svc.ensure_deduction_table()
    org = Organisation.objects.create(name="示範證券股份有限公司", profile={"capital": "120億", "internet_orders": True})
    officer = make_user("demo-officer", org, Role.SECURITY_OFFICER, "資安專責人員")
    insp = svc.create_inspection(officer, org, "inspection:CC-18000:2025-05")
    deficient = svc.set_item_result(officer, insp.items.filter(assessable=True).last(), "deficient", notes="gap")
    finding = svc.raise_finding(officer, deficient, title="弱密碼", severity="high", due_date="2025-07-31")
    csvc.replace_register(officer, org, demo_register(timezone.localdate()), source="continuity.yaml")
    reg = Organisation.objects.create(name="臺灣證券交易所", kind=Organisation.REGULATOR)
    inspector = make_user("inspector", reg, Role.REGULATOR, "查核人員", totp=True)
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
    # plotly.js's own rules come from static/ccinspect/plotly.css (it injects none under this policy)
    assert _css(page, "#chart-findings .modebar", "position") == "absolute"
    # the overdue incidents card links incidents.css from the page body
    assert _css(page, "#incident-alerts .clock", "display") == "inline-block"
    _check(page, console, "dashboard")

    page.goto(f"{live}/inspections/{insp.pk}/")
    deep = insp.items.filter(depth=2).first()  # indented by its depth in the catalog: a class, no style attribute
    assert _css(page, f"#item-{deep.pk}", "padding-left") == _rem(page, 2)
    item = insp.items.filter(assessable=True).first()
    row = page.locator(f"#item-{item.pk}")
    row.locator("select[name=result]").select_option("compliant")
    row.locator("button[type=submit]").first.click()
    page.wait_for_selector(f"#item-{item.pk} [data-result=compliant]")  # htmx swapped the row in
    _check(page, console, "inspection detail")

    page.goto(f"{live}/findings/{finding.pk}/")
    _check(page, console, "finding")

    page.goto(f"{live}/incidents/")
    page.wait_for_selector(".clock[data-deadline] .live")  # clocks.js counts down
    assert _css(page, ".clock", "display") == "inline-block"
    _check(page, console, "incidents")
    page.goto(f"{live}/incidents/{Incident.objects.filter(organisation=org).first().pk}/")
    page.wait_for_selector(".clock[data-deadline] .live")
    _check(page, console, "incident")
    page.goto(f"{live}/incidents/new/")
    assert _css(page, "label:has(input[name=personal_data])", "display") == "inline-block"
    assert _css(page, ".cols", "display") == "grid"
    _check(page, console, "new incident")

    page.goto(f"{live}/continuity/")
    page.wait_for_selector("#drill-chart .main-svg")
    assert page.locator("header .bar").bounding_box()["height"] > 30  # the page header is drawn in full
    assert _css(page, ".countdown progress", "background-color") == "rgb(232, 234, 237)"
    assert _css(page, ".kpis", "display") == "flex"
    _check(page, console, "continuity")
    system = CoreSystem.objects.filter(organisation=org).first()
    page.goto(f"{live}/continuity/systems/{system.pk}/")
    assert _css(page, "form.mt-10", "margin-top") == _rem(page, 1)
    assert _css(page, ".cont-nav .button", "font-size") == _rem(page, .85)  # continuity.css
    _check(page, console, "continuity record")

    page.goto(f"{live}/reports/statement/")
    assert _css(page, ".card.narrow", "max-width") == "820px"
    _check(page, console, "statement")
    # the reports as previewed in the browser: the PDF's own HTML, whose response allows its inline styles
    names = "&".join(f"{r}_name=N&{r}_title=T" for r in ("ciso", "chairman", "president", "chief_auditor"))
    for name, url in (("statement preview", f"/reports/statement/?broker={org.pk}&year=2025&format=html&{names}"),
                      ("inspection report preview", f"/reports/inspections/{insp.pk}/html/")):
        page.goto(live + url)
        assert _css(page, "h1", "font-size") != "32px", name  # the report's stylesheet applies, not the default
        _check(page, console, name)

    page.goto(f"{live}/accounts/mfa/")
    page.locator("details summary").first.click()
    assert _css(page, "p.break-all", "word-break") == "break-all"
    _check(page, console, "two-factor setup")

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
    sign_in(page, live, "inspector", inspector)
    page.goto(f"{live}/regulator/")
    page.wait_for_selector("#risk-map .main-svg")
    assert page.locator("#risk-map .scatterlayer .point").count() == 64
    assert _css(page, ".tabs", "display") == "flex"
    assert _css(page, ".filters input[name=share]", "width") == _rem(page, 6)
    _check(page, console, "risk map")
    page.goto(f"{live}/regulator/now/")
    page.wait_for_selector("#risk-now .main-svg")
    assert _css(page, ".card.span-2", "grid-column-start") == "span 2"
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
    page.goto(f"{live}/audit/")
    _check(page, console, "audit trail")
    ctx.close()


def test_plotly_stylesheets_match_the_bundle(browser):
    """static/ccinspect/plotly*.css hold what the bundled plotly.js would inject; after an upgrade of plotly,
    scripts/plotly_css.py writes them again."""
    path = Path(__file__).resolve().parents[2] / "scripts" / "plotly_css.py"
    spec = importlib.util.spec_from_file_location("plotly_css", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    page = browser.new_page()
    styles = mod.injected(page)
    page.close()
    template = mod.TEMPLATE.read_text(encoding="utf-8")
    for name, (sid, text) in styles.items():
        assert (mod.STATIC / name).read_text(encoding="utf-8") == text, f"{name}: run scripts/plotly_css.py"
        assert f'id="{sid}"' in template, f"{mod.TEMPLATE.name}: the id of {name} is now {sid}"
