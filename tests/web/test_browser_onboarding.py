"""In Debian's chromium, in zh-TW and in English: a site administrator onboards a broker (a refused form first:
no capital), creates its users, disables one and unlocks another after three wrong passwords. Screenshots go
to test-artifacts/."""

from __future__ import annotations

import os

import pytest

from ccinspect.web.accounts.models import AuditEvent, Organisation, Role, User

from .conftest import ARTIFACTS, PASSWORD, make_user, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # playwright's sync API runs an event loop

TEXT = {  # what the pages say, by language
    "zh-hant": {"no_capital": "未填實收資本額或指撥營運資金", "saved": "已儲存", "disabled": "已停用",
                "locked": "已鎖定", "unlocked": "已解除", "onboard": "新增券商"},
    "en": {"no_capital": "no paid-in or allocated operating capital", "saved": "is saved", "disabled": "disabled",
           "locked": "locked out", "unlocked": "is unlocked", "onboard": "Onboard a broker"},
}


@pytest.mark.parametrize("lang", ["zh-hant", "en"])
def test_onboard_a_broker_create_users_disable_and_unlock(browser, live_server, settings, lang):
    from ccinspect.web.inspections import services as svc

    settings.LANGUAGE_CODE = "zh-hant"
    svc.ensure_deduction_table()
    site = make_user("siteadmin", None, Role.SITE_ADMIN, "系統管理員", totp=True)
    live, t, n = live_server.url, TEXT[lang], f"{lang[:2]}"
    ctx = browser.new_context(viewport={"width": 1280, "height": 1000}, locale="zh-TW")
    ctx.set_default_timeout(15000)
    page = ctx.new_page()
    sign_in(page, live, "siteadmin", site)
    if lang == "en":
        page.select_option("#lang-form select", "en")
        page.wait_for_selector("html[lang=en]")

    # onboard: the form first refuses a broker without capital, field by field, and saves nothing
    page.click("#nav-brokers")
    page.click("#broker-new")
    assert t["onboard"] in page.inner_text("h1")
    name = "晨星證券股份有限公司" if lang == "zh-hant" else "Morningstar Securities"
    page.fill("#id_name", name)
    page.fill("#id_broker_code", f"9{n.upper()}1")
    page.check("#id_mobile_app")
    page.check("#id_cloud_user")
    page.fill("#id_core_systems", "下單系統\n帳務系統")
    page.fill("#id_capital_as_of", "113/06/30")
    page.click("#broker-save")
    page.wait_for_selector(".field-error")
    assert t["no_capital"] in page.inner_text(".field-error")
    assert not Organisation.objects.filter(name=name).exists()
    page.screenshot(path=str(ARTIFACTS / f"60-{n}-broker-refused.png"), full_page=True)
    page.fill("#id_capital", "120億")
    page.click("#broker-save")
    page.wait_for_selector("#broker-tier")
    assert t["saved"] in page.inner_text(".msg") and page.inner_text("#broker-tier") == "2"
    assert "2024-06-30" in page.inner_text("#broker-history")
    page.screenshot(path=str(ARTIFACTS / f"61-{n}-broker-onboarded.png"), full_page=True)
    org = Organisation.objects.get(name=name)
    prof = org.broker_profile()  # the form started from BrokerProfile's defaults, plus what was ticked
    assert prof.internet_orders and prof.traditional_orders and prof.mobile_app and prof.cloud_user
    assert not prof.voice_orders and prof.fiscal_year_end == "12-31" and prof.broker_code == f"9{n.upper()}1"

    # its users: an officer and an auditor (the initial password is shown once)
    initial = {}
    for username, role in ((f"{n}-officer", Role.SECURITY_OFFICER), (f"{n}-auditor", Role.COMPUTER_AUDITOR)):
        page.goto(f"{live}/accounts/users/")
        form = page.locator("#user-create")
        form.locator("select[name=organisation]").select_option(str(org.pk))
        form.locator("input[name=username]").fill(username)
        form.locator("input[name=last_name]").fill("林")
        form.locator("select[name=role]").select_option(role)
        form.locator("button").click()
        page.wait_for_selector("#initial-password")
        initial[username] = page.inner_text("#initial-password code")
    page.screenshot(path=str(ARTIFACTS / f"62-{n}-users-created.png"), full_page=True)
    assert User.objects.filter(organisation=org).count() == 2

    # disable the auditor, with a reason
    page.goto(f"{live}/accounts/users/?q={n}-")
    row = page.locator(f"#user-{n}-auditor")
    row.locator("input[name=reason]").fill("調職")
    row.locator("button[value=disable]").click()
    page.wait_for_selector(f"#user-{n}-auditor .badge.error")
    assert t["disabled"] in page.inner_text(f"#user-{n}-auditor")
    assert not User.objects.get(username=f"{n}-auditor").is_active

    # the officer mistypes the password three times and is locked out
    other = browser.new_context(locale="zh-TW").new_page()
    for _ in range(3):
        other.goto(f"{live}/accounts/login/")
        other.fill("#username", f"{n}-officer")
        other.fill("#password", "not-the-password-1")
        other.click("#signin")
    assert other.locator("text=429").count() or "鎖定" in other.content() or "locked" in other.content().lower()
    page.goto(f"{live}/accounts/users/?status=locked")
    row = page.locator(f"#user-{n}-officer")
    assert t["locked"] in row.inner_text()
    page.screenshot(path=str(ARTIFACTS / f"63-{n}-users-locked-and-disabled.png"), full_page=True)
    row.locator("input[name=reason]").fill("本人電話確認身分")
    row.locator("button[value=unlock]").click()
    page.wait_for_selector(".msg")
    assert t["unlocked"] in page.inner_text(".msg")
    page.goto(f"{live}/accounts/users/?q={n}-")
    page.screenshot(path=str(ARTIFACTS / f"64-{n}-users-after-unlock.png"), full_page=True)

    # the officer signs in with the initial password and is asked to change it
    other.goto(f"{live}/accounts/login/")
    other.fill("#username", f"{n}-officer")
    other.fill("#password", initial[f"{n}-officer"])
    other.click("#signin")
    other.wait_for_url("**/accounts/password/**")
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"login_failed", "lockout", "unlock", "disable"} <= actions
    assert PASSWORD not in initial.values()
    ctx.close()
