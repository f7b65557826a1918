"""Customer notification (point 16): dispatch through the real worker to a real loopback gateway, retries,
e-mail through a real relay, the signed callback as a gateway calls it, cases, escalation, follow-up,
isolation, the audit trail and the checklist item."""

from __future__ import annotations

import datetime as dt
import json
import threading
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest
from django.test import Client
from django.utils import timezone
from tests.notification.loopback import Mailbox, Receiver

from ccinspect.notification import contract
from ccinspect.web.accounts.models import AuditEvent
from ccinspect.web.incidents.models import Incident
from ccinspect.web.inspections import services as isvc
from ccinspect.web.notification import services as nsvc
from ccinspect.web.notification.models import Attempt, Case, Notification

from .conftest import login_client, token_for
from .notify_helpers import DETECTED, gateway, run_worker, run_worker_until, scan_rows, signed_answer

pytestmark = pytest.mark.django_db(transaction=True)


def _token_of(receiver, account):
    return next(r["body"]["confirmation"]["token"] for r in receiver.received if r["body"]["account"] == account)


def test_dispatch_in_the_worker_signed_and_without_contact_details(world):
    with Receiver("") as r:
        gw = gateway(world.officer, world.a, r.url)
        r.secret = gw.secret
        out = nsvc.request_notifications(world.a, scan_rows(3), DETECTED, user=world.officer, source="alerts.json")
        assert out["requested"] == 3
        # nothing is sent in the request: the worker sends
        assert r.received == [] and set(Notification.objects.values_list("status", flat=True)) == {"queued"}
        run_worker()
    assert len(r.received) == 3 and r.bad_signatures == 0
    body = r.received[0]["body"]
    assert set(body) == {"version", "type", "id", "broker", "account", "reason", "kind", "login_at", "place",
                         "confirmation", "template"}
    assert body["place"] == "203.0.113.0/24"  # the rough place, not the address
    assert body["template"]["language"] == "zh-hant" and "http" not in body["template"]["text"]
    assert body["login_at"].startswith("2025-05-02T09:4")
    for n in Notification.objects.all():
        assert n.status == "sent" and n.follow_up_due_at == n.sent_at + dt.timedelta(hours=24)
        assert list(n.attempts.values_list("number", "ok", "status_code")) == [(1, True, 200)]
        # only the token's digest is stored
        token = _token_of(r, n.account)
        assert n.token_digest == contract.token_digest(token) and token not in json.dumps(list(
            Notification.objects.values()), default=str)
    # the same scan again: nothing twice
    again = nsvc.request_notifications(world.a, scan_rows(3), DETECTED, user=world.officer)
    assert again["requested"] == 0 and again["already_requested"] == 3


def test_500_is_retried_with_back_off_each_attempt_kept(world):
    with Receiver("", "flaky", fail_first=2) as r:
        gw = gateway(world.officer, world.a, r.url, backoff_seconds=1)
        r.secret = gw.secret
        nsvc.request_notifications(world.a, scan_rows(1), DETECTED, user=world.officer)
        n = Notification.objects.get()
        run_worker_until(lambda: Notification.objects.get().status == "sent")
    attempts = list(Attempt.objects.filter(notification=n).values_list("number", "ok", "status_code"))
    assert attempts == [(1, False, 500), (2, False, 500), (3, True, 200)]
    a = list(Attempt.objects.filter(notification=n))
    assert (a[1].at - a[0].at).total_seconds() >= 1  # the back-off was waited
    # every attempt is on the audit trail (one entry per dispatch run)
    listed = [a for e in AuditEvent.objects.filter(model="notification.Attempt") for a in e.changes["attempts"]]
    assert sorted((a[1], a[4]) for a in listed) == [(1, 500), (2, 500), (3, 200)]
    # every retry carried the same token (a gateway that got an earlier try sends a valid one)
    assert r.per_delivery[str(n.public_id)] == 3 and len(r.received) == 1


def test_a_gateway_that_times_out_is_given_up_after_max_attempts(world):
    with Receiver("", "timeout", delay=2.5) as r:
        gw = gateway(world.officer, world.a, r.url, timeout_seconds=1, max_attempts=2, backoff_seconds=1)
        r.secret = gw.secret
        nsvc.request_notifications(world.a, scan_rows(1), DETECTED, user=world.officer)
        run_worker_until(lambda: Notification.objects.get().status == "failed")
    n = Notification.objects.get()
    assert [(a.number, a.ok, "timeout" in a.error) for a in n.attempts.all()] == [(1, False, True), (2, False, True)]
    assert nsvc.figures([world.a.pk])["failed"] == 1


def test_email_through_the_brokers_relay_address_looked_up_not_stored(world):
    addresses = {r["account"]: f"{r['account'].lower()}@customer.example" for r in scan_rows(2)}
    with Receiver("", addresses=addresses) as lookup, Mailbox() as box:
        gw = gateway(world.officer, world.a, "", channel="smtp", smtp_host="127.0.0.1", smtp_port=box.port,
                     smtp_sender="security@broker-a.example", address_lookup_url=lookup.url, language="en")
        lookup.secret = gw.secret
        nsvc.request_notifications(world.a, scan_rows(2), DETECTED, user=world.officer)
        run_worker()
    assert sorted(rcpt[0] for _f, rcpt, _m in box.messages) == sorted(addresses.values())
    m = box.messages[0][2]
    assert m["Subject"] == "Sign-in notice"
    assert any(x in m.get_content() for x in ("A1******00", "A1******01")) and "A12345670" not in m.get_content()
    assert set(Notification.objects.values_list("status", flat=True)) == {"sent"}
    stored = json.dumps([list(Notification.objects.values()), list(Attempt.objects.values()),
                         list(AuditEvent.objects.values("changes", "object_repr"))], default=str)
    assert "customer.example" not in stored


@pytest.fixture
def sent(world):
    """Three notifications of broker A sent to a loopback gateway; the gateway's tokens."""
    with Receiver("") as r:
        gw = gateway(world.officer, world.a, r.url)
        r.secret = gw.secret
        nsvc.request_notifications(world.a, scan_rows(3), DETECTED, user=world.officer)
        run_worker()
    world.gw = gw
    world.tokens = {b["body"]["account"]: b["body"]["confirmation"]["token"] for b in r.received}
    return world


def test_the_callback_as_a_gateway_calls_it(sent):
    w, c = sent, Client()
    acc = sorted(sent.tokens)
    resp, body, header = signed_answer(c, w.a.pk, w.gw.secret, w.tokens[acc[0]], "me")
    assert resp.status_code == 200 and resp.json()["answer"] == "me" and resp.json()["case_opened"] is False
    # the same signed request again: a replay
    resp = c.post(f"/api/notification/{w.a.pk}/answers", data=body, content_type="application/json",
                  headers={contract.SIGNATURE_HEADER: header})
    assert resp.status_code == 409 and "replay" in resp.json()["detail"]
    # freshly signed, same token: single use
    resp, *_ = signed_answer(c, w.a.pk, w.gw.secret, w.tokens[acc[0]], "not_me")
    assert resp.status_code == 409 and "already been used" in resp.json()["detail"]
    # wrong secret, stale timestamp, no signature, another broker's endpoint
    assert signed_answer(c, w.a.pk, "not-the-secret", w.tokens[acc[1]], "me")[0].status_code == 401
    stale = int(timezone.now().timestamp()) - 3600
    assert signed_answer(c, w.a.pk, w.gw.secret, w.tokens[acc[1]], "me", timestamp=stale)[0].status_code == 401
    r = c.post(f"/api/notification/{w.a.pk}/answers", data=contract.answer_body(w.tokens[acc[1]], "me"),
               content_type="application/json")
    assert r.status_code == 401
    assert signed_answer(c, w.b.pk, w.gw.secret, w.tokens[acc[1]], "me")[0].status_code == 401  # B has no gateway
    # unknown token, bad answer
    assert signed_answer(c, w.a.pk, w.gw.secret, "no-such-token", "me")[0].status_code == 404
    assert signed_answer(c, w.a.pk, w.gw.secret, w.tokens[acc[1]], "maybe")[0].status_code == 400
    # expired
    Notification.objects.filter(account=acc[2]).update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    assert signed_answer(c, w.a.pk, w.gw.secret, w.tokens[acc[2]], "me")[0].status_code == 410
    # nothing above changed the other notifications
    assert Notification.objects.get(account=acc[1]).answer == ""


def test_not_me_opens_a_case_escalated_with_the_detection_time(sent):
    w, c = sent, Client()
    acc = sorted(sent.tokens)[0]
    resp, *_ = signed_answer(c, w.a.pk, w.gw.secret, w.tokens[acc], "not_me")
    assert resp.status_code == 200 and resp.json()["case_opened"] is True
    case = Case.objects.get()
    assert case.account == acc and case.detected_at == DETECTED and case.status == "open"
    assert case.lock_reset_requested_at is not None and case.lock_reset_done_at is None
    # the broker's systems read the accounts to lock and reset
    api = Client(headers={"Authorization": f"Bearer {token_for(w.officer)}"})
    assert [x["account"] for x in api.get("/api/notification/lock-requests").json()] == [acc]
    reg = Client(headers={"Authorization": f"Bearer {token_for(w.regulator)}"})
    assert reg.get("/api/notification/lock-requests").json() == []
    # the officer escalates it from the page
    page = login_client(Client(), w.officer)
    resp = page.post(f"/notification/cases/{case.pk}/escalate/", {"title": "Account takeover of one customer"})
    case.refresh_from_db()
    inc = Incident.objects.get()
    assert resp.status_code == 302 and resp["Location"] == f"/incidents/{inc.pk}/"
    assert case.status == "escalated" and case.incident == inc
    assert inc.detected_at == DETECTED and inc.category == "account_takeover" and inc.customers_affected == 1
    initial = next(x for x in inc.clocks() if x.stage == "initial")
    assert initial.deadline == DETECTED + dt.timedelta(minutes=30)  # the clocks run from detection
    # a second escalation is refused; the lock-and-reset is recorded once
    with pytest.raises(nsvc.ServiceError):
        nsvc.escalate(w.officer, case)
    nsvc.lock_reset_done(w.officer, case)
    assert api.get("/api/notification/lock-requests").json() == []


def test_a_case_closed_as_not_reportable_needs_a_reason(sent):
    w = sent
    nsvc.answer(w.tokens[sorted(w.tokens)[0]], "not_me", via="api")
    case = Case.objects.get()
    with pytest.raises(nsvc.ServiceError, match="why"):
        nsvc.close_case(w.officer, case, "  ")
    with pytest.raises(Exception):  # noqa: B017 - another broker's officer
        nsvc.close_case(w.officer_b, case, "x")
    nsvc.close_case(w.officer, case, "the customer's family member, confirmed by phone")
    assert Case.objects.get().status == "closed"


def test_unanswered_notifications_are_followed_up(sent):
    w = sent
    acc = sorted(w.tokens)
    nsvc.answer(w.tokens[acc[0]], "me", via="api")
    assert nsvc.follow_up_due() == 0  # not yet due (24 h)
    later = timezone.now() + dt.timedelta(hours=25)
    with Receiver(w.gw.secret) as r:
        w.gw.webhook_url = r.url
        w.gw.save()
        assert nsvc.follow_up_due(now=later) == 2
        run_worker()
    assert sorted(b["body"]["account"] for b in r.received) == acc[1:]
    assert {b["body"]["type"] for b in r.received} == {"follow_up"}
    # the follow-up carries the same token: the customer answers either message
    assert {b["body"]["confirmation"]["token"] for b in r.received} == {w.tokens[a] for a in acc[1:]}
    n = Notification.objects.get(account=acc[1])
    assert n.followed_up_at is not None and n.attempts.filter(follow_up=True, ok=True).count() == 1
    assert Notification.objects.get(account=acc[0]).followed_up_at is None


def test_isolation_other_brokers_and_the_regulator_see_counts_only(sent):
    w = sent
    n = Notification.objects.first()
    nsvc.answer(w.tokens[n.account], "not_me", via="api")
    case = Case.objects.get()
    own = login_client(Client(), w.officer)
    assert n.account in own.get("/notification/").content.decode()
    assert own.get(f"/notification/cases/{case.pk}/").status_code == 200
    for user in (w.officer_b, w.regulator, w.site):
        c = login_client(Client(), user)
        assert c.get(f"/notification/{n.pk}/").status_code == 404
        assert c.get(f"/notification/cases/{case.pk}/").status_code == 404
        page = c.get("/notification/").content.decode()
        for account in w.tokens:
            assert account not in page
    reg = login_client(Client(), w.regulator).get("/notification/").content.decode()
    assert "Broker A" in reg and "<td>3</td>" in reg  # counts
    # the audit trail (which the regulator reads for every broker) keeps the records without account ids
    events = AuditEvent.objects.filter(model__startswith="notification.")
    created = events.get(model="notification.Notification", action="create")
    assert sorted(created.changes["ids"]) == sorted(Notification.objects.values_list("pk", flat=True))
    dispatch = events.get(model="notification.Attempt", action="dispatch")
    assert sorted(a[0] for a in dispatch.changes["attempts"]) == sorted(Attempt.objects.values_list(
        "notification_id", flat=True)) and all(a[3] is True and a[4] == 200 for a in dispatch.changes["attempts"])
    assert events.filter(model="notification.Case").count() == 1
    dump = json.dumps(list(events.values("changes", "object_repr")), ensure_ascii=False)
    for account in w.tokens:
        assert account not in dump
    assert w.gw.secret not in json.dumps(list(AuditEvent.objects.values("changes")))
    assert events.filter(model="notification.Notification", action="update",
                         changes__has_key="answer").exists()  # the answer is on the trail


def test_records_are_kept_three_years(sent):
    n = Notification.objects.first()
    assert (n.keep_until - n.created_at).days >= 3 * 365


def test_the_login_scans_import_requests_the_notifications(world):
    with Receiver("") as r:
        gw = gateway(world.officer, world.a, r.url)
        r.secret = gw.secret
        insp = isvc.create_inspection(world.officer, world.a, "inspection:CC-17010:2025-05")
        scan = {"tool": "ccinspect logins scan", "rules": {"version": "1"}, "summary": {},
                "alerts": [{"id": "A1", "kind": "account_takeover", "severity": "critical",
                            "ref_ids": ["CC-17010.i.c"], "accounts": ["A123456700"], "ips": ["203.0.113.10"]}],
                "notifications": scan_rows(2), "detected_at": DETECTED.isoformat()}
        out = isvc.import_results(world.officer, insp, json.dumps(scan).encode(), source="alerts.json")
        assert out["notifications"]["requested"] == 2
        run_worker()
    assert len(r.received) == 2
    assert set(Notification.objects.values_list("detected_at", flat=True)) == {DETECTED}
    # a bad notification row fails the whole import: nothing attached, nothing requested
    bad = dict(scan, notifications=[{"account": ""}])
    with pytest.raises(isvc.ServiceError, match="no account"):
        isvc.import_results(world.officer, insp, bad)
    assert Notification.objects.count() == 2


def test_a_broker_without_a_gateway_is_told(world):
    insp = isvc.create_inspection(world.officer, world.a, "inspection:CC-17010:2025-05")
    scan = {"alerts": [], "notifications": scan_rows(1)}
    out = isvc.import_results(world.officer, insp, scan)
    assert out["notifications"]["requested"] == 0 and out["notifications"]["not_sent"] == 1


def test_the_checklist_item_for_point_16_takes_its_result_from_the_records(sent):
    w = sent
    acc = sorted(w.tokens)
    insp = isvc.create_inspection(w.officer, w.a, "inspection:CC-17010:2025-05")
    nsvc.answer(w.tokens[acc[0]], "me", via="api")
    nsvc.answer(w.tokens[acc[1]], "not_me", via="api")
    out = nsvc.attach_to_inspection(w.officer, insp)
    assert out["status"] == "fail" and out["counts"]["cases_open"] == 1  # a "not me" not yet decided
    nsvc.close_case(w.officer, Case.objects.get(), "confirmed with the customer")
    out = nsvc.attach_to_inspection(w.officer, insp)
    assert out["status"] == "pass" and out["counts"]["sent"] == 3
    items, point = nsvc.point16_items(insp)
    assert point.id == "network-16" and {i.ref_id for i in items} == set(point.ref_ids) & set(
        insp.items.values_list("ref_id", flat=True))
    from ccinspect.web.inspections.evidence import path_of
    from ccinspect.web.inspections.models import Evidence

    ev = Evidence.objects.filter(item=items[0]).order_by("-id").first()
    data = json.loads(path_of(ev).read_bytes())
    assert data["status"] == "pass" and data["facts"][0]["counts"]["answered"] == 2
    assert data["facts"][0]["links"]["cases"].startswith("/notification/cases/?from=2025-05-01")
    for account in acc:
        assert account not in json.dumps(data)
    # another period: nothing to judge by
    insp2 = isvc.create_inspection(w.officer, w.a, "inspection:CC-17010:2025-03")
    assert nsvc.attach_to_inspection(w.officer, insp2)["status"] == "manual"


def test_templates_no_links_by_default_and_a_preview_that_escapes(world):
    c = login_client(Client(), world.officer)
    r = c.post("/notification/templates/", {"kind": "notification", "language": "en", "subject": "Notice",
                                             "body": "Confirm at https://evil.example/x", "action": "save"})
    assert r.status_code == 400 and "link" in r.content.decode()
    hostile = '<script>alert(1)</script> {account_masked} <img src=x onerror=alert(2)>'
    r = c.post("/notification/templates/", {"kind": "notification", "language": "en", "subject": "<b>S</b>",
                                             "body": hostile, "action": "preview"})
    html = r.content.decode()
    assert r.status_code == 200 and "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html
    assert "<img src=x" not in html and "A1******89" in html and "&lt;b&gt;S&lt;/b&gt;" in html
    r = c.post("/notification/templates/", {"kind": "notification", "language": "en", "subject": "Notice",
                                             "body": "Please confirm in our app: {time} {place}", "action": "save"})
    assert r.status_code == 200
    assert nsvc.template_for(world.a, "notification", "en")[1] == "Please confirm in our app: {time} {place}"
    # links, when the broker allows them for a template
    nsvc.save_template(world.officer, world.a, "follow_up", "en", "s", "see https://broker.example", True)
    # auditors read, only preparers edit
    assert login_client(Client(), world.auditor).get("/notification/templates/").status_code == 403


def _confirm_server():
    from ccinspect.web.notification.confirm import ConfirmHandler

    class Quiet(WSGIRequestHandler):
        def log_message(self, *a):
            pass

    srv = make_server("127.0.0.1", 0, ConfirmHandler(), handler_class=Quiet)

    def serve():
        from django.db import connections

        try:
            srv.serve_forever()
        finally:
            connections.close_all()  # this thread's connection, so the test database can be dropped

    threading.Thread(target=serve, daemon=True).start()
    return srv


def test_the_hosted_confirmation_page_is_its_own_process_and_tells_strangers_nothing(sent, settings):
    import re
    import urllib.error
    import urllib.request
    from http.cookiejar import CookieJar

    w = sent
    srv = _confirm_server()
    base = f"http://127.0.0.1:{srv.server_address[1]}/"
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

    def get(path=""):
        try:
            r = opener.open(base + path, timeout=5)
            return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def post(fields):
        status, page = get()
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        data = urllib.parse.urlencode(fields | {"csrfmiddlewaretoken": csrf}).encode()
        req = urllib.request.Request(base, data=data, headers={"Referer": base})
        try:
            r = opener.open(req, timeout=5)
            return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    try:
        # nothing of the evidence server is served here
        for path in ("dashboard/", "accounts/login/", "api/docs", "notification/", "incidents/"):
            assert get(path)[0] == 404
        acc = sorted(w.tokens)
        wrong = post({"code": "not-a-code"})
        Notification.objects.filter(account=acc[2]).update(expires_at=timezone.now() - dt.timedelta(minutes=1))
        expired = post({"code": w.tokens[acc[2]]})
        assert wrong[0] == expired[0] == 404
        strip = re.compile(r'value="[^"]*"')
        assert strip.sub("", wrong[1]) == strip.sub("", expired[1])  # the same page, nothing learnt
        status, page = post({"code": w.tokens[acc[0]]})
        assert status == 200 and "2025-05-02 09:40" in page and "203.0.113.0/24" in page and acc[0] not in page
        status, page = post({"code": w.tokens[acc[0]], "answer": "not_me"})
        assert status == 200 and 'id="done"' in page
        assert Case.objects.get().account == acc[0] and Notification.objects.get(account=acc[0]).answered_via == "page"
        used = post({"code": w.tokens[acc[0]], "answer": "me"})
        assert used[0] == 404 and strip.sub("", used[1]) == strip.sub("", wrong[1])
        # rate limited per address
        settings.CONFIRM_RATE = "3/m"
        from django.core.cache import caches

        caches["ratelimit"].clear()
        codes = [get()[0] for _ in range(5)]
        assert codes[:3] == [200, 200, 200] and codes[3:] == [429, 429]
    finally:
        srv.shutdown()
        srv.server_close()


def test_gateway_settings_validate_and_show_the_secret_once(world):
    c = login_client(Client(), world.officer)
    r = c.post("/notification/settings/", {"channel": "webhook", "webhook_url": "ftp://x", "token_hours": 72,
                                            "follow_up_hours": 24, "max_attempts": 6})
    assert r.status_code == 400 and "http" in r.content.decode()
    r = c.post("/notification/settings/", {"channel": "webhook", "webhook_url": "http://127.0.0.1:9/x",
                                            "token_hours": 12, "follow_up_hours": 24, "max_attempts": 6})
    assert r.status_code == 400 and "shorter" in r.content.decode()
    r = c.post("/notification/settings/", {"channel": "webhook", "webhook_url": "http://127.0.0.1:9/x",
                                            "token_hours": 72, "follow_up_hours": 24, "max_attempts": 6})
    secret = world.a.notification_gateway.secret
    assert r.status_code == 200 and secret in r.content.decode()
    assert secret not in c.get("/notification/settings/").content.decode()
    assert login_client(Client(), world.officer_b).get("/notification/settings/").status_code == 200  # B's own
    assert login_client(Client(), world.regulator).get("/notification/settings/").status_code == 403
