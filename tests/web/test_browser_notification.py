"""In Debian's chromium, in Traditional Chinese and in English: a notification sent by the worker to a
loopback gateway, the customer's "this was not me" on the hosted confirmation page (its own server), the
case the officer sees, its escalation to the incident register with the clocks running from the detection
time. Screenshots go to test-artifacts/."""

from __future__ import annotations

import datetime as dt
import os
import threading
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from django.utils import timezone
from tests.notification.loopback import Receiver

from ccinspect.web.accounts.models import Organisation, Role
from ccinspect.web.incidents.models import Incident
from ccinspect.web.notification import services as nsvc
from ccinspect.web.notification.models import Case

from .conftest import ARTIFACTS, make_user, sign_in
from .notify_helpers import gateway, run_worker, scan_rows

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

TEXT = {
    "zh-hant": {"locale": "zh-TW", "nav": "通知客戶", "not_me": "非本人登入", "done": "非您本人", "h1": "確認登入",
                "escalated": "已陳報", "clock": "初步通報"},
    "en": {"locale": "en-GB", "nav": "Customer notification", "not_me": "This was not me", "done": "not yours",
           "h1": "Confirm a sign-in", "escalated": "Escalated", "clock": "nitial"},
}


class _Threaded(ThreadingMixIn, WSGIServer):
    daemon_threads = True


def _confirm_server():
    from ccinspect.web.notification.confirm import ConfirmHandler

    class Quiet(WSGIRequestHandler):
        def log_message(self, *a):
            pass

    srv = make_server("127.0.0.1", 0, ConfirmHandler(), server_class=_Threaded, handler_class=Quiet)

    def serve():
        from django.db import connections

        try:
            srv.serve_forever()
        finally:
            connections.close_all()

    threading.Thread(target=serve, daemon=True).start()
    return srv


@pytest.mark.parametrize("lang", ["zh-hant", "en"])
def test_notification_to_incident_walk(browser, live_server, settings, lang):
    t = TEXT[lang]
    settings.LANGUAGE_CODE = "zh-hant"
    from ccinspect.web.inspections import services as svc

    svc.ensure_deduction_table()
    org = Organisation.objects.create(name="示範證券股份有限公司", profile={"capital": "120億", "internet_orders": True})
    officer = make_user("officer", org, Role.SECURITY_OFFICER, "資安專責人員")
    detected = timezone.now().replace(second=0, microsecond=0) - dt.timedelta(minutes=10)
    with Receiver("") as r:
        gw = gateway(officer, org, r.url, language=lang)
        r.secret = gw.secret
        rows = scan_rows(2)
        rows[0]["first"] = (detected - dt.timedelta(minutes=3)).isoformat()
        nsvc.request_notifications(org, rows, detected, user=officer, source="alerts.json")
        run_worker()
    token = next(x["body"]["confirmation"]["token"] for x in r.received if x["body"]["account"] == rows[0]["account"])
    assert "http" not in r.received[0]["body"]["template"]["text"]
    srv = _confirm_server()
    confirm = f"http://127.0.0.1:{srv.server_address[1]}/"
    try:
        # the customer, on the hosted page (its own server)
        cctx = browser.new_context(viewport={"width": 480, "height": 760}, locale=t["locale"])
        cctx.set_default_timeout(15000)
        cp = cctx.new_page()
        cp.goto(confirm)
        if lang == "en":
            cp.click("#lang-en")
            cp.wait_for_selector("html[lang=en]")
        assert t["h1"] in cp.inner_text("h1")
        cp.fill("#code", "wrong-code")
        cp.click("#check-code")
        cp.wait_for_selector("#invalid")
        assert cp.locator("#login-at").count() == 0  # a stranger sees nothing
        cp.fill("#code", token)
        cp.click("#check-code")
        cp.wait_for_selector("#answer-not-me")
        assert cp.inner_text("#login-at") == timezone.localtime(detected - dt.timedelta(minutes=3)).strftime("%Y-%m-%d %H:%M")
        cp.screenshot(path=str(ARTIFACTS / f"40-confirm-{lang}.png"), full_page=True)
        assert t["not_me"] in cp.inner_text("#answer-not-me")
        cp.click("#answer-not-me")
        cp.wait_for_selector("#done")
        assert t["done"] in cp.inner_text("#done")
        cp.screenshot(path=str(ARTIFACTS / f"41-confirm-done-{lang}.png"), full_page=True)
        cctx.close()
    finally:
        srv.shutdown()
        srv.server_close()
    case = Case.objects.get()
    assert case.detected_at == detected
    # the officer: the records, the case, the escalation
    live = live_server.url
    ctx = browser.new_context(viewport={"width": 1360, "height": 900}, locale=t["locale"])
    ctx.set_default_timeout(15000)
    page = ctx.new_page()
    sign_in(page, live, "officer")
    if lang == "en":  # the header's switch sets this cookie (its script is tested in test_browser.py)
        from django.conf import settings as dj

        ctx.add_cookies([{"name": dj.LANGUAGE_COOKIE_NAME, "value": "en", "url": live}])
        page.goto(f"{live}/dashboard/")
        page.wait_for_selector("html[lang=en]")
    page.click("nav a[href='/notification/']")
    page.wait_for_selector("#notifications")
    assert t["nav"] in page.inner_text("h1")
    assert page.inner_text("#f-sent") == "2" and page.inner_text("#f-not-me") == "1" and page.inner_text("#f-cases") == "1"
    page.screenshot(path=str(ARTIFACTS / f"42-notifications-{lang}.png"), full_page=True)
    page.click(f"#n-{case.notification_id} a[href='/notification/cases/{case.pk}/']")
    page.wait_for_selector("#escalate")
    assert page.inner_text("#case-account") == rows[0]["account"]
    assert page.inner_text("#case-detected") == timezone.localtime(detected).strftime("%Y-%m-%d %H:%M")
    page.screenshot(path=str(ARTIFACTS / f"43-case-{lang}.png"), full_page=True)
    page.fill("#title", "帳號遭盜用" if lang == "zh-hant" else "Account takeover")
    page.click("#escalate")
    page.wait_for_url("**/incidents/**")
    inc = Incident.objects.get()
    assert inc.detected_at == detected
    page.wait_for_selector("#clocks")
    assert timezone.localtime(detected).strftime("%Y-%m-%d %H:%M") in page.inner_text("h1 + p")
    assert t["clock"] in page.inner_text("#clocks")
    page.screenshot(path=str(ARTIFACTS / f"44-incident-from-case-{lang}.png"), full_page=True)
    page.goto(f"{live}/notification/cases/{case.pk}/")
    assert t["escalated"] in page.inner_text("h1") and page.locator("#incident-link").inner_text() == inc.code
    ctx.close()
