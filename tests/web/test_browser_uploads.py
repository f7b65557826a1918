"""Upload errors show where the user looks, in chromium: a file over the limit is stopped before it is
sent, with the limit beside the form; a refusal the server gives before reading the body (413) is shown
there too, as text; a Big5 CSV is accepted."""

from __future__ import annotations

import os

import pytest

from ccinspect.web.accounts.models import Role

from .conftest import ARTIFACTS, make_user, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def test_upload_errors_appear_beside_the_form(browser, live_server, settings, tmp_path):
    from ccinspect.web.accounts.models import Organisation
    from ccinspect.web.inspections import services as svc
    from ccinspect.web.inspections.models import Evidence

    settings.LANGUAGE_CODE = "zh-hant"
    svc.ensure_deduction_table()
    org = Organisation.objects.create(name="示範證券", profile={"capital": "120億", "internet_orders": True})
    admin = make_user("boss", org, Role.BROKER_ADMIN, "資訊部經理", totp=True)
    insp = svc.create_inspection(admin, org, "inspection:CC-18000:2025-05")
    item = insp.items.filter(assessable=True).first()
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-TW")
    ctx.set_default_timeout(10000)
    page = ctx.new_page()
    sign_in(page, live_server.url, "boss", admin)
    page.goto(f"{live_server.url}/inspections/{insp.pk}/")
    row = page.locator(f"#item-{item.pk}")
    form = row.locator("form[data-max-bytes]")

    big = tmp_path / "big.txt"
    big.write_bytes(b"a" * (100 * 1024))  # the tests' limit is 64 KiB
    form.locator("input[type=file]").set_input_files(str(big))
    form.locator("button").click()
    err = row.locator("p.upload-error")
    err.wait_for()
    assert "上限" in err.inner_text() and "0.0625" in err.inner_text()
    assert Evidence.objects.count() == 0  # nothing was sent
    page.screenshot(path=str(ARTIFACTS / "upload-too-large.png"))

    # the server's own refusal (413, before the body is read), when the page's check is bypassed
    page.evaluate("document.querySelectorAll('form[data-max-bytes]').forEach(f => f.removeAttribute('data-max-bytes'))")
    huge = tmp_path / "huge.txt"
    huge.write_bytes(b"a" * (1200 * 1024))
    form = row.locator("form[hx-encoding]")
    form.locator("input[type=file]").set_input_files(str(huge))
    form.locator("button").click()
    page.wait_for_function("document.querySelector('p.upload-error') && "
                           "document.querySelector('p.upload-error').textContent.includes('未儲存')")
    assert Evidence.objects.count() == 0

    # a Big5 CSV is evidence
    b5 = tmp_path / "帳號清單.csv"
    b5.write_bytes("user,name\nalice,陳文德\n".encode("cp950"))
    page.goto(f"{live_server.url}/inspections/{insp.pk}/")
    row = page.locator(f"#item-{item.pk}")
    row.locator("input[type=file]").set_input_files(str(b5))
    row.locator("button.secondary").click()
    page.wait_for_selector(f"#item-{item.pk} a:has-text('帳號清單.csv')")
    assert Evidence.objects.count() == 1
    ctx.close()
