"""The main flow in Debian's chromium: sign in with MFA, open an inspection, mark an item deficient with
evidence, raise a finding, submit retest evidence, close it (as the auditor), see the dashboard change.
Screenshots go to test-artifacts/."""

from __future__ import annotations

import os

import pytest

from ccinspect.web.accounts.models import Role

from .conftest import ARTIFACTS, make_user, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # playwright's sync API runs an event loop

def test_main_flow(browser, live_server, settings, tmp_path):
    from ccinspect.web.accounts.models import Organisation
    from ccinspect.web.inspections import services as svc

    settings.LANGUAGE_CODE = "zh-hant"
    svc.ensure_deduction_table()
    org = Organisation.objects.create(name="示範證券", profile={"capital": "120億", "internet_orders": True})
    admin = make_user("boss", org, Role.BROKER_ADMIN, "資訊部經理", totp=True)
    make_user("audit", org, Role.COMPUTER_AUDITOR, "電腦稽核主管")
    insp = svc.create_inspection(admin, org, "inspection:CC-18000:2025-05")
    live = live_server.url

    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-TW")
    ctx.set_default_timeout(10000)
    page = ctx.new_page()
    # sign in with password + TOTP
    page.goto(f"{live}/accounts/login/")
    page.screenshot(path=str(ARTIFACTS / "01-login.png"))
    sign_in(page, live, "boss", admin)
    assert page.inner_text("#open-findings") == "0"
    page.screenshot(path=str(ARTIFACTS / "02-dashboard-before.png"), full_page=True)

    # open the inspection, mark the first assessable item deficient (htmx, no reload), attach evidence
    page.goto(f"{live}/inspections/{insp.pk}/")
    item = insp.items.filter(assessable=True).first()
    row = page.locator(f"#item-{item.pk}")
    row.locator("select[name=result]").select_option("deficient")
    row.locator("input[name=notes]").fill("密碼長度設定不足")
    row.locator("button[type=submit]").first.click()
    page.wait_for_selector(f"#item-{item.pk} [data-result=deficient]")
    evidence = tmp_path / "密碼原則截圖.txt"
    evidence.write_text("MinimumPasswordLength = 6\n", encoding="utf-8")
    page.locator(f"#item-{item.pk} input[type=file]").set_input_files(str(evidence))
    page.locator(f"#item-{item.pk} button.secondary").click()
    page.wait_for_selector(f"#item-{item.pk} a:has-text('密碼原則截圖.txt')")
    page.screenshot(path=str(ARTIFACTS / "03-inspection-deficient.png"), full_page=False)

    # raise a finding
    page.locator(f"#item-{item.pk} a.button").click()
    page.fill("#title", "密碼最小長度不足")
    page.select_option("#severity", "high")
    page.fill("#remediation_plan", "將密碼最小長度調整為 10 碼")
    page.click("#raise-finding")
    page.wait_for_selector("#finding-status")
    page.goto(f"{live}/dashboard/")
    assert page.inner_text("#open-findings") == "1"
    page.screenshot(path=str(ARTIFACTS / "04-dashboard-open-finding.png"), full_page=True)

    # remediate: start, retest evidence, ready for retest
    page.goto(f"{live}/findings/")
    page.click("a:has-text('F-')")
    page.click("#to-in-progress")
    retest = tmp_path / "retest.txt"
    retest.write_text("MinimumPasswordLength = 10\n")
    page.set_input_files("#retest-file", str(retest))
    page.click("#upload-retest")
    page.wait_for_selector("text=retest.txt")
    page.click("#to-ready")
    page.wait_for_selector("#finding-status")
    finding_url = page.url
    page.screenshot(path=str(ARTIFACTS / "05-finding-ready.png"), full_page=True)
    ctx.close()

    # the computer auditor closes it
    ctx2 = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-TW")
    ctx2.set_default_timeout(10000)
    page2 = ctx2.new_page()
    sign_in(page2, live, "audit")
    page2.goto(finding_url)
    page2.click("#close-finding")
    page2.wait_for_selector("#finding-status")
    assert page2.inner_text("#finding-status") == "已結案"
    page2.screenshot(path=str(ARTIFACTS / "06-finding-closed.png"), full_page=True)
    page2.goto(f"{live}/dashboard/")
    assert page2.inner_text("#open-findings") == "0"
    page2.wait_for_selector("#chart-compliance .main-svg")
    page2.screenshot(path=str(ARTIFACTS / "07-dashboard-after.png"), full_page=True)
    # English
    page2.select_option("#lang-form select", "en")
    page2.wait_for_selector("text=Open findings")
    page2.screenshot(path=str(ARTIFACTS / "08-dashboard-en.png"), full_page=True)
    ctx2.close()


def _nav_rows(page) -> int:
    """How many distinct lines the header's nav links sit on."""
    tops = page.eval_on_selector_all("header nav a", "els => els.map(e => Math.round(e.getBoundingClientRect().top))")
    rows: list[int] = []
    for t in sorted(tops):
        if not rows or t - rows[-1] > 8:
            rows.append(t)
    return len(rows)


def test_header_is_a_horizontal_bar(browser, live_server, settings):
    """A broker admin sees every link: at 1300px the nav is one line in both languages, the header stays
    short; below 900px it wraps into a few full-width lines, never a one-link-per-line column."""
    from ccinspect.web.accounts.models import Organisation
    from ccinspect.web.inspections import services as svc

    settings.LANGUAGE_CODE = "zh-hant"
    svc.ensure_deduction_table()
    org = Organisation.objects.create(name="示範證券股份有限公司", profile={"capital": "120億"})
    admin = make_user("boss", org, Role.BROKER_ADMIN, "資訊部經理", totp=True)
    live = live_server.url
    ctx = browser.new_context(viewport={"width": 1300, "height": 700}, locale="en-US")
    ctx.set_default_timeout(10000)
    page = ctx.new_page()
    sign_in(page, live, "boss", admin)
    for lang in ("zh-hant", "en"):
        if lang == "en":
            page.select_option("#lang-form select", "en")
            page.wait_for_selector("header nav a:has-text('Dashboard')")
        page.set_viewport_size({"width": 1300, "height": 700})
        assert _nav_rows(page) == 1, lang
        assert page.eval_on_selector("header", "e => e.getBoundingClientRect().height") < 130, lang
        page.screenshot(path=str(ARTIFACTS / f"09-header-1300-{lang}.png"), clip={"x": 0, "y": 0, "width": 1300,
                                                                                 "height": 300})
        page.set_viewport_size({"width": 820, "height": 900})
        n_links = page.eval_on_selector_all("header nav a", "els => els.length")
        assert _nav_rows(page) < n_links / 2, lang
        page.screenshot(path=str(ARTIFACTS / f"10-header-820-{lang}.png"), full_page=False)
        page.set_viewport_size({"width": 400, "height": 800})
        page.screenshot(path=str(ARTIFACTS / f"11-header-400-{lang}.png"), full_page=False)
    ctx.close()
